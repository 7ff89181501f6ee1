"""What the agreement report counts, and how records are paired: the annotators' own labels
(AnnotationLabel), never the final ones. See ``analysis.agreement`` for the statistics.

Queries. On PostgreSQL most items are *simple*: every annotation in scope with one record,
exactly two labels per unit. Their units are counted by one GROUP BY over
analysis_agreementunit (kept equal to the labels by triggers, see analysis.models), where
position and content pairing coincide. The other items (a unit with a record past the
first or without exactly two labels, an annotation out of scope: partial indexes find
them) are read label by label and paired in Python per item, with the very function
adjudication uses (``annotate.adjudication.comparison.align_records``). Elsewhere (SQLite for ``make
run``), or with ``portable``, every item takes the Python path. Both give the same rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max

from annotate.access import project_rows
from annotate.adjudication.comparison import align_records
from annotate.models import Annotation, AnnotationLabel, AnnotationRound, AnnotationRoundLabel
from annotate.records import LabelRow, as_ids

NONE = 0  # the pseudo-category "(none)" of unpaired="disagree"
IN_SCOPE, OUT_OF_SCOPE = 1, 2


def agreement_labels(
    project, *, exclude_calibration: bool = False, exclude_discussed: bool = False
):
    """The annotators' own labels in ``project``, optionally without calibration or
    discussed items."""
    labels = project_rows(AnnotationLabel, project)
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
    """What the statistics need. ``simple``: per dimension, rows of (dimension, a, b,
    cat_a, cat_b, batch, week, version, n) counting units of simple items, each its own
    item. ``units``: per dimension, the units of the other items (paired in Python).
    ``unpaired``: labels without a partner per dimension. ``scope`` and ``records``: per
    item, each annotator's scope and number of records; ``simple_items``: simple items per
    annotator pair."""

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
    by_side: dict[tuple, list[LabelRow]] = defaultdict(list)
    for item_id, annotator, record, dim, category in labels:
        by_side[(item_id, annotator)].append(LabelRow(record, dim, category))
    by_item: dict[int, list] = defaultdict(list)
    for row in annotations:
        by_item[row[0]].append(row)
    # In item order, not the order the (unordered) query returned rows in: the scope and
    # record-count rows identify items by position, and the seeded bootstrap's draws
    # follow it, so another row order would give other intervals for the same data.
    for item_id, rows in sorted(by_item.items()):
        rows.sort(key=lambda r: (r[4], r[1]))  # oldest first, as adjudication's sides
        if len(rows) >= 2:
            counts.scope.append({r[2]: OUT_OF_SCOPE if r[3] else IN_SCOPE for r in rows})
        sides = {}
        for _, _, annotator, out, at, version, batch in rows:
            if not out:
                given = as_ids(by_side.get((item_id, annotator), ()))
                sides[annotator] = (given, at, version, batch)
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
        # Aligned to every group so far, not to the first annotation alone: a record the
        # first annotator lacks but an earlier annotator gave is still paired by content
        # (each group stands for its earliest member's record), so the units do not
        # depend on which annotation happens to be the oldest.
        anchors = [next(iter(group.items())) for group in groups]
        matched = align_records([sides[a][0][r] for a, r in anchors], sides[other][0])
        for g, j in matched:
            groups[g][other] = j
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
    queries.

    An annotation frozen when its item went to discussion counts as it stood then (its
    first round, AnnotationRound 1): what its coder chose alone. Its current labels were
    revised after seeing the other coders' and are not independent ratings."""
    annotations = project_rows(Annotation, project)
    rounds = project_rows(AnnotationRound, project).filter(round=1)
    labels = agreement_labels(
        project, exclude_calibration=filters.get("exclude_calibration", False),
        exclude_discussed=filters.get("exclude_discussed", False),
    )  # fmt: skip
    round_labels = project_rows(AnnotationRoundLabel, project).filter(snapshot__round=1)
    if filters.get("versions"):
        low, high = filters["versions"]
        latest = (
            project_rows(Annotation, project)
            .values("item_id")
            .annotate(latest=Max("codebook_version"))
            .filter(latest__gte=low, latest__lt=high)
            .values("item_id")
        )
        annotations = annotations.filter(item_id__in=latest)
        rounds = rounds.filter(item_id__in=latest)
        labels = labels.filter(item_id__in=latest)
        round_labels = round_labels.filter(item_id__in=latest)
    for key, flag in (("exclude_calibration", "calibration"), ("exclude_discussed", "discussed")):
        if filters.get(key):
            annotations = annotations.filter(**{f"item__{flag}": False})
            rounds = rounds.filter(**{f"item__{flag}": False})
            round_labels = round_labels.filter(**{f"item__{flag}": False})
    if item_ids is not None:
        annotations = annotations.filter(item_id__in=item_ids)
        rounds = rounds.filter(item_id__in=item_ids)
        labels = labels.filter(item_id__in=item_ids)
        round_labels = round_labels.filter(item_id__in=item_ids)
    annotations = annotations.exclude(rounds__round=1).values_list(
        "item_id", "id", "annotator_id", "out_of_scope", "created_at", "codebook_version",
        "item__batch")  # fmt: skip
    rounds = rounds.values_list(
        "item_id", "annotation_id", "annotator_id", "out_of_scope", "annotation__created_at",
        "codebook_version", "item__batch")  # fmt: skip
    fields = ("item_id", "annotator_id", "record", "dimension_id", "category_id")
    labels = labels.exclude(annotation__rounds__round=1).values_list(*fields)
    pair_items(
        annotations.order_by().union(rounds.order_by(), all=True),
        labels.order_by().union(round_labels.values_list(*fields).order_by(), all=True),
        counts, unpaired=unpaired, breakdowns=breakdowns,
    )  # fmt: skip


