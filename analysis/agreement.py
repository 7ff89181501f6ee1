"""The agreement report: contingency tables counted by the database, statistics from
``analysis.metrics``.

Which labels: the annotators' own (AnnotationLabel), never the final labels.

Pairing rule: two annotators' labels form a pair when they share the item, the failure
record index and the dimension. An item whose annotations hold different numbers of failure
records pairs records 0..k-1 of the shorter with the same indices of the longer; the
longer annotation's extra records have no partner, are missing values for every statistic
(Krippendorff's alpha, too, skips units with a single value) and are counted as
``unpaired``. Out-of-scope annotations carry no labels and so pair with nothing.

With more than two annotators on a unit, Cohen's kappa, percent agreement and AC1 are
computed on the pooled table of every pair of annotators (the one with the smaller id as
"A"); Krippendorff's alpha weighs each unit's pairs by 1/(m_u - 1) as its definition says.
The breakdowns by pair, batch, week and codebook version use the pooled pairs alone.

Queries: one for the codebook (two small ones), one GROUP BY over the pairs, one over the
label counts per dimension, one for units coded by more than two annotators.
"""

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Count, F
from django.db.models.functions import Greatest, TruncWeek

from annotate.models import Annotation, AnnotationLabel

from . import metrics
from .codebook import DimensionTree, load_codebook

PAIR_FIELDS = ("dimension", "a", "b", "cat_a", "cat_b", "batch", "week", "version", "n")


@dataclass
class LevelReport:
    level: int
    full_path: bool
    summary: dict
    ids: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    matrix: list[list[int]] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)


@dataclass
class DimensionReport:
    key: str
    name: str
    levels: list[LevelReport] = field(default_factory=list)


@dataclass
class AgreementReport:
    dimensions: list[DimensionReport]
    annotators: dict[int, str]
    pairs: list[dict]
    by_batch: list[dict]
    by_week: list[dict]
    by_version: list[dict]

    def rows(self) -> list[dict]:
        """One row per dimension and level: what the API returns."""
        return [
            {"dimension": d.key, "dimension_name": d.name, "level": lv.level,
             "full_path": lv.full_path, **lv.summary}
            for d in self.dimensions
            for lv in d.levels
        ]  # fmt: skip

    def level(self, key: str, level: int) -> LevelReport | None:
        for d in self.dimensions:
            if d.key == key:
                return next((lv for lv in d.levels if lv.level == level), None)
        return None


def agreement_labels(
    project, *, exclude_calibration: bool = False, exclude_discussed: bool = False
):
    """The annotators' own labels in ``project``, optionally without calibration or
    discussed items."""
    labels = AnnotationLabel.objects.filter(item__project=project)
    if exclude_calibration:
        labels = labels.filter(item__calibration=False)
    if exclude_discussed:
        labels = labels.filter(item__discussed=False)
    return labels


def count_pairs(labels) -> np.ndarray:
    """One GROUP BY over the self-join of labels on (item, record, dimension) with the first
    annotator's id below the second's: rows of PAIR_FIELDS as an int64 array (week as an
    ordinal day, batch as an index into the returned batch names are handled by the caller)."""
    pairs = labels.filter(
        item__annotations__annotator__gt=F("annotator"),
        item__annotations__labels__record=F("record"),
        item__annotations__labels__dimension=F("dimension"),
    )
    return list(
        pairs.values_list(
            "dimension_id",
            "annotator_id",
            "item__annotations__annotator_id",
            "category_id",
            "item__annotations__labels__category_id",
            "item__batch",
            TruncWeek(Greatest("annotation__created_at", "item__annotations__created_at")),
            Greatest("annotation__codebook_version", "item__annotations__codebook_version"),
        )
        .annotate(n=Count("id"))
        .order_by()
    )


def crowded_unit_counts(project, labels) -> list[tuple]:
    """(dimension, item, record, category, n) for items with more than two annotations."""
    crowded = (
        Annotation.objects.filter(item__project=project)
        .values("item")
        .annotate(c=Count("id"))
        .filter(c__gt=2)
        .values("item")
    )
    return list(
        labels.filter(item__in=crowded)
        .values_list("dimension_id", "item_id", "record", "category_id")
        .annotate(n=Count("id"))
        .order_by()
    )


