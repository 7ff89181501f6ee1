"""Discussion and reopening: a lead may send an item in conflict back to its annotators
(their rounds frozen first), close that discussion, or re-open a settled item; and the
report of how discussion changed agreement.
"""

from django.db import transaction

from annotate.access import project_rows
from annotate.adjudication.audit import _audit, _current_final
from annotate.adjudication.comparison import Side, align_records, compare_sides, side_of
from annotate.adjudication.errors import AdjudicationError
from annotate.adjudication.inbox import note_sent_back
from annotate.adjudication.settling import (
    _enter_conflict,
    _lock,
    category_parents,
    item_annotations,
    settle_if_complete,
    store_conflicts,
)
from annotate.limits import too_long
from annotate.models import (
    Annotation,
    AnnotationRound,
    AnnotationRoundLabel,
    Dimension,
    Item,
)


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
    after discussion can both be reported; the note opens the item's thread.
    Precondition: the item is in conflict."""
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
    note_sent_back(item=item, actor=actor, note=note)
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


def discussion_agreement(project) -> list[dict]:
    """For items that went to discussion: per dimension, how many agreed on the full
    category path of every aligned record before discussion (frozen first round) and
    after it (the current annotations)."""
    items = list(project_rows(Item, project).filter(discussed=True).values_list("pk", flat=True))
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
        for d in project_rows(Dimension, project)
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