# --- PostgreSQL path: simple items from analysis_agreementunit ----------------------------

# Items that are not simple: a unit with a record past the first or without exactly two
# labels (the partial index analysis_unit_not_simple), an annotation out of scope (the
# partial index analysis_annotation_out_of_scope), or an item that went to discussion (its
# first, independent round is read instead of the revised labels the units hold).
OTHER_ITEMS_SQL = """
SELECT item_id FROM analysis_agreementunit
WHERE dimension_id = ANY(%(dims)s) AND (record > 0 OR m <> 2){where}
UNION
SELECT a.item_id FROM annotate_annotation a JOIN annotate_item i ON i.id = a.item_id
WHERE a.out_of_scope AND i.project_id = %(project)s{item_where}
UNION
SELECT r.item_id FROM annotate_annotationround r JOIN annotate_item i ON i.id = r.item_id
WHERE r.round = 1 AND i.project_id = %(project)s{item_where}
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
# Appended to UNIT_SQL (one statement): simple items per annotator pair for the scope and
# record-count rows, as rows with no dimension. Counted as distinct items, since a dimension
# that is not required may be missing from some items (the most units of any one
# dimension would undercount them).
ITEMS_SQL = """
UNION ALL
SELECT NULL::bigint, lo >> 32, hi >> 32{outer}, count(DISTINCT item_id)
FROM analysis_agreementunit
WHERE dimension_id = ANY(%(dims)s) AND m = 2 AND record = 0{where}{not_other}
GROUP BY 2, 3
"""
ITEMS_BREAKDOWN = ", NULL::varchar, NULL::date, NULL::integer"

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
    triggers off (``session_replication_role = replica``). Returns how many units it
    changed (missing, differing or stale; a table that is already right is only read).
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
    if filters.get("versions") and not prefix:
        # A phase (issue #17): units whose latest annotation's codebook version is in range;
        # the items read in Python are filtered alike (_python_items).
        where += " AND version >= %(v_lo)s AND version < %(v_hi)s"
    return where


def _counts_sql(
    project, dimension_ids, filters, *, unpaired, breakdowns, exact_items=True
) -> Counts:
    where = _item_filters(filters)
    bind = {"dims": list(dimension_ids), "project": project.pk, "tz": connection.timezone_name}
    if filters.get("versions"):
        bind["v_lo"], bind["v_hi"] = filters["versions"]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # SET LOCAL, so for this transaction only: the hash table of every unit gets the
        # memory it needs instead of spilling to disk, and JIT compilation, which costs
        # more than it saves on this plan, is skipped.
        cursor.execute(
            "SELECT set_config('work_mem', '512MB', true), set_config('jit', 'off', true)"
        )
        cursor.execute(
            OTHER_ITEMS_SQL.format(where=where, item_where=_item_filters(filters, "i.")), bind
        )
        bind["other"] = [row[0] for row in cursor.fetchall()]
        sql = UNIT_SQL.format(
            outer=UNIT_BREAKDOWN if breakdowns else "",
            where=where,
            # PostgreSQL 14+ hashes the array, so this costs little per unit.
            not_other=" AND NOT (item_id = ANY(%(other)s))" if bind["other"] else "",
            group=", 4, 5, 6" if breakdowns else "",
        )
        if exact_items:
            sql += ITEMS_SQL.format(
                outer=ITEMS_BREAKDOWN if breakdowns else "",
                where=where,
                not_other=" AND NOT (item_id = ANY(%(other)s))" if bind["other"] else "",
            )
        cursor.execute(sql, bind)
        rows = cursor.fetchall()
    counts = Counts()
    for row in rows:
        dim, lo, hi, n = row[0], row[1], row[2], row[-1]
        if dim is None:  # ITEMS_SQL: simple items per annotator pair
            counts.simple_items[(lo, hi)] = n
            continue
        keys = row[3:6] if breakdowns else (None, None, None)
        counts.simple[dim].append((lo >> 32, hi >> 32, lo & LOW_32, hi & LOW_32, *keys, n))
    if not exact_items:
        # Every dimension required: each simple item has a unit of every dimension, so any
        # dimension's units count the pair's items (the most of them, to be safe). The exact
        # count costs a second pass over the units (about twice the unit scan).
        per_pair: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for dim, rows_of_dim in counts.simple.items():
            for a, b, *_, n in rows_of_dim:
                per_pair[(a, b)][dim] += n
        counts.simple_items = {pair: max(by_dim.values()) for pair, by_dim in per_pair.items()}
    if bind["other"]:
        _python_items(project, filters, counts, unpaired=unpaired, breakdowns=breakdowns,
                      item_ids=bind["other"])  # fmt: skip
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
    versions=None,
) -> Counts:
    """The counts behind the report: simple items by SQL and the rest paired in Python on
    PostgreSQL; every item in Python elsewhere (or when ``portable``). ``versions``: a
    (low, high) range of codebook versions, a phase: items whose latest annotation has a
    version in [low, high)."""
    filters = {"exclude_calibration": exclude_calibration, "exclude_discussed": exclude_discussed,
               "versions": versions}  # fmt: skip
    if connection.vendor == "postgresql" and not portable:
        dims = [tree.dimension.pk for tree in trees.values()]
        # With a dimension that is not required, one simple item may lack a dimension
        # another has: count the pairs' simple items exactly.
        exact = any(not tree.dimension.required for tree in trees.values())
        return _counts_sql(project, dims, filters, unpaired=unpaired, breakdowns=breakdowns,
                           exact_items=exact)  # fmt: skip
    counts = Counts()
    _python_items(project, filters, counts, unpaired=unpaired, breakdowns=breakdowns)
    return counts
