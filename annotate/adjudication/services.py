"""Comparing an item's annotations, the conflict queue, and the lead's decisions.

When all of an item's annotators have submitted, their annotations are compared per
failure record, per dimension and per level of the category tree. Full agreement writes
a unanimous final label at once; any difference sends the item to the conflict queue
with one Conflict row per difference. A lead then decides (taking a side per dimension,
choosing a third category, splitting or merging failure records, or marking the item out
of scope), may first send the item back to its annotators for discussion, and may re-open
a settled item. Every step appends an AuditEvent.

The comparison itself (`compare_sides` and its helpers) is plain Python over ids.
"""

import re
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from scipy.optimize import linear_sum_assignment

from annotate.codebook.queries import CategoryRefError, codebook, read_codebook
from annotate.errors import ServiceError
from annotate.limits import first_too_long, too_long
from annotate.models import (
    Annotation,
    AnnotationRound,
    AnnotationRoundLabel,
    AuditEvent,
    Category,
    Conflict,
    Dimension,
    FinalLabel,
    FinalRecordLabel,
    Item,
)
from annotate.records import Wire, WireError, as_ids, parse_wire, to_wire
from mining.models import project_view

# ---------------------------------------------------------------------------------------
# The comparison: pure functions over category ids.

Record = dict[int, int]  # dimension id -> category id, for one failure record


@dataclass(frozen=True)
class Side:
    """One annotator's answer: out of scope, or failure records in record order."""

    out_of_scope: bool
    records: tuple


@dataclass(frozen=True)
class Difference:
    kind: str
    record: int = 0
    dimension_id: int | None = None
    level: int = 0
    a: int | None = None
    b: int | None = None


def category_chain(category_id: int | None, parents: dict[int, int | None]) -> list[int]:
    """The ids from the tree's top level down to `category_id` (empty for None)."""
    chain: list[int] = []
    while category_id is not None:
        chain.append(category_id)
        category_id = parents.get(category_id)
    return chain[::-1]


def record_disagreements(first: Record, second: Record) -> int:
    """How many dimensions two failure records disagree on (a dimension only one of them
    carries counts as a disagreement)."""
    return sum(first.get(dim) != second.get(dim) for dim in set(first) | set(second))


def align_records(first, second) -> list[tuple[int, int]]:
    """Pair the failure records of two sides by content: identical records first (each with
    the first identical partner still free, in order), then an optimal matching of the rest
    that minimizes the dimensions on which paired records disagree (the assignment problem,
    solved by scipy's ``linear_sum_assignment``; among equally good matchings it is
    deterministic). The records of the longer side left over have no partner. The agreement
    report pairs records with this same function. Returns (index in first, index in second)
    pairs sorted by the first index."""
    free = list(range(len(second)))
    pairs: dict[int, int] = {}
    for i, record in enumerate(first):
        match = next((j for j in free if second[j] == record), None)
        if match is not None:
            pairs[i] = match
            free.remove(match)
    rest = [i for i in range(len(first)) if i not in pairs]
    if rest and free:
        cost = np.array([[record_disagreements(first[i], second[j]) for j in free] for i in rest])
        rows, cols = linear_sum_assignment(cost)
        pairs.update((rest[r], free[c]) for r, c in zip(rows, cols, strict=True))
    return sorted(pairs.items())


def compare_pair(a: Side, b: Side, parents: dict[int, int | None]) -> list[Difference]:
    """Every difference between two sides; empty when they agree."""
    if a.out_of_scope or b.out_of_scope:
        return [] if a.out_of_scope and b.out_of_scope else [Difference(Conflict.Kind.SCOPE)]
    differences = []
    if len(a.records) != len(b.records):
        differences.append(Difference(Conflict.Kind.RECORDS))
    for i, j in align_records(a.records, b.records):
        ra, rb = a.records[i], b.records[j]
        for dimension_id in sorted(set(ra) | set(rb)):
            chain_a = category_chain(ra.get(dimension_id), parents)
            chain_b = category_chain(rb.get(dimension_id), parents)
            for level in range(1, max(len(chain_a), len(chain_b)) + 1):
                x = chain_a[level - 1] if level <= len(chain_a) else None
                y = chain_b[level - 1] if level <= len(chain_b) else None
                if x != y:
                    differences.append(
                        Difference(Conflict.Kind.CATEGORY, i, dimension_id, level, x, y)
                    )
    return differences


