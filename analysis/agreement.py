"""The agreement report: the annotators' own labels (AnnotationLabel), never the final ones,
paired per item, failure record and dimension; statistics from ``analysis.metrics``. An
annotation whose item went to discussion counts as it was frozen then (AnnotationRound 1):
the revised labels were made after seeing the other coders' and are not independent.

Record pairing (PAIRING): by content, with the very function adjudication uses
(``annotate.adjudication.comparison.align_records``): identical records first, then an optimal
matching that minimizes the dimensions the paired records disagree on. With more than two
annotators every in-scope annotation, oldest first (as adjudication orders sides), is
aligned to the records paired so far (each group by its oldest record), so a record the
first annotation lacks still pairs with its like; records left without a partner form
units of their own.

Unpaired labels (UNPAIRED): by default (``missing``) a label whose record or dimension no
other in-scope annotator of the item has is a missing value, left out of every statistic
and counted as ``unpaired``. With ``unpaired="disagree"`` it is a disagreement against the
pseudo-category "(none)" of each in-scope annotator who lacks it.

Two more rows per report: ``scope`` (in or out of scope, over items with at least two
annotations) and ``record_count`` (the number of failure records of the in-scope
annotations, over items with at least two of them; linear weights).

The counting and the pairing live in ``analysis.agreement_counts``; this module turns
their counts into statistics (``analysis.metrics``).
"""

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from annotate.access import report_names

from . import metrics
from .agreement_counts import (  # noqa: F401 - rebuild_units, units_out_of_sync: re-exported
    IN_SCOPE,
    NONE,
    OUT_OF_SCOPE,
    Counts,
    Unit,
    agreement_labels,
    count_agreement,
    rebuild_units,
    units_out_of_sync,
)
from .codebook import DimensionTree, load_codebook

PAIRING = (
    "by content, as adjudication pairs them: identical records first, then an optimal "
    "matching (scipy's linear_sum_assignment) minimizing the dimensions paired records "
    "disagree on; with more than two annotators, each aligned to the records paired so far"
)
UNPAIRED = {
    "missing": "a label no other in-scope annotator of the item has is a missing value "
    "(left out, counted as unpaired)",
    "disagree": "a label no other in-scope annotator of the item has counts as a "
    "disagreement against (none)",
}
NONE_LABEL = "(none)"
SCOPE, RECORDS = "scope", "record_count"


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
    rows_p, rows_c, rows_g = [], [], []
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
                rows_g.append((type_id, ci, cj, o[ci, cj] / len(raters)))
    # Gwet's weighting: a simple unit's two coincidences over m = 2.
    gwet_cells = [[t, i, j, np.full(len(t), 0.5)], [t, j, i, np.full(len(t), 0.5)]]
    if by_item:
        weights.append(np.ones(len(by_item)))
        if rows_p:
            pair_cells.append([np.array(c) for c in zip(*rows_p, strict=True)])
        if rows_c:
            co_cells.append([np.array(c) for c in zip(*rows_c, strict=True)])
            gwet_cells.append([np.array(c) for c in zip(*rows_g, strict=True)])
    ratings = metrics.Ratings(
        k=k, pairs=max(len(pair_keys), 1), weight=np.concatenate(weights),
        pair_cells=tuple(np.concatenate(c) for c in zip(*pair_cells, strict=True)),
        coincidence_cells=tuple(np.concatenate(c) for c in zip(*co_cells, strict=True)),
        constant_m=len(ms) <= 1,
        gwet_cells=tuple(np.concatenate(c) for c in zip(*gwet_cells, strict=True)),
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
        # A standard error of 0 (a perfect or perfectly opposed 2 x 2 of a few units) gives
        # no interval, as in the summary rows: not a zero-width [k, k].
        degenerate = ovr.kappa is not None and not ovr.se
        result.append(
            {
                "category_id": cid,
                "category": _path(tree, cid),
                "count_a": int(table[i, :].sum()),
                "count_b": int(table[:, i].sum()),
                "agreed": int(table[i, i]),
                "kappa": ovr.kappa,
                "se": ovr.se,
                "ci_low": None if ovr.ci_low is None or degenerate else max(ovr.ci_low, -1.0),
                "ci_high": None if ovr.ci_high is None or degenerate else min(ovr.ci_high, 1.0),
                "undefined": ovr.undefined,
                "ci_undefined": metrics.NO_INTERVAL if degenerate else None,
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
    versions: tuple[int, int] | None = None,
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
        portable=portable, versions=versions,
    )  # fmt: skip
    annotator_ids = sorted(
        {a for rows in counts.simple.values() for row in rows for a in row[:2]}
        | {a for units in counts.units.values() for u in units for a in u.values}
        | {a for item in counts.scope for a in item}
    )
    names = report_names(project, annotator_ids)
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
