"""Settling: once all of an item's annotators have submitted, full agreement writes a
unanimous final label at once; any difference sends the item to the conflict queue with one
Conflict row per difference (and agreement on a retired category is a codebook conflict).

The writes shared by decisions and discussion (conflict rows, the final label, the item's
row lock) live here too; their helpers are private to the adjudication package.
"""

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from annotate.access import project_categories
from annotate.adjudication.audit import _audit, _difference_payload, final_snapshot
from annotate.adjudication.comparison import (
    Difference,
    Record,
    compare_sides,
    records_of,
    side_of,
)
from annotate.codebook.queries import codebook
from annotate.models import (
    Annotation,
    AnnotationRound,
    Category,
    Conflict,
    FinalLabel,
    FinalRecordLabel,
    Item,
)


def category_parents(project) -> dict[int, int | None]:
    return dict(project_categories(project).values_list("id", "parent_id"))


def item_annotations(item: Item) -> list[Annotation]:
    """The item's annotations with their labels, oldest first (side A, B, ...)."""
    return list(
        Annotation.objects.filter(item=item)
        .select_related("annotator")
        .prefetch_related("labels")
        .order_by("created_at", "id")
    )


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


def _lock(item: Item) -> Item:
    """Take the item's row lock and refresh its state on the caller's instance."""
    item.state = Item.objects.select_for_update().values_list("state", flat=True).get(pk=item.pk)
    return item