def compare_sides(sides: list[Side], parents: dict[int, int | None]) -> list[Difference]:
    """The differences between every pair of sides, without repeats."""
    found: list[Difference] = []
    for x in range(len(sides)):
        for y in range(x + 1, len(sides)):
            for difference in compare_pair(sides[x], sides[y], parents):
                if difference not in found:
                    found.append(difference)
    return found


def overrides_every_side(decision: Side, sides: list[Side]) -> bool:
    """Whether a decision departs from every annotator: out of scope when nobody said so,
    a number of records nobody gave, or a category nobody chose on that dimension."""
    if decision.out_of_scope:
        return not any(side.out_of_scope for side in sides)
    in_scope = [side for side in sides if not side.out_of_scope]
    if not in_scope:
        return True
    if len(decision.records) not in {len(side.records) for side in in_scope}:
        return True
    given = {pair for side in in_scope for record in side.records for pair in record.items()}
    return any(pair not in given for record in decision.records for pair in record.items())


# ---------------------------------------------------------------------------------------
# Reading annotations into sides, and labels into plain data.


def records_of(labels) -> list[Record]:
    """Label rows (anything with record, dimension_id, category_id) as records in order."""
    return as_ids(labels)


def side_of(annotation) -> Side:
    """An Annotation or AnnotationRound (labels prefetched) as a Side."""
    if annotation.out_of_scope:
        return Side(True, ())
    return Side(False, tuple(records_of(annotation.labels.all())))


def category_parents(project) -> dict[int, int | None]:
    return dict(Category.objects.filter(dimension__project=project).values_list("id", "parent_id"))


def records_as_paths(labels) -> list[dict[str, str]]:
    """Label rows (category and dimension selected) as [{dimension key: category path}]."""
    return to_wire(labels, Wire.PATHS)


def final_snapshot(final: FinalLabel, records=None, book=None) -> dict:
    """A final label as plain data, for the audit trail and the API. With the `records`
    it was written from ([{dimension id: category id}]) and the project's codebook, no
    query is needed."""
    if records is not None and book is not None:
        paths = [
            {book.by_id[c].dimension.key: book.by_id[c].path for c in record.values()}
            for record in records
        ]
    else:
        paths = records_as_paths(final.labels.select_related("dimension", "category"))
    return {
        "provenance": final.provenance,
        "out_of_scope": final.out_of_scope,
        "out_of_scope_reason": final.out_of_scope_reason,
        "records": paths,
        "rationale": final.rationale,
        "error_kind": final.error_kind,
        "codebook_needs_work": final.codebook_needs_work,
        "codebook_version": final.codebook_version,
        "decided_by": final.decided_by.username if final.decided_by else None,
        "decided_at": final.decided_at.isoformat() if final.decided_at else None,
    }


def item_annotations(item: Item) -> list[Annotation]:
    """The item's annotations with their labels, oldest first (side A, B, ...)."""
    return list(
        Annotation.objects.filter(item=item)
        .select_related("annotator")
        .prefetch_related("labels")
        .order_by("created_at", "id")
    )


def _audit(item: Item, actor, kind: str, **payload) -> AuditEvent:
    return AuditEvent.objects.create(
        project_id=item.project_id, item=item, actor=actor, kind=kind, payload=payload
    )


def _difference_payload(differences: list[Difference]) -> list[dict]:
    return [
        {
            "kind": d.kind,
            "record": d.record,
            "dimension": d.dimension_id,
            "level": d.level,
            "a": d.a,
            "b": d.b,
        }
        for d in differences
    ]


# ---------------------------------------------------------------------------------------
# Writing: conflicts, final labels, state changes.


def store_conflicts(*, item: Item, differences: list[Difference]) -> list[Conflict]:
    """Replace the item's open comparison conflicts by `differences`, keeping the time the
    item started waiting (codebook conflicts stay until a decision)."""
    open_rows = Conflict.objects.filter(item=item, resolved=False)
    since = open_rows.aggregate(since=Min("created_at"))["since"]
    open_rows.exclude(kind=Conflict.Kind.CODEBOOK).delete()
    rows = Conflict.objects.bulk_create(
        Conflict(
            project_id=item.project_id,
            item=item,
            kind=d.kind,
            record=d.record,
            dimension_id=d.dimension_id,
            level=d.level,
            category_a_id=d.a,
            category_b_id=d.b,
        )
        for d in differences
    )
    if since is not None and rows:
        Conflict.objects.filter(pk__in=[r.pk for r in rows]).update(created_at=since)
    return rows


