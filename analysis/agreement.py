"""The agreement report: the annotators' own labels (AnnotationLabel), never the final ones,
paired per item, failure record and dimension; statistics from ``analysis.metrics``.

Record pairing (PAIRING): by content, with the very function adjudication uses
(``annotate.adjudication.align_records``): identical records first, then an optimal
matching that minimizes the dimensions the paired records disagree on. With more than two
annotators every in-scope annotation is aligned to the item's first one (oldest, as
adjudication orders sides); records left without a partner form units of their own.

Unpaired labels (UNPAIRED): by default (``missing``) a label whose record or dimension no
other in-scope annotator of the item has is a missing value, left out of every statistic
and counted as ``unpaired``. With ``unpaired="disagree"`` it is a disagreement against the
pseudo-category "(none)" of each in-scope annotator who lacks it.

Two more rows per report: ``scope`` (in or out of scope, over items with at least two
annotations) and ``record_count`` (the number of failure records of the in-scope
annotations, over items with at least two of them; linear weights).

Queries. On PostgreSQL most items are *simple*: every annotation in scope with one record,
exactly two labels per unit. Their units are counted by one GROUP BY over
analysis_agreementunit (kept equal to the labels by triggers, see analysis.models), where
position and content pairing coincide. The other items (a unit with a record past the
first or without exactly two labels, an annotation out of scope: a partial index finds
them) are read label by label and paired in Python per item. Elsewhere (SQLite for ``make
run``), or with ``portable``, every item takes the Python path. Both give the same rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from annotate.adjudication import align_records
from annotate.models import Annotation, AnnotationLabel

from . import metrics
from .codebook import DimensionTree, load_codebook

PAIRING = (
    "by content, as adjudication pairs them: identical records first, then an optimal "
    "matching (scipy's linear_sum_assignment) minimizing the dimensions paired records "
    "disagree on; with more than two annotators, each aligned to the item's first"
)
UNPAIRED = {
    "missing": "a label no other in-scope annotator of the item has is a missing value "
    "(left out, counted as unpaired)",
    "disagree": "a label no other in-scope annotator of the item has counts as a "
    "disagreement against (none)",
}
NONE = 0  # the pseudo-category "(none)" of unpaired="disagree"
NONE_LABEL = "(none)"
SCOPE, RECORDS = "scope", "record_count"
IN_SCOPE, OUT_OF_SCOPE = 1, 2
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
    scope: dict = field(default_factory=dict)
    record_count: dict = field(default_factory=dict)
    unpaired: str = "missing"
    record_pairing: str = PAIRING

    @property
    def unpaired_convention(self) -> str:
        return UNPAIRED[self.unpaired]

    def rows(self) -> list[dict]:
        """One row per dimension and level, then the scope and record-count rows: what the
        API returns (see the README's Analysis section for every key)."""
        rows = [
            {"dimension": d.key, "dimension_name": d.name, "level": lv.level,
             "full_path": lv.full_path, **lv.summary}
            for d in self.dimensions
            for lv in d.levels
        ]  # fmt: skip
        return rows + [row for row in (self.scope, self.record_count) if row]

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
class Unit:
    """One unit of one dimension: each rater's category (NONE for "(none)"), and the keys of
    the breakdowns."""

    item: int
    values: dict[int, int]
    batch: str | None = None
    week: object = None
    version: int | None = None


@dataclass
class Counts:
    """What the statistics need. ``simple``: per dimension, rows of PAIR_FIELDS counting
    units of simple items, each its own item. ``units``: per dimension, the units of the
    other items (paired in Python). ``unpaired``: labels without a partner per dimension.
    ``scope`` and ``records``: per item, each annotator's scope and number of records;
    ``simple_items``: simple items per annotator pair."""

    simple: dict[int, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    units: dict[int, list[Unit]] = field(default_factory=lambda: defaultdict(list))
    unpaired: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    scope: list[dict[int, int]] = field(default_factory=list)
    records: list[dict[int, int]] = field(default_factory=list)
    simple_items: dict[tuple, int] = field(default_factory=dict)


# --- Pairing items in Python (the portable path, and the PostgreSQL path's other items) ---


def _monday(at, zone):
    if at is None:
        return None
    day = at.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def pair_items(annotations, labels, counts: Counts, *, unpaired: str, breakdowns: bool) -> None:
    """Pair the records of each item's annotations by content and add the units, the
    unpaired labels and the scope and record-count ratings to ``counts``.

    ``annotations``: (item, annotation id, annotator, out of scope, created at, codebook
    version, batch); ``labels``: (item, annotator, record, dimension, category)."""
    zone = ZoneInfo(connection.timezone_name or "UTC")
    records: dict[tuple, dict[int, dict[int, int]]] = defaultdict(dict)
    for item_id, annotator, record, dim, category in labels:
        records[(item_id, annotator)].setdefault(record, {})[dim] = category
    by_item: dict[int, list] = defaultdict(list)
    for row in annotations:
        by_item[row[0]].append(row)
    for item_id, rows in by_item.items():
        rows.sort(key=lambda r: (r[4], r[1]))  # oldest first, as adjudication's sides
        if len(rows) >= 2:
            counts.scope.append({r[2]: OUT_OF_SCOPE if r[3] else IN_SCOPE for r in rows})
        sides = {}
        for _, _, annotator, out, at, version, batch in rows:
            given = records.get((item_id, annotator), {})
            if not out:
                sides[annotator] = ([given[k] for k in sorted(given)], at, version, batch)
        if len(sides) >= 2:
            counts.records.append({a: len(side[0]) for a, side in sides.items()})
        _item_units(item_id, sides, counts, unpaired=unpaired, zone=zone, breakdowns=breakdowns)


def _item_units(item_id, sides: dict, counts: Counts, *, unpaired, zone, breakdowns) -> None:
    if len(sides) < 2:
        for recs, *_ in sides.values():
            for record in recs:
                for dim in record:
                    counts.unpaired[dim] += 1
        return
    first, *others = list(sides)
    groups = [{first: i} for i in range(len(sides[first][0]))]
    for other in others:
        matched = align_records(sides[first][0], sides[other][0])
        for i, j in matched:
            groups[i][other] = j
        taken = {j for _, j in matched}
        groups += [{other: j} for j in range(len(sides[other][0])) if j not in taken]
    for group in groups:
        dims = {dim for a, r in group.items() for dim in sides[a][0][r]}
        for dim in dims:
            values = {a: sides[a][0][r][dim] for a, r in group.items() if dim in sides[a][0][r]}
            given = list(values)
            if unpaired == "disagree":
                values = {a: values.get(a, NONE) for a in sides}
            if len(values) < 2:
                counts.unpaired[dim] += len(values)
                continue
            unit = Unit(item=item_id, values=values)
            if breakdowns:
                unit.batch = sides[first][3]
                unit.week = _monday(max(sides[a][1] for a in given), zone)
                unit.version = max(sides[a][2] for a in given)
            counts.units[dim].append(unit)


def _python_items(project, filters, counts, *, unpaired, breakdowns, item_ids=None) -> None:
    """Every item of the project (or ``item_ids`` only) through ``pair_items``: two
    queries."""
    annotations = Annotation.objects.filter(item__project=project)
    labels = agreement_labels(project, **filters)
    if filters.get("exclude_calibration"):
        annotations = annotations.filter(item__calibration=False)
    if filters.get("exclude_discussed"):
        annotations = annotations.filter(item__discussed=False)
    if item_ids is not None:
        annotations = annotations.filter(item_id__in=item_ids)
        labels = labels.filter(item_id__in=item_ids)
    pair_items(
        annotations.values_list("item_id", "id", "annotator_id", "out_of_scope", "created_at",
                                "codebook_version", "item__batch").order_by(),
        labels.values_list("item_id", "annotator_id", "record", "dimension_id",
                           "category_id").order_by(),
        counts, unpaired=unpaired, breakdowns=breakdowns,
    )  # fmt: skip


# --- PostgreSQL path: simple items from analysis_agreementunit ----------------------------

# Items that are not simple: a unit with a record past the first or without exactly two
# labels (the partial index analysis_unit_not_simple), or an annotation out of scope (the
# partial index analysis_annotation_out_of_scope).
OTHER_ITEMS_SQL = """
SELECT item_id FROM analysis_agreementunit
WHERE dimension_id = ANY(%(dims)s) AND (record > 0 OR m <> 2){where}
UNION
SELECT a.item_id FROM annotate_annotation a JOIN annotate_item i ON i.id = a.item_id
WHERE a.out_of_scope AND i.project_id = %(project)s{item_where}
"""
# Units of simple items: a unit's labels packed as annotator id << 32 | category id, so lo
# and hi are the first and the second annotator's labels (ids stay below 2**31).
UNIT_SQL = """
SELECT dimension_id, lo, hi{outer}, count(*) FROM analysis_agreementunit
WHERE dimension_id = ANY(%(dims)s) AND m = 2 AND record = 0{where}{not_other}
GROUP BY 1, 2, 3{group}
"""
UNIT_BREAKDOWN = ", batch, (date_trunc('week', at AT TIME ZONE %(tz)s))::date, version"
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


def _item_filters(filters: dict, prefix: str = "") -> str:
    where = ""
    if filters.get("exclude_calibration"):
        where += f" AND NOT {prefix}calibration"
    if filters.get("exclude_discussed"):
        where += f" AND NOT {prefix}discussed"
    return where


def _counts_sql(project, dimension_ids, filters, *, unpaired, breakdowns) -> Counts:
    where = _item_filters(filters)
    params = {"dims": list(dimension_ids), "project": project.pk, "tz": connection.timezone_name}
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # SET LOCAL, so for this transaction only: the hash table of every unit gets the
        # memory it needs instead of spilling to disk, and JIT compilation, which costs
        # more than it saves on this plan, is skipped.
        cursor.execute(
            "SELECT set_config('work_mem', '512MB', true), set_config('jit', 'off', true)"
        )
        cursor.execute(
            OTHER_ITEMS_SQL.format(where=where, item_where=_item_filters(filters, "i.")), params
        )
        params["other"] = [row[0] for row in cursor.fetchall()]
        sql = UNIT_SQL.format(
            outer=UNIT_BREAKDOWN if breakdowns else "",
            where=where,
            # PostgreSQL 14+ hashes the array, so this costs little per unit.
            not_other=" AND NOT (item_id = ANY(%(other)s))" if params["other"] else "",
            group=", 4, 5, 6" if breakdowns else "",
        )
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts = Counts()
    for row in rows:
        dim, lo, hi, n = row[0], row[1], row[2], row[-1]
        keys = row[3:6] if breakdowns else (None, None, None)
        counts.simple[dim].append((lo >> 32, hi >> 32, lo & LOW_32, hi & LOW_32, *keys, n))
    per_pair: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for dim, rows_of_dim in counts.simple.items():
        for a, b, *_, n in rows_of_dim:
            per_pair[(a, b)][dim] += n
    # Each simple item has one unit per dimension its annotators labeled, so the dimension
    # with the most units holds all of a pair's items when some dimension is labeled on
    # every record (any required one).
    counts.simple_items = {pair: max(by_dim.values()) for pair, by_dim in per_pair.items()}
    if params["other"]:
        _python_items(project, filters, counts, unpaired=unpaired, breakdowns=breakdowns,
                      item_ids=params["other"])  # fmt: skip
    return counts


def count_agreement(
    project,
    trees,
    *,
    exclude_calibration=False,
    exclude_discussed=False,
    unpaired="missing",
    breakdowns=True,
    portable=False,
) -> Counts:
    """The counts behind the report: simple items by SQL and the rest paired in Python on
    PostgreSQL; every item in Python elsewhere (or when ``portable``)."""
    filters = {"exclude_calibration": exclude_calibration, "exclude_discussed": exclude_discussed}
    if connection.vendor == "postgresql" and not portable:
        dims = [tree.dimension.pk for tree in trees.values()]
        return _counts_sql(project, dims, filters, unpaired=unpaired, breakdowns=breakdowns)
    counts = Counts()
    _python_items(project, filters, counts, unpaired=unpaired, breakdowns=breakdowns)
    return counts


# --- Statistics ---------------------------------------------------------------------------


@dataclass
class _Simple:
    """Units of simple items as numpy columns (each unit its own item)."""

    a: np.ndarray
    b: np.ndarray
    ca: np.ndarray
    cb: np.ndarray
    n: np.ndarray
    keys: dict = field(default_factory=dict)  # breakdown name -> (values, code per row)

    @classmethod
    def of(cls, rows, breakdowns: bool) -> "_Simple":
        cols = list(zip(*rows, strict=True)) if rows else [()] * 8
        simple = cls(*(np.array(cols[i], dtype=np.int64) for i in (0, 1, 2, 3, 7)))
        if breakdowns:
            pair = list(zip(cols[0], cols[1], strict=True))
            for name, values in (("pair", pair), ("batch", cols[4]), ("week", cols[5]),
                                 ("version", cols[6])):  # fmt: skip
                simple.keys[name] = _codes(list(values))
        return simple

    def where(self, mask) -> "_Simple":
        return _Simple(self.a[mask], self.b[mask], self.ca[mask], self.cb[mask], self.n[mask])


def _codes(values) -> tuple[list, np.ndarray]:
    """Distinct values in order (None last) and each row's index into them."""
    index: dict = {}
    raw = np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64, len(values))
    keys = sorted(index, key=lambda v: (v is None, v))
    remap = np.empty(len(index), dtype=np.int64)
    remap[[index[k] for k in keys]] = np.arange(len(keys))
    return keys, remap[raw] if len(raw) else raw


def _ratings(simple: _Simple, units: list[Unit], position: dict, extra_pairs=None):
    """The Ratings of simple units (categories mapped by ``position``: id -> index) and of
    the other items' units (one type per item), with the rater pairs and raters seen."""
    k = max(position.values(), default=-1) + 1
    by_item: dict[int, list[Unit]] = defaultdict(list)
    for unit in units:
        by_item[unit.item].append(unit)
    # An item whose only unit has two ratings is a simple one: folded into the simple
    # columns, so that both paths resample the very same item types.
    single = [u[0] for u in by_item.values() if len(u) == 1 and len(u[0].values) == 2]
    if single:
        pairs = [sorted(u.values) for u in single]
        extra = {
            "a": [a for a, _ in pairs],
            "b": [b for _, b in pairs],
            "ca": [u.values[a] for u, (a, _) in zip(single, pairs, strict=True)],
            "cb": [u.values[b] for u, (_, b) in zip(single, pairs, strict=True)],
            "n": [1] * len(single),
        }
        simple = _Simple(
            *(np.concatenate([getattr(simple, name), values]).astype(np.int64)
              for name, values in extra.items())
        )  # fmt: skip
    by_item = {
        i: u for i, u in sorted(by_item.items()) if not (len(u) == 1 and len(u[0].values) == 2)
    }
    pair_keys = sorted(
        set(zip(simple.a.tolist(), simple.b.tolist(), strict=True))
        | {p for item in by_item.values() for u in item for p in _unit_pairs(u)}
        | set(extra_pairs or {})
    )
    pair_of = {p: i for i, p in enumerate(pair_keys)}
    known = np.array(sorted(position), dtype=np.int64)
    index_of = np.array([position[c] for c in known.tolist()], dtype=np.int64)

    def lookup(ids):
        return index_of[np.searchsorted(known, ids)] if len(ids) else ids

    pair_index = np.array([pair_of[p] for p in zip(simple.a.tolist(), simple.b.tolist(),
                                                    strict=True)], dtype=np.int64)  # fmt: skip
    i, j = lookup(simple.ca), lookup(simple.cb)
    key = (pair_index * k + i) * k + j
    distinct, inverse = np.unique(key, return_inverse=True)
    weights = [np.bincount(inverse, weights=simple.n, minlength=len(distinct))]
    t = np.arange(len(distinct))
    p, i, j = distinct // (k * k), distinct // k % k, distinct % k
    pair_cells = [[t, p, i, j, np.ones(len(t))]]
    co_cells = [[t, i, j, np.ones(len(t))], [t, j, i, np.ones(len(t))]]
    ms = {2} if len(distinct) else set()
    base = len(distinct)
    rows_p, rows_c = [], []
    for offset, item_units in enumerate(by_item.values()):
        type_id = base + offset
        for unit in item_units:
            raters = sorted(unit.values)
            ms.add(len(raters))
            cats = [position[unit.values[r]] for r in raters]
            for x in range(len(raters)):
                for y in range(x + 1, len(raters)):
                    pair = pair_of[(raters[x], raters[y])]
                    rows_p.append((type_id, pair, cats[x], cats[y], 1.0))
            vector = np.bincount(cats, minlength=k)
            o = metrics.unit_coincidence(vector)
            for ci, cj in zip(*np.nonzero(o), strict=True):
                rows_c.append((type_id, ci, cj, o[ci, cj]))
    if by_item:
        weights.append(np.ones(len(by_item)))
        if rows_p:
            pair_cells.append([np.array(c) for c in zip(*rows_p, strict=True)])
        if rows_c:
            co_cells.append([np.array(c) for c in zip(*rows_c, strict=True)])
    ratings = metrics.Ratings(
        k=k, pairs=max(len(pair_keys), 1), weight=np.concatenate(weights),
        pair_cells=tuple(np.concatenate(c) for c in zip(*pair_cells, strict=True)),
        coincidence_cells=tuple(np.concatenate(c) for c in zip(*co_cells, strict=True)),
        constant_m=len(ms) <= 1,
    )  # fmt: skip
    raters = {r for pair in pair_keys for r in pair}
    return ratings, pair_keys, raters


def _unit_pairs(unit: Unit):
    raters = sorted(unit.values)
    return [(raters[x], raters[y]) for x in range(len(raters)) for y in range(x + 1, len(raters))]


def _level_map(tree: DimensionTree, level: int, categories) -> tuple[list[int], dict]:
    """(category ids at ``level`` in codebook order, "(none)" last; leaf id -> index)."""
    up = {c: NONE if c == NONE else tree.ancestor(c, level) for c in categories}
    ids = tree.ordered(v for v in up.values() if v != NONE)
    if NONE in up.values():
        ids.append(NONE)
    index = {cid: i for i, cid in enumerate(ids)}
    return ids, {c: index[a] for c, a in up.items()}


def _path(tree, cid) -> str:
    return NONE_LABEL if cid == NONE else tree.paths[cid]


def _category_rows(table, ids, tree) -> list[dict]:
    involvement = metrics.disagreement_involvement(table)
    disagreements = int(table.sum() - np.trace(table))
    result = []
    for i, cid in enumerate(ids):
        ovr = metrics.cohens_kappa(metrics.one_vs_rest(table, i))
        result.append(
            {
                "category_id": cid,
                "category": _path(tree, cid),
                "count_a": int(table[i, :].sum()),
                "count_b": int(table[:, i].sum()),
                "agreed": int(table[i, i]),
                "kappa": ovr.kappa,
                "se": ovr.se,
                "ci_low": None if ovr.ci_low is None else max(ovr.ci_low, -1.0),
                "ci_high": None if ovr.ci_high is None else min(ovr.ci_high, 1.0),
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


def _row(ratings, raters, unpaired_count=None, weights=None, weighting="nominal",
         bootstrap_ci=True) -> dict:  # fmt: skip
    row = metrics.agreement_row(ratings, raters=len(raters), weights=weights,
                                weighting=weighting, bootstrap_ci=bootstrap_ci)  # fmt: skip
    if unpaired_count is not None:
        row["unpaired"] = unpaired_count
    return row


def _dimension(tree, counts: Counts, *, breakdowns: bool, names: dict, rows: dict):
    dim = tree.dimension
    simple = _Simple.of(counts.simple.get(dim.pk, []), breakdowns)
    units = counts.units.get(dim.pk, [])
    categories = set(simple.ca.tolist()) | set(simple.cb.tolist())
    categories |= {c for u in units for c in u.values.values()}
    report = DimensionReport(key=dim.key, name=dim.name)
    for level in tree.levels():
        full = level == tree.depth
        ids, position = _level_map(tree, level, categories)
        ratings, pair_keys, raters = _ratings(simple, units, position)
        table = ratings.pair_tables().sum(axis=0).astype(np.int64)
        summary = _row(ratings, raters, counts.unpaired.get(dim.pk, 0))
        report.levels.append(
            LevelReport(
                level=level, full_path=full, summary=summary, ids=ids,
                labels=[_path(tree, c) for c in ids], matrix=table.tolist(),
                categories=_category_rows(table, ids, tree),
            )
        )  # fmt: skip
        if breakdowns:
            common = {"dimension": dim.key, "level": level, "full_path": full}
            several = len({r for p in pair_keys for r in p}) > 2
            for name in ("pair", "batch", "week", "version") if several else (
                    "batch", "week", "version"):  # fmt: skip
                for key, part, part_units in _slices(simple, units, name):
                    r, _, seen = _ratings(part, part_units, position)
                    if r.items:
                        rows[name].append({**common, **_breakdown_key(name, key, names),
                                           **_row(r, seen, bootstrap_ci=False)})  # fmt: skip
    return report


def _slices(simple: _Simple, units: list[Unit], name: str):
    """(key, simple units, other units) per value of one breakdown."""
    values, code = simple.keys[name]
    by_key: dict = defaultdict(list)
    for unit in units:
        if name == "pair":
            for a, b in _unit_pairs(unit):
                pair = {a: unit.values[a], b: unit.values[b]}
                by_key[(a, b)].append(Unit(item=unit.item, values=pair))
        else:
            by_key[getattr(unit, name)].append(unit)
    keys = sorted(set(values) | set(by_key), key=lambda v: (v is None, v))
    lookup = {v: i for i, v in enumerate(values)}
    for key in keys:
        mask = code == lookup[key] if key in lookup else np.zeros(len(code), dtype=bool)
        yield key, simple.where(mask), by_key.get(key, [])


def _scope_and_records(counts: Counts) -> tuple[dict, dict]:
    simple = counts.simple_items
    scope = _item_ratings(counts.scope, [IN_SCOPE, OUT_OF_SCOPE], simple, IN_SCOPE)
    values = sorted(
        {v for item in counts.records for v in item.values()} | ({1} if simple else set())
    )
    levels = list(range(values[0], values[-1] + 1)) if values else []
    records = _item_ratings(counts.records, levels, simple, 1)
    scope_row = {"dimension": SCOPE, "dimension_name": "In or out of scope", "level": 1,
                 "full_path": True, **_row(*scope)}  # fmt: skip
    weights = metrics.linear_weights(len(levels))
    record_row = {"dimension": RECORDS, "dimension_name": "Number of failure records",
                  "level": 1, "full_path": True,
                  **_row(*records, weights=weights, weighting="linear")}  # fmt: skip
    return scope_row, record_row


def _item_ratings(items, categories, simple_items, simple_value):
    position = {c: i for i, c in enumerate(categories)}
    pairs = list(simple_items)
    simple = _Simple(
        a=np.array([a for a, _ in pairs], dtype=np.int64),
        b=np.array([b for _, b in pairs], dtype=np.int64),
        ca=np.full(len(pairs), simple_value, dtype=np.int64),
        cb=np.full(len(pairs), simple_value, dtype=np.int64),
        n=np.array(list(simple_items.values()), dtype=np.int64),
    )
    units = [Unit(item=i, values=values) for i, values in enumerate(items)]
    ratings, _, raters = _ratings(simple, units, position)
    return ratings, raters


def build_agreement_report(
    *,
    project,
    exclude_calibration: bool = False,
    exclude_discussed: bool = False,
    unpaired: str = "missing",
    breakdowns: bool = False,
    portable: bool = False,
) -> AgreementReport:
    """Agreement per dimension and level (1 .. full path) and per category, scope and the
    number of records; with ``breakdowns``, also per annotator pair and over time
    (calibration batch, ISO week, codebook version). ``unpaired``: "missing" (default) or
    "disagree" (see UNPAIRED). ``portable`` forces the Python path. Read-only."""
    if unpaired not in UNPAIRED:
        raise ValueError(f"unpaired must be one of {', '.join(UNPAIRED)}")
    trees = load_codebook(project)
    counts = count_agreement(
        project, trees, exclude_calibration=exclude_calibration,
        exclude_discussed=exclude_discussed, unpaired=unpaired, breakdowns=breakdowns,
        portable=portable,
    )  # fmt: skip
    annotator_ids = sorted(
        {a for rows in counts.simple.values() for row in rows for a in row[:2]}
        | {a for units in counts.units.values() for u in units for a in u.values}
        | {a for item in counts.scope for a in item}
    )
    User = get_user_model()
    names = dict(User.objects.filter(pk__in=annotator_ids).values_list("pk", "username"))
    if project.hide_annotator_names:
        names = {pk: f"Annotator {i}" for i, pk in enumerate(annotator_ids, start=1)}
    rows = {"pair": [], "batch": [], "week": [], "version": []}
    dimensions = [
        _dimension(tree, counts, breakdowns=breakdowns, names=names, rows=rows)
        for tree in trees.values()
    ]
    scope, record_count = _scope_and_records(counts)
    return AgreementReport(
        dimensions=dimensions,
        annotators={pk: names.get(pk, str(pk)) for pk in annotator_ids},
        pairs=rows["pair"],
        by_batch=rows["batch"],
        by_week=rows["week"],
        by_version=rows["version"],
        scope=scope,
        record_count=record_count,
        unpaired=unpaired,
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
