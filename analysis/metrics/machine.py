"""Statistics of a machine rater beside the humans (issue #18), Django-free.

- Agreement of two raters on paired units: percent agreement and Cohen's (1960) kappa
  (kappa.cohens_kappa, with its Fleiss-Cohen-Everitt standard error).
- Run-to-run agreement of one rater over k runs: Fleiss' (1971) kappa over the units every
  run labeled (k >= 2), and the share of units on which all runs chose alike.
- Per-category bias: the rater's share of a category divided by its share in the final
  labels over the same units (1 = no bias; > 1 over-predicts). Undefined where the
  final share is 0.
- Delegation curve (after Ahmed et al. 2025, "Can LLMs replace manual annotation of
  software engineering artifacts?"): for each confidence threshold t, the share of units
  whose confidence is >= t and the rater's accuracy against the final labels on them,
  with its Wilson (1927) interval.
"""

from __future__ import annotations

import numpy as np

from .intervals import wilson_interval
from .kappa import cohens_kappa, fleiss_kappa, percent_agreement

THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def pair_table(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, list[int]]:
    """The square agreement table of (a, b) category pairs, over the categories used."""
    categories = sorted({c for pair in pairs for c in pair})
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)))
    for a, b in pairs:
        table[index[a], index[b]] += 1
    return table, categories


def pair_agreement(pairs: list[tuple[int, int]]) -> dict:
    """n, percent agreement and Cohen's kappa (or why undefined) of paired categories."""
    if not pairs:
        return {
            "n": 0,
            "percent_agreement": None,
            "kappa": None,
            "ci_low": None,
            "ci_high": None,
            "undefined": "no paired units",
        }
    table, _ = pair_table(pairs)
    kappa = cohens_kappa(table)
    low, high = kappa.ci_low, kappa.ci_high
    return {
        "n": len(pairs),
        "percent_agreement": percent_agreement(table).value,
        "kappa": kappa.kappa,
        "ci_low": None if low is None else max(-1.0, low),
        "ci_high": None if high is None else min(1.0, high),
        "undefined": kappa.undefined,
    }


def run_stability(units: list[list[int]]) -> dict:
    """Fleiss' kappa and the all-alike share over units each labeled by the same k >= 2
    runs (`units`: per unit, the k runs' categories)."""
    if not units or len(units[0]) < 2:
        return {
            "n": len(units),
            "runs": len(units[0]) if units else 0,
            "fleiss_kappa": None,
            "all_alike": None,
            "undefined": "fewer than two runs",
        }
    categories = sorted({c for unit in units for c in unit})
    index = {c: i for i, c in enumerate(categories)}
    counts = np.zeros((len(units), len(categories)))
    for row, unit in enumerate(units):
        for category in unit:
            counts[row, index[category]] += 1
    kappa = fleiss_kappa(counts)
    alike = float(np.mean([len(set(unit)) == 1 for unit in units]))
    return {
        "n": len(units),
        "runs": len(units[0]),
        "fleiss_kappa": kappa.value,
        "all_alike": alike,
        "undefined": kappa.undefined,
    }


def category_bias(pairs: list[tuple[int, int]]) -> dict[int, dict]:
    """Per category: the rater's share, the final share over the same units, and their
    ratio (None where the final share is 0). `pairs` are (rater, final) categories."""
    n = len(pairs)
    if n == 0:
        return {}
    predicted: dict[int, int] = {}
    final: dict[int, int] = {}
    for machine, truth in pairs:
        predicted[machine] = predicted.get(machine, 0) + 1
        final[truth] = final.get(truth, 0) + 1
    rows = {}
    for category in set(predicted) | set(final):
        p, f = predicted.get(category, 0) / n, final.get(category, 0) / n
        rows[category] = {"predicted_share": p, "final_share": f, "ratio": p / f if f > 0 else None}
    return rows


def delegation_curve(
    confidence: list[float], correct: list[bool], thresholds=THRESHOLDS
) -> list[dict]:
    """For each threshold: the units at or above it (count and share of all) and the
    rater's accuracy on them with its Wilson 95% interval."""
    conf = np.asarray(confidence, dtype=float)
    hits = np.asarray(correct, dtype=bool)
    total = len(conf)
    points = []
    for threshold in thresholds:
        above = conf >= threshold
        n = int(above.sum())
        right = int(hits[above].sum())
        low, high = wilson_interval(right, n)
        points.append(
            {
                "threshold": threshold,
                "n": n,
                "share": n / total if total else None,
                "accuracy": right / n if n else None,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return points