def _write_final(item: Item, *, provenance: str, records: list[Record], actor=None, **fields):
    """Replace the item's final label (the previous one is kept in the audit trail). An
    item never settled has none to replace."""
    if item.settled_at is not None or item.state != Item.State.OPEN:
        FinalLabel.objects.filter(item=item).delete()
    final = FinalLabel.objects.create(
        item=item,
        provenance=provenance,
        codebook_version=item.project.codebook_version,
        decided_by=actor,
        **fields,
    )
    FinalRecordLabel.objects.bulk_create(
        FinalRecordLabel(
            final=final, item=item, record=index, dimension_id=dim, category_id=category
        )
        for index, record in enumerate(records)
        for dim, category in record.items()
    )
    Conflict.objects.filter(item=item, resolved=False).update(resolved=True)
    item.state = Item.State.SETTLED
    item.settled_at = timezone.now()
    item.save(update_fields=["state", "settled_at"])
    return final


def _enter_conflict(item: Item, differences: list[Difference], actor, kind="conflict"):
    store_conflicts(item=item, differences=differences)
    item.state = Item.State.CONFLICT
    item.save(update_fields=["state"])
    _audit(item, actor, kind, differences=_difference_payload(differences))
    return item.state


def _retired_ids(category_ids) -> set[int]:
    return set(
        Category.objects.filter(pk__in=category_ids, retired=True).values_list("id", flat=True)
    )


def _mark_revisions(item: Item, annotations: list[Annotation]) -> bool:
    """Number the rounds of annotations revised since the latest discussion began (one past
    the frozen round); True when every annotator has revised."""
    frozen = {
        pk: (at, last_round)
        for pk, at, last_round in AnnotationRound.objects.filter(item=item)
        .values_list("annotation_id")
        .annotate(at=Max("frozen_at"), last_round=Max("round"))
        .order_by()
    }
    revised = [a for a in annotations if a.pk in frozen and a.updated_at > frozen[a.pk][0]]
    for annotation in revised:
        next_round = frozen[annotation.pk][1] + 1
        if annotation.round != next_round:
            Annotation.objects.filter(pk=annotation.pk).update(round=next_round)
    return bool(annotations) and len(revised) == len(annotations)


@transaction.atomic(savepoint=False)
def settle_if_complete(*, item: Item, actor=None) -> str:
    """Compare the item's annotations once `overlap` of them are in.

    Precondition: the caller holds the item's row lock (select_for_update) or is the
    only writer. Idempotent: a settled item or one still waiting is left as it is.
    An open item that agrees is settled (unanimous), otherwise it enters the conflict
    queue. An item in discussion settles when its annotators now agree, goes to the
    conflict queue once every annotator has revised, and otherwise stays in discussion.
    Agreement on a retired category is a codebook conflict, never a final label.
    Returns the item's resulting state.

    On the submission path (every completed pair): the codebook comes from the process's
    cache, no savepoint is taken, and an item never settled has no final label to delete."""
    if item.state not in (Item.State.OPEN, Item.State.DISCUSSION):
        return item.state
    annotations = item_annotations(item)
    if len(annotations) < item.project.overlap:
        return item.state
    book = codebook(item.project)
    differences = compare_sides([side_of(a) for a in annotations], book.parents)
    in_discussion = item.state == Item.State.DISCUSSION
    if differences:
        if in_discussion and not _mark_revisions(item, annotations):
            store_conflicts(item=item, differences=differences)
            return item.state
        return _enter_conflict(item, differences, actor)
    if in_discussion:
        _mark_revisions(item, annotations)
    first = annotations[0]
    records = records_of(first.labels.all())
    retired = {c for record in records for c in record.values()} & book.retired
    if retired:
        differences = [
            Difference(Conflict.Kind.CODEBOOK, dimension_id=dim, a=category, b=category)
            for record in records
            for dim, category in record.items()
            if category in retired
        ]
        return _enter_conflict(item, differences, actor)
    final = _write_final(
        item,
        provenance=FinalLabel.Provenance.UNANIMOUS,
        records=records,
        out_of_scope=first.out_of_scope,
        out_of_scope_reason=first.out_of_scope_reason,
    )
    _audit(
        item,
        actor,
        "settled",
        provenance=FinalLabel.Provenance.UNANIMOUS,
        after_discussion=in_discussion,
        final=final_snapshot(final, records=records, book=book),
    )
    return item.state


