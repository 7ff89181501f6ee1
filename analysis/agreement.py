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

Queries. On PostgreSQL: the codebook (two small ones), one GROUP BY over the project's units
in analysis_agreementunit (one row per dimension, item and record, kept equal to the labels by
triggers: see analysis.models) that counts units by (number of labels, the first and the second
annotator's label), and, only where some unit has more than two labels, two more over those
units alone. Elsewhere (SQLite for ``make run``) the portable ORM path: one GROUP BY over the
self-joined labels, one over the label counts per dimension, one for units coded by more than
two annotators. Both give the same rows; everything after is numpy on those aggregate rows.
The breakdowns (pair, batch, week, codebook version) add their keys to the GROUP BY and are
computed only when asked for.
"""

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction
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


@dataclass
class Counts:
    """What the statistics need from the database: pair rows of PAIR_FIELDS (batch, week and
    version None unless breakdowns were asked for), the per-unit category counts of units
    with more than two labels by dimension, and the labels without a partner by dimension."""

    pairs: list[tuple]
    crowded: dict[int, list[tuple]]
    unpaired: dict[int, int]


# --- Portable path (the ORM; SQLite) -------------------------------------------------------


def count_pairs(labels, *, breakdowns: bool = True) -> list[tuple]:
    """One GROUP BY over the self-join of labels on (item, record, dimension) with the first
    annotator's id below the second's: rows of PAIR_FIELDS."""
    pairs = labels.filter(
        item__annotations__annotator__gt=F("annotator"),
        item__annotations__labels__record=F("record"),
        item__annotations__labels__dimension=F("dimension"),
    )
    keys = ["dimension_id", "annotator_id", "item__annotations__annotator_id", "category_id",
            "item__annotations__labels__category_id"]  # fmt: skip
    if breakdowns:
        keys += [
            "item__batch",
            TruncWeek(Greatest("annotation__created_at", "item__annotations__created_at")),
            Greatest("annotation__codebook_version", "item__annotations__codebook_version"),
        ]
    rows = pairs.values_list(*keys).annotate(n=Count("id")).order_by()
    if breakdowns:
        return list(rows)
    return [(*row[:5], None, None, None, row[5]) for row in rows]


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


def _counts_orm(project, filters: dict, breakdowns: bool) -> Counts:
    labels = agreement_labels(project, **filters)
    pairs = count_pairs(labels, breakdowns=breakdowns)
    crowded = defaultdict(list)
    for dim_id, item_id, record, cat_id, n in crowded_unit_counts(project, labels):
        crowded[dim_id].append((item_id, record, cat_id, n))
    totals = dict(labels.values_list("dimension_id").annotate(n=Count("id")).order_by())
    paired = defaultdict(int)
    for row in pairs:
        paired[row[0]] += 2 * row[-1]
    unpaired = {
        dim: _unpaired(total, paired[dim], crowded.get(dim, [])) for dim, total in totals.items()
    }
    return Counts(pairs=pairs, crowded=dict(crowded), unpaired=unpaired)


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


# --- PostgreSQL path (raw SQL on analysis_agreementunit) ----------------------------------

# One row per unit, kept by triggers (see analysis.models.AgreementUnit): a unit's labels
# packed as annotator id << 32 | category id, so that lo and hi are the first and the
# second annotator's labels of a two-label unit (ids stay below 2**31).
UNIT_SQL = """
SELECT dimension_id, m, lo, hi{outer}, count(*) FROM analysis_agreementunit
WHERE dimension_id = ANY(%(dims)s){where}
GROUP BY 1, 2, 3, 4{group}
"""
UNIT_BREAKDOWN = ", batch, (date_trunc('week', at AT TIME ZONE %(tz)s))::date, version"

# Units with more than two labels: every pair of their annotators, and their category counts.
CROWDED_UNITS = """
WITH crowded AS (
    SELECT dimension_id, item_id, record FROM analysis_agreementunit
    WHERE dimension_id = ANY(%(dims)s) AND m > 2{where}
)"""
CROWDED_PAIRS_SQL = (
    CROWDED_UNITS
    + """
SELECT x.dimension_id, x.annotator_id, y.annotator_id, x.category_id, y.category_id{keys},
    count(*)
FROM crowded c
JOIN annotate_annotationlabel x
    ON x.dimension_id = c.dimension_id AND x.item_id = c.item_id AND x.record = c.record
JOIN annotate_annotationlabel y ON y.dimension_id = c.dimension_id AND y.item_id = c.item_id
    AND y.record = c.record AND y.annotator_id > x.annotator_id{joins}
GROUP BY 1, 2, 3, 4, 5{group}
"""
)
CROWDED_PAIRS_KEYS = (
    ", i.batch, (date_trunc('week', greatest(ax.created_at, ay.created_at) AT TIME ZONE "
    "%(tz)s))::date, greatest(ax.codebook_version, ay.codebook_version)"
)
CROWDED_PAIRS_JOINS = """
JOIN annotate_item i ON i.id = c.item_id
JOIN annotate_annotation ax ON ax.id = x.annotation_id
JOIN annotate_annotation ay ON ay.id = y.annotation_id"""
CROWDED_COUNTS_SQL = (
    CROWDED_UNITS
    + """
SELECT l.dimension_id, l.item_id, l.record, l.category_id, count(*) FROM crowded c
JOIN annotate_annotationlabel l
    ON l.dimension_id = c.dimension_id AND l.item_id = c.item_id AND l.record = c.record
GROUP BY 1, 2, 3, 4
"""
)
LOW_32 = (1 << 32) - 1


# Units stored but not what the labels say, or what the labels say but not stored.
UNITS_OUT_OF_SYNC_SQL = """
WITH cur AS (SELECT u.* FROM analysis_agreementunit u{scope_units}),
    src AS (SELECT * FROM analysis_unit_source{scope_source})
SELECT count(*) FROM cur FULL JOIN src USING (dimension_id, item_id, record)
WHERE (cur.m, cur.lo, cur.hi, cur.calibration, cur.discussed, cur.batch, cur.version, cur.at)
    IS DISTINCT FROM
    (src.m, src.lo, src.hi, src.calibration, src.discussed, src.batch, src.version, src.at)
"""


def _require_postgresql():
    if connection.vendor != "postgresql":
        raise RuntimeError("Agreement units are kept on PostgreSQL only.")


def units_out_of_sync(project=None) -> int:
    """How many units in analysis_agreementunit differ from what the labels say (0 when the
    triggers did their job), for one project or all. PostgreSQL only."""
    _require_postgresql()
    sql = UNITS_OUT_OF_SYNC_SQL.format(
        scope_units=" JOIN annotate_item i ON i.id = u.item_id AND i.project_id = %(project)s"
        if project
        else "",
        scope_source=" WHERE project_id = %(project)s" if project else "",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"project": getattr(project, "pk", None)})
        return cursor.fetchone()[0]


def rebuild_units(project=None) -> int:
    """Recompute the units of one project (or all) from the labels: after a bulk load with
    triggers off (``session_replication_role = replica``). Returns the units written.
    Takes no row locks: run it when nobody is labeling. PostgreSQL only."""
    _require_postgresql()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT analysis_rebuild_units(%s)", [getattr(project, "pk", None)])
        return cursor.fetchone()[0]


def _item_filters(filters: dict) -> str:
    where = ""
    if filters.get("exclude_calibration"):
        where += " AND NOT calibration"
    if filters.get("exclude_discussed"):
        where += " AND NOT discussed"
    return where


def _counts_sql(project, dimension_ids, filters: dict, breakdowns: bool) -> Counts:
    where = _item_filters(filters)
    sql = UNIT_SQL.format(
        outer=UNIT_BREAKDOWN if breakdowns else "",
        where=where,
        group=", 5, 6, 7" if breakdowns else "",
    )
    params = {"dims": list(dimension_ids), "project": project.pk, "tz": connection.timezone_name}
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # SET LOCAL, so for this transaction only: the hash table of every unit gets the
        # memory it needs instead of spilling to disk, and JIT compilation, which costs
        # more than it saves on this plan, is skipped.
        cursor.execute(
            "SELECT set_config('work_mem', '512MB', true), set_config('jit', 'off', true)"
        )
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    width = 8 if breakdowns else 5
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    dim, m, lo, hi, n = (np.array(columns[i], dtype=np.int64) for i in (0, 1, 2, 3, width - 1))
    unpaired = {int(d): int(n[(dim == d) & (m == 1)].sum()) for d in np.unique(dim)}
    two = np.flatnonzero(m == 2)
    pairs = list(
        zip(
            dim[two].tolist(), (lo[two] >> 32).tolist(), (hi[two] >> 32).tolist(),
            (lo[two] & LOW_32).tolist(), (hi[two] & LOW_32).tolist(),
            *([columns[i][j] for j in two] for i in (4, 5, 6)) if breakdowns else
            ([None] * len(two),) * 3,
            n[two].tolist(), strict=True,
        )
    )  # fmt: skip
    crowded = defaultdict(list)
    if (m > 2).any():
        pairs += _crowded_pairs_sql(params, where, breakdowns)
        with connection.cursor() as cursor:
            cursor.execute(CROWDED_COUNTS_SQL.format(where=where), params)
            for dim_id, item_id, record, cat_id, count in cursor.fetchall():
                crowded[dim_id].append((item_id, record, cat_id, count))
    return Counts(pairs=pairs, crowded=dict(crowded), unpaired=unpaired)


def _crowded_pairs_sql(params, where: str, breakdowns: bool) -> list[tuple]:
    sql = CROWDED_PAIRS_SQL.format(
        where=where,
        keys=CROWDED_PAIRS_KEYS if breakdowns else "",
        joins=CROWDED_PAIRS_JOINS if breakdowns else "",
        group=", 6, 7, 8" if breakdowns else "",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if breakdowns:
        return rows
    return [(*row[:5], None, None, None, row[5]) for row in rows]


def count_agreement(
    project,
    trees,
    *,
    exclude_calibration=False,
    exclude_discussed=False,
    breakdowns=True,
    portable=False,
) -> Counts:
    """The aggregate counts behind the report: raw SQL on PostgreSQL, the ORM elsewhere (or
    when ``portable``)."""  # fmt: skip
    filters = {"exclude_calibration": exclude_calibration, "exclude_discussed": exclude_discussed}
    if connection.vendor == "postgresql" and not portable:
        dims = [tree.dimension.pk for tree in trees.values()]
        return _counts_sql(project, dims, filters, breakdowns)
    return _counts_orm(project, filters, breakdowns)


# --- Statistics on the aggregate rows ------------------------------------------------------


class _Pairs:
    """The pair rows as numpy columns."""

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
        self.version = list(cols[7])
        self.n = np.array(cols[8], dtype=np.int64)


def _rollup(tree: DimensionTree, leaf_ids, level: int):
    """(ordered category ids at ``level``, the 0/1 matrix leaf index -> level index)."""
    ancestors = [tree.ancestor(int(c), level) for c in leaf_ids]
    ids = tree.ordered(ancestors)
    position = {cid: i for i, cid in enumerate(ids)}
    matrix = np.zeros((len(leaf_ids), len(ids)), dtype=np.int64)
    matrix[np.arange(len(leaf_ids)), [position[a] for a in ancestors]] = 1
    return ids, matrix


def _codes(values) -> tuple[list, np.ndarray]:
    """Distinct values in order (None last) and each row's index into them."""
    index: dict = {}
    raw = np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64, len(values))
    keys = sorted(index, key=lambda v: (v is None, v))
    remap = np.empty(len(index), dtype=np.int64)
    remap[[index[k] for k in keys]] = np.arange(len(keys))
    return keys, remap[raw] if len(raw) else raw


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