class _Pairs:
    """The pair rows as numpy columns, with per-level category indices."""

    def __init__(self, rows):
        self.count = len(rows)
        cols = list(zip(*rows, strict=True)) if rows else [()] * 9
        self.dimension = np.array(cols[0], dtype=np.int64)
        self.a = np.array(cols[1], dtype=np.int64)
        self.b = np.array(cols[2], dtype=np.int64)
        self.cat_a = np.array(cols[3], dtype=np.int64)
        self.cat_b = np.array(cols[4], dtype=np.int64)
        self.batch = list(cols[5])
        self.week = list(cols[6])
        self.version = np.array(cols[7], dtype=np.int64)
        self.n = np.array(cols[8], dtype=np.int64)


def _level_index(tree: DimensionTree, cats: np.ndarray, level: int):
    """Map category ids to ancestors at ``level``: (ordered ancestor ids, index per row)."""
    unique, inverse = np.unique(cats, return_inverse=True)
    ancestors = np.array([tree.ancestor(int(c), level) for c in unique], dtype=np.int64)
    ids = tree.ordered(ancestors.tolist())
    position = {cid: i for i, cid in enumerate(ids)}
    mapped = np.array([position[a] for a in ancestors], dtype=np.int64)
    return ids, mapped[inverse] if len(inverse) else inverse


def _square(ia, ib, n, k) -> np.ndarray:
    table = np.zeros((k, k), dtype=np.int64)
    np.add.at(table, (ia, ib), n)
    return table


def _crowded_correction(tree, rows, ids, level) -> np.ndarray | None:
    """Alpha's coincidence correction for units with more than two values: their pairs
    enter the pooled table with weight 1, the definition wants 1/(m_u - 1)."""
    if not rows:
        return None
    position = {cid: i for i, cid in enumerate(ids)}
    units: dict[tuple, np.ndarray] = {}
    for item_id, record, category_id, n in rows:
        vector = units.setdefault((item_id, record), np.zeros(len(ids)))
        ancestor = tree.ancestor(category_id, level)
        if ancestor in position:
            vector[position[ancestor]] += n
    counts = np.array([v for v in units.values() if v.sum() > 2])
    if counts.size == 0:
        return None
    m = counts.sum(axis=1)
    weighted = counts * (1.0 / (m - 1.0) - 1.0)[:, None]
    return weighted.T @ counts - np.diag(weighted.sum(axis=0))


def _category_rows(table, ids, tree) -> list[dict]:
    involvement = metrics.disagreement_involvement(table)
    disagreements = int(table.sum() - np.trace(table))
    result = []
    for i, cid in enumerate(ids):
        ovr = metrics.cohens_kappa(metrics.one_vs_rest(table, i))
        result.append(
            {
                "category_id": cid,
                "category": tree.paths[cid],
                "count_a": int(table[i, :].sum()),
                "count_b": int(table[:, i].sum()),
                "agreed": int(table[i, i]),
                "kappa": ovr.kappa,
                "se": ovr.se,
                "ci_low": ovr.ci_low,
                "ci_high": ovr.ci_high,
                "undefined": ovr.undefined,
                "disagreements": int(involvement[i]),
                "disagreement_share": (involvement[i] / disagreements) if disagreements else None,
            }
        )
    return result


def _breakdown(pairs, mask, keys, ia, ib, k) -> list[tuple]:
    """Pair tables per distinct value of ``keys`` (a list aligned with the pair rows)."""
    groups: dict = defaultdict(list)
    for row in np.flatnonzero(mask):
        groups[keys[row]].append(row)
    result = []
    for key in sorted(groups, key=lambda v: (v is None, v)):
        rows = np.array(groups[key])
        result.append((key, _square(ia[rows], ib[rows], pairs.n[rows], k)))
    return result


def _week_label(value) -> str:
    if value is None:
        return "(none)"
    year, week, _ = value.isocalendar()
    return f"{year}-W{week:02d}"