class AdjudicationError(ServiceError):
    """A decision or an adjudication step the item's state or the input does not allow."""


def parse_records(*, project, raw_records) -> list[Record]:
    """Records given as [{dimension key: category id or full path}] as [{dim id: cat id}].

    Raises AdjudicationError naming the first bad dimension or category."""
    book = read_codebook(project)
    records = []
    for index, raw in enumerate(raw_records or []):
        try:
            labels = parse_wire(raw, Wire.PATHS)
        except WireError:
            raise AdjudicationError(f"Failure record {index + 1} must be an object.") from None
        record: Record = {}
        for key, value, _ in labels:
            dimension = book.by_key.get(key)
            if dimension is None:
                raise AdjudicationError(f"Unknown dimension '{key}'.")
            if value in (None, ""):
                continue
            try:
                category = book.find(dimension.pk, value, id_first=True)
            except CategoryRefError:
                category = None
            if category is None:
                raise AdjudicationError(f"Unknown category '{value}' for dimension '{key}'.")
            record[dimension.pk] = category.pk
        missing = [d.key for d in book.dimensions if d.required and d.pk not in record]
        if missing:
            raise AdjudicationError(
                f"Failure record {index + 1} needs a category for: {', '.join(missing)}."
            )
        records.append(record)
    return records


def _lock(item: Item) -> Item:
    """Take the item's row lock and refresh its state on the caller's instance."""
    item.state = Item.objects.select_for_update().values_list("state", flat=True).get(pk=item.pk)
    return item


def _current_final(item: Item) -> dict | None:
    final = FinalLabel.objects.filter(item=item).select_related("decided_by").first()
    return final_snapshot(final) if final else None


@transaction.atomic
def decide_item(
    *,
    item: Item,
    actor,
    records: list[Record] | None = None,
    out_of_scope: bool = False,
    out_of_scope_reason: str = "",
    rationale: str = "",
    error_kind: str = "",
    codebook_needs_work: bool = False,
) -> FinalLabel:
    """A lead's decision on an item in conflict or discussion: writes the final label
    (provenance "adjudicated"), closes its conflicts and records it in the audit trail.

    `records` come from parse_records. A rationale is required when the decision departs
    from every annotator. Not idempotent: deciding a settled item raises (re-open first)."""
    if problem := first_too_long(out_of_scope_reason=out_of_scope_reason, rationale=rationale):
        raise AdjudicationError(problem)
    item = _lock(item)
    if item.state not in (Item.State.CONFLICT, Item.State.DISCUSSION):
        raise AdjudicationError(f"This item is {item.get_state_display()}; nothing to decide.")
    if error_kind not in FinalLabel.ErrorKind.values:
        raise AdjudicationError(f"Unknown error kind '{error_kind}'.")
    records = [] if out_of_scope else [r for r in (records or []) if r]
    if not out_of_scope and not records:
        raise AdjudicationError("Give at least one failure record, or mark it out of scope.")
    annotations = item_annotations(item)
    sides = [side_of(a) for a in annotations]
    used = {pair for side in sides for record in side.records for pair in record.items()}
    chosen = {pair for record in records for pair in record.items()}
    retired = _retired_ids({c for _, c in chosen - used})
    if retired:
        raise AdjudicationError("Retired categories cannot be chosen for a new decision.")
    overrides = overrides_every_side(Side(out_of_scope, tuple(records)), sides)
    rationale = rationale.strip()
    if overrides and not rationale:
        raise AdjudicationError("A rationale is required when the decision overrides both.")
    previous = _current_final(item)
    previous_state = item.state
    final = _write_final(
        item,
        provenance=FinalLabel.Provenance.ADJUDICATED,
        records=records,
        actor=actor,
        out_of_scope=out_of_scope,
        out_of_scope_reason=out_of_scope_reason.strip(),
        rationale=rationale,
        error_kind=error_kind,
        codebook_needs_work=codebook_needs_work,
    )
    _audit(
        item,
        actor,
        "adjudicated",
        from_state=previous_state,
        overrides_every_annotator=overrides,
        final=final_snapshot(final),
        replaced=previous,
    )
    return final