def _week_label(value) -> str:
    if value is None:
        return "(none)"
    year, week, _ = value.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class _Breakdown:
    """One breakdown of a dimension's pairs: its keys and the leaf tables per key."""

    name: str
    keys: list
    tables: np.ndarray  # keys x leaves x leaves


def _breakdowns(pairs: _Pairs, sel, ia, ib, k_leaf, several_pairs: bool) -> list[_Breakdown]:
    columns = {
        "batch": [pairs.batch[i] for i in sel],
        "week": [pairs.week[i] for i in sel],
        "version": [pairs.version[i] for i in sel],
    }
    if several_pairs:
        columns = {"pair": list(zip(pairs.a[sel].tolist(), pairs.b[sel].tolist(), strict=True)),
                   **columns}  # fmt: skip
    result = []
    for name, values in columns.items():
        keys, index = _codes(values)
        tables = np.zeros((len(keys), k_leaf, k_leaf), dtype=np.int64)
        np.add.at(tables, (index, ia, ib), pairs.n[sel])
        result.append(_Breakdown(name, keys, tables))
    return result


def build_agreement_report(
    *,
    project,
    exclude_calibration: bool = False,
    exclude_discussed: bool = False,
    breakdowns: bool = False,
    portable: bool = False,
) -> AgreementReport:
    """Agreement per dimension and level (1 .. full path) and per category; with
    ``breakdowns``, also per annotator pair and over time (calibration batch, ISO week,
    codebook version). ``portable`` forces the ORM path. Read-only."""  # fmt: skip
    trees = load_codebook(project)
    counts = count_agreement(
        project, trees, exclude_calibration=exclude_calibration,
        exclude_discussed=exclude_discussed, breakdowns=breakdowns, portable=portable,
    )  # fmt: skip
    pairs = _Pairs(counts.pairs)
    annotator_ids = np.unique(np.concatenate([pairs.a, pairs.b])).tolist()
    User = get_user_model()
    names = dict(User.objects.filter(pk__in=annotator_ids).values_list("pk", "username"))
    if project.hide_annotator_names:
        names = {pk: f"Annotator {i}" for i, pk in enumerate(annotator_ids, start=1)}

    dimensions = []
    rows = {"pair": [], "batch": [], "week": [], "version": []}
    for tree in trees.values():
        dim = tree.dimension
        sel = np.flatnonzero(pairs.dimension == dim.pk)
        leaf_ids, inverse = np.unique(
            np.concatenate([pairs.cat_a[sel], pairs.cat_b[sel]]), return_inverse=True
        )
        ia, ib = inverse[: len(sel)], inverse[len(sel) :]
        leaf = np.zeros((len(leaf_ids), len(leaf_ids)), dtype=np.int64)
        np.add.at(leaf, (ia, ib), pairs.n[sel])
        split = (
            _breakdowns(pairs, sel, ia, ib, len(leaf_ids), len(annotator_ids) > 2)
            if breakdowns
            else []
        )
        report = DimensionReport(key=dim.key, name=dim.name)
        for level in tree.levels():
            full = level == tree.depth
            ids, up = _rollup(tree, leaf_ids, level)
            table = up.T @ leaf @ up
            coincidence = metrics.pair_coincidence(table).astype(float)
            correction = _crowded_correction(tree, counts.crowded.get(dim.pk, []), ids, level)
            if correction is not None:
                coincidence = coincidence + correction
            summary = metrics.agreement_summary(table, coincidence)
            summary["unpaired"] = counts.unpaired.get(dim.pk, 0)
            report.levels.append(
                LevelReport(
                    level=level, full_path=full, summary=summary, ids=ids,
                    labels=[tree.paths[c] for c in ids], matrix=table.tolist(),
                    categories=_category_rows(table, ids, tree),
                )
            )  # fmt: skip
            common = {"dimension": dim.key, "level": level, "full_path": full}
            for part in split:
                for key, t in zip(part.keys, up.T @ part.tables @ up, strict=True):
                    rows[part.name].append(
                        {**common, **_breakdown_key(part.name, key, names),
                         **metrics.agreement_summary(t)}
                    )  # fmt: skip
        dimensions.append(report)
    return AgreementReport(
        dimensions=dimensions,
        annotators={pk: names.get(pk, str(pk)) for pk in annotator_ids},
        pairs=rows["pair"],
        by_batch=rows["batch"],
        by_week=rows["week"],
        by_version=rows["version"],
    )


def _breakdown_key(name: str, key, names: dict) -> dict:
    if name == "pair":
        a, b = key
        return {"annotator_a": names.get(a, str(a)), "annotator_b": names.get(b, str(b))}
    if name == "batch":
        return {"batch": key or "(none)"}
    if name == "week":
        return {"week": _week_label(key)}
    return {"codebook_version": key}