def build_agreement_report(
    *, project, exclude_calibration: bool = False, exclude_discussed: bool = False
) -> AgreementReport:
    """Agreement per dimension and level (1 .. full path), per category, per annotator pair,
    and over time (calibration batch, ISO week, codebook version). Read-only."""
    trees = load_codebook(project)
    labels = agreement_labels(
        project, exclude_calibration=exclude_calibration, exclude_discussed=exclude_discussed
    )
    pairs = _Pairs(count_pairs(labels))
    crowded = defaultdict(list)
    for dim_id, item_id, record, cat_id, n in crowded_unit_counts(project, labels):
        crowded[dim_id].append((item_id, record, cat_id, n))
    label_totals = dict(labels.values_list("dimension_id").annotate(n=Count("id")).order_by())

    annotator_ids = sorted(set(pairs.a.tolist()) | set(pairs.b.tolist()))
    User = get_user_model()
    names = dict(User.objects.filter(pk__in=annotator_ids).values_list("pk", "username"))
    if project.hide_annotator_names:
        names = {pk: f"Annotator {i}" for i, pk in enumerate(annotator_ids, start=1)}

    dimensions, pair_rows, batch_rows, week_rows, version_rows = [], [], [], [], []
    weeks = [_week_label(w) for w in pairs.week]
    versions = pairs.version.tolist()
    pair_keys = list(zip(pairs.a.tolist(), pairs.b.tolist(), strict=True))
    for tree in trees.values():
        dim = tree.dimension
        mask = pairs.dimension == dim.pk
        report = DimensionReport(key=dim.key, name=dim.name)
        paired_labels = 2 * int(pairs.n[mask].sum())
        for level in tree.levels():
            full = level == tree.depth
            sel = np.flatnonzero(mask)
            ids, index = _level_index(
                tree, np.concatenate([pairs.cat_a[sel], pairs.cat_b[sel]]), level
            )
            ia_sel, ib_sel = index[: len(sel)], index[len(sel) :]
            k = len(ids)
            table = _square(ia_sel, ib_sel, pairs.n[sel], k)
            coincidence = metrics.pair_coincidence(table).astype(float)
            correction = _crowded_correction(tree, crowded.get(dim.pk, []), ids, level)
            if correction is not None:
                coincidence = coincidence + correction
            summary = metrics.agreement_summary(table, coincidence)
            summary["unpaired"] = _unpaired(
                label_totals.get(dim.pk, 0), paired_labels, crowded.get(dim.pk, [])
            )
            report.levels.append(
                LevelReport(
                    level=level,
                    full_path=full,
                    summary=summary,
                    ids=ids,
                    labels=[tree.paths[c] for c in ids],
                    matrix=table.tolist(),
                    categories=_category_rows(table, ids, tree),
                )
            )
            # Breakdowns need indices aligned with every pair row, not only this dimension's.
            ia = np.zeros(pairs.count, dtype=np.int64)
            ib = np.zeros(pairs.count, dtype=np.int64)
            ia[sel], ib[sel] = ia_sel, ib_sel
            common = {"dimension": dim.key, "level": level, "full_path": full}
            if len(annotator_ids) > 2:
                for (a, b), t in _breakdown(pairs, mask, pair_keys, ia, ib, k):
                    pair_rows.append(
                        {**common, "annotator_a": names.get(a, str(a)),
                         "annotator_b": names.get(b, str(b)), **metrics.agreement_summary(t)}
                    )  # fmt: skip
            for batch, t in _breakdown(pairs, mask, pairs.batch, ia, ib, k):
                batch_rows.append(
                    {**common, "batch": batch or "(none)", **metrics.agreement_summary(t)}
                )
            for week, t in _breakdown(pairs, mask, weeks, ia, ib, k):
                week_rows.append({**common, "week": week, **metrics.agreement_summary(t)})
            for version, t in _breakdown(pairs, mask, versions, ia, ib, k):
                version_rows.append(
                    {**common, "codebook_version": version, **metrics.agreement_summary(t)}
                )
        dimensions.append(report)
    return AgreementReport(
        dimensions=dimensions,
        annotators={pk: names.get(pk, str(pk)) for pk in annotator_ids},
        pairs=pair_rows,
        by_batch=batch_rows,
        by_week=week_rows,
        by_version=version_rows,
    )


def _unpaired(total: int, paired_in_pairs: int, crowded_rows) -> int:
    """Labels with no partner. Pair rows count each label once per partner; a unit with m
    values holds m labels but m(m-1)/2 pairs, so crowded units are counted separately."""
    if not crowded_rows:
        return max(total - paired_in_pairs, 0)
    per_unit: dict[tuple, int] = defaultdict(int)
    for item_id, record, _cat, n in crowded_rows:
        per_unit[(item_id, record)] += n
    pair_labels_in_crowded = sum(m * (m - 1) for m in per_unit.values() if m >= 2)
    labels_in_crowded = sum(m for m in per_unit.values() if m >= 2)
    return max(total - (paired_in_pairs - pair_labels_in_crowded + labels_in_crowded), 0)