def _freeze(annotation: Annotation) -> AnnotationRound:
    snapshot, created = AnnotationRound.objects.get_or_create(
        annotation=annotation,
        round=annotation.round,
        defaults={
            "item_id": annotation.item_id,
            "annotator_id": annotation.annotator_id,
            "out_of_scope": annotation.out_of_scope,
            "out_of_scope_reason": annotation.out_of_scope_reason,
            "note": annotation.note,
            "confidence": annotation.confidence,
            "codebook_version": annotation.codebook_version,
            "submitted_at": annotation.updated_at,
        },
    )
    if created:
        AnnotationRoundLabel.objects.bulk_create(
            AnnotationRoundLabel(
                snapshot=snapshot,
                item_id=label.item_id,
                annotator_id=label.annotator_id,
                record=label.record,
                dimension_id=label.dimension_id,
                category_id=label.category_id,
                evidence=label.evidence,
            )
            for label in annotation.labels.all()
        )
    return snapshot


@transaction.atomic
def start_discussion(*, item: Item, actor, note: str = "") -> Item:
    """Send an item in conflict back to its annotators: they may see each other's labels
    and revise. Freezes each annotation's current round first, so agreement before and
    after discussion can both be reported. Precondition: the item is in conflict."""
    if problem := too_long("discussion_note", note, label="note"):
        raise AdjudicationError(problem)
    item = _lock(item)
    if item.state != Item.State.CONFLICT:
        raise AdjudicationError("Only an item in conflict can be sent to discussion.")
    annotations = item_annotations(item)
    for annotation in annotations:
        _freeze(annotation)
    item.state = Item.State.DISCUSSION
    item.discussed = True
    item.save(update_fields=["state", "discussed"])
    _audit(item, actor, "discussion_started", note=note.strip(), annotators=len(annotations))
    return item


@transaction.atomic
def end_discussion(*, item: Item, actor) -> str:
    """Close an item's discussion: it settles if its annotators now agree, otherwise it
    returns to the conflict queue. Returns the resulting state."""
    item = _lock(item)
    if item.state != Item.State.DISCUSSION:
        raise AdjudicationError("This item is not in discussion.")
    differences = compare_sides(
        [side_of(a) for a in item_annotations(item)], category_parents(item.project)
    )
    if differences:
        return _enter_conflict(item, differences, actor, kind="discussion_ended")
    item.state = Item.State.OPEN
    _audit(item, actor, "discussion_ended", differences=[])
    return settle_if_complete(item=item, actor=actor)


@transaction.atomic
def reopen_item(*, item: Item, actor, reason: str) -> Item:
    """Send a settled item back to the conflict queue. Its final label stays (and stays
    in the audit trail) until a lead decides again. Precondition: the item is settled."""
    if problem := too_long("reason", reason):
        raise AdjudicationError(problem)
    item = _lock(item)
    if item.state != Item.State.SETTLED:
        raise AdjudicationError("Only a settled item can be re-opened.")
    if not reason.strip():
        raise AdjudicationError("Say why the item is re-opened.")
    differences = compare_sides(
        [side_of(a) for a in item_annotations(item)], category_parents(item.project)
    )
    store_conflicts(item=item, differences=differences)
    item.state = Item.State.CONFLICT
    item.save(update_fields=["state"])
    previous = _current_final(item)
    _audit(item, actor, "reopened", reason=reason.strip(), final=previous)
    return item


# ---------------------------------------------------------------------------------------
# Reading: the conflict queue, the comparison table, review lists, discussion agreement.


def parse_pair(text: str | None) -> tuple[int, int] | None:
    """Two category ids from a query's 'ID,ID'; None for anything else (an id past the
    database's range, or a digit that int() refuses, would otherwise be a 500)."""
    match = re.fullmatch(r"([0-9]{1,18}),([0-9]{1,18})", text or "")
    return (int(match[1]), int(match[2])) if match else None


