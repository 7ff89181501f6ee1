"""Saturation of a codebook: new categories per batch of items and the stopping rule of
Guest, Namey & Chen (2020), "A simple method to assess and report thematic saturation in
qualitative research" (PLoS ONE 15(5): e0232076). Django-free.

Their rule, with batches of items in place of interviews: the *base* is the first
``base`` batches and the number of distinct codes found in it; a *run* is ``run``
consecutive batches after the base, rolled forward one batch at a time; the new
information of a run is the number of codes first seen in it over the number of codes in
the base. Saturation is reached at the end of the material before the first run whose new
information is at or below the threshold (they propose a base of 4, runs of 2 or 3 and
thresholds of 5% or 0%)."""

from dataclasses import asdict, dataclass, field


class SaturationError(ValueError):
    """Rule parameters the rule cannot use; the message names the parameter."""


@dataclass
class Run:
    start: int  # 1-based batch numbers, inclusive
    end: int
    new: int
    share: float


@dataclass
class Verdict:
    base: int
    run: int
    threshold: float
    base_codes: int = 0
    saturated: bool = False
    at_batch: int | None = None  # the batch after which no more (or little) new came
    runs: list[Run] = field(default_factory=list)
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def new_per_batch(first_batches, batches: int) -> list[int]:
    """How many codes first appeared in each of ``batches`` batches, given each code's first
    batch (1-based)."""
    counts = [0] * batches
    for batch in first_batches:
        if 1 <= batch <= batches:
            counts[batch - 1] += 1
    return counts


def stopping_rule(new_counts: list[int], *, base: int = 4, run: int = 2,
                  threshold: float = 0.05) -> Verdict:  # fmt: skip
    """Guest, Namey & Chen's (2020) verdict over ``new_counts`` (new codes per batch, in
    order)."""
    if base < 1 or run < 1:
        raise SaturationError("base and run must be at least 1 batch.")
    if not 0 <= threshold < 1:
        raise SaturationError("threshold must be at least 0 and below 1.")
    verdict = Verdict(base=base, run=run, threshold=threshold)
    if len(new_counts) < base + run:
        verdict.reason = (
            f"{len(new_counts)} batch(es) so far; the rule needs the base ({base}) and one "
            f"run ({run}): {base + run}."
        )
        return verdict
    verdict.base_codes = sum(new_counts[:base])
    if verdict.base_codes == 0:
        verdict.reason = "no codes in the base, so new information has no denominator."
        return verdict
    for start in range(base, len(new_counts) - run + 1):
        new = sum(new_counts[start : start + run])
        share = new / verdict.base_codes
        verdict.runs.append(Run(start + 1, start + run, new, share))
        if share <= threshold + 1e-12:
            verdict.saturated = True
            verdict.at_batch = start
            verdict.reason = (
                f"batches {start + 1}-{start + run} added {new} new code(s), "
                f"{share:.1%} of the {verdict.base_codes} in the base, at or below "
                f"{threshold:.0%}: saturation after batch {start}."
            )
            return verdict
    last = verdict.runs[-1]
    verdict.reason = (
        f"every run added more than {threshold:.0%} of the base's {verdict.base_codes} "
        f"codes; the last (batches {last.start}-{last.end}) added {last.new} ({last.share:.1%})."
    )
    return verdict