def conflict_queue(project, *, dimension=None, pair=None, repository=None, group=None):
    """Items in conflict, oldest waiting first, narrowed by dimension key, by a pair of
    category ids (either order), by repository ("owner/name") or by repository group."""
    waiting = (
        Conflict.objects.filter(item=OuterRef("pk"), resolved=False)
        .order_by()
        .values("item")
        .annotate(since=Min("created_at"))
        .values("since")
    )
    items = (
        Item.objects.filter(project=project, state=Item.State.CONFLICT)
        .select_related("issue__repository")
        .annotate(
            waiting_since=Coalesce(Subquery(waiting), "created_at"),
            project_group=project_view("group", project=project, repository="issue__repository"),
        )
    )
    conflicts = Conflict.objects.filter(project=project, resolved=False)
    if any("\x00" in (text or "") for text in (dimension, repository, group)):
        # No stored text holds a NUL (PostgreSQL refuses them): the filter matches nothing.
        return items.none()
    narrowed = False
    if dimension:
        conflicts = conflicts.filter(dimension__key=dimension)
        narrowed = True
    if pair:
        conflicts = conflicts.between(*pair)
        narrowed = True
    if narrowed:
        items = items.filter(pk__in=conflicts.values("item_id"))
    if repository:
        owner, _, name = repository.partition("/")
        items = items.filter(issue__repository__owner=owner, issue__repository__name=name)
    if group:
        items = items.filter(project_group=group)
    return items.order_by("waiting_since", "position", "pk")


def conflict_counts(project) -> dict:
    """Items in conflict: in all, per dimension key, and per category pair (top 20)."""
    open_rows = Conflict.objects.filter(project=project, resolved=False, item__state="conflict")
    by_dimension = dict(
        open_rows.exclude(dimension=None)
        .values_list("dimension__key")
        .annotate(n=Count("item", distinct=True))
        .order_by()
    )
    rows = (
        open_rows.filter(kind=Conflict.Kind.CATEGORY)
        .exclude(category_a=None)
        .exclude(category_b=None)
        .values_list("item_id", "category_a", "category_b", "category_a__path", "category_b__path")
    )
    # A pair is unordered: A's OOM against B's Device Error is B's Device Error against A's OOM.
    pairs: dict[tuple, dict] = {}
    for item_id, a, b, path_a, path_b in rows:
        (a, path_a), (b, path_b) = sorted([(a, path_a), (b, path_b)], key=lambda c: c[1])
        entry = pairs.setdefault(
            (a, b), {"category_a": a, "category_b": b, "value": f"{a},{b}", "items": set()}
        )
        entry.update({"category_a__path": path_a, "category_b__path": path_b})
        entry["items"].add(item_id)
    ranked = sorted(pairs.values(), key=lambda p: (-len(p["items"]), p["category_a__path"]))
    return {
        "total": Item.objects.filter(project=project, state=Item.State.CONFLICT).count(),
        "by_dimension": by_dimension,
        "pairs": [
            {key: value for key, value in p.items() if key != "items"} | {"n": len(p["items"])}
            for p in ranked[:20]
        ],
    }


def open_differences(items) -> dict[int, list[Conflict]]:
    """The open conflicts of several items, keyed by item id (one query)."""
    result: dict[int, list[Conflict]] = {}
    rows = Conflict.objects.filter(item__in=items, resolved=False).select_related(
        "dimension", "category_a", "category_b"
    )
    for row in rows.order_by("record", "dimension__order", "level"):
        result.setdefault(row.item_id, []).append(row)
    return result


def side_letter(index: int) -> str:
    return chr(ord("A") + index)


def annotator_aliases(item: Item) -> dict[int, str]:
    """What leads call the item's annotators in its history: "Annotator A", "Annotator B"
    when the project hides names, otherwise nothing (their usernames are shown)."""
    if not item.project.hide_annotator_names:
        return {}
    annotators = (
        Annotation.objects.filter(item=item)
        .order_by("created_at", "id")
        .values_list("annotator_id", flat=True)
    )
    return {pk: f"Annotator {side_letter(i)}" for i, pk in enumerate(annotators)}


def comparison_table(item: Item, annotations, hide_names: bool) -> dict:
    """The annotations side by side: per failure record and dimension, each side's chain
    of categories with the levels that differ flagged, plus each side's note and evidence.

    Records of every side are aligned to the first side's (identical records first)."""
    book = read_codebook(item.project_id)
    dimensions, categories, parents = book.dimensions, book.by_id, book.parents
    sides, aligned = [], []
    for index, annotation in enumerate(annotations):
        labels = list(annotation.labels.all())
        evidence = {(lab.record, lab.dimension_id): lab.evidence for lab in labels}
        record_keys = sorted({lab.record for lab in labels})
        records = records_of(labels)
        order = list(range(len(records)))
        if aligned and not annotation.out_of_scope:
            pairs = dict((j, i) for i, j in align_records(aligned[0][0], records))
            order = sorted(range(len(records)), key=lambda j: (pairs.get(j, 10_000), j))
        aligned.append(([records[j] for j in order], [record_keys[j] for j in order], evidence))
        sides.append(
            {
                "letter": side_letter(index),
                "name": None if hide_names else annotation.annotator.username,
                "annotation": annotation,
            }
        )
    rows = []
    count = max((len(records) for records, _, _ in aligned), default=0)
    for r in range(count):
        dims = []
        for dimension in dimensions:
            chains = []
            for records, keys, evidence in aligned:
                category_id = records[r].get(dimension.pk) if r < len(records) else None
                chains.append((category_chain(category_id, parents), category_id, keys, evidence))
            depth = max((len(c[0]) for c in chains), default=0)
            cells, differs = [], False
            for chain, category_id, keys, evidence in chains:
                levels = []
                for level in range(depth):
                    values = {c[0][level] if level < len(c[0]) else None for c in chains}
                    name = categories[chain[level]].name if level < len(chain) else ""
                    levels.append({"name": name, "differs": len(values) > 1})
                    differs = differs or len(values) > 1
                cells.append(
                    {
                        "category": categories.get(category_id),
                        "levels": levels,
                        "evidence": evidence.get((keys[r], dimension.pk), "")
                        if r < len(keys)
                        else "",
                    }
                )
            dims.append({"dimension": dimension, "cells": cells, "differs": differs})
        rows.append({"index": r, "dimensions": dims})
    return {"sides": sides, "records": rows}


def flagged_decisions(project):
    """Final labels a lead flagged for codebook work, or whose error kind points at the
    codebook or the guidelines, newest first."""
    return (
        FinalLabel.objects.filter(item__project=project)
        .filter(
            Q(codebook_needs_work=True)
            | Q(
                error_kind__in=[
                    FinalLabel.ErrorKind.CODEBOOK_GAP,
                    FinalLabel.ErrorKind.GUIDELINE_GAP,
                ]
            )
        )
        .select_related("item__issue__repository", "decided_by")
        .order_by("-decided_at")
    )


def discussion_agreement(project) -> list[dict]:
    """For items that went to discussion: per dimension, how many agreed on the full
    category path of every aligned record before discussion (frozen first round) and
    after it (the current annotations)."""
    items = list(Item.objects.filter(project=project, discussed=True).values_list("pk", flat=True))
    before = _agreement_by_dimension(
        AnnotationRound.objects.filter(item_id__in=items, round=1).prefetch_related("labels"),
        items,
    )
    after = _agreement_by_dimension(
        Annotation.objects.filter(item_id__in=items).prefetch_related("labels"), items
    )
    return [
        {
            "dimension": d,
            "items": len(items),
            "before": before.get(d.pk, 0),
            "after": after.get(d.pk, 0),
        }
        for d in Dimension.objects.filter(project=project)
    ]


def _agreement_by_dimension(rows, item_ids) -> dict[int, int]:
    by_item: dict[int, list[Side]] = {pk: [] for pk in item_ids}
    for row in rows:
        by_item[row.item_id].append(side_of(row))
    agreed: dict[int, int] = {}
    for sides in by_item.values():
        if len(sides) < 2:
            continue
        dims = {dim for side in sides for record in side.records for dim in record}
        for dim in dims:
            values = set()
            for side in sides:
                pairs = align_records(sides[0].records, side.records)
                values.add(
                    (
                        side.out_of_scope,
                        len(side.records),
                        tuple(side.records[j].get(dim) for _, j in pairs),
                    )
                )
            if len(values) == 1:
                agreed[dim] = agreed.get(dim, 0) + 1
    return agreed
