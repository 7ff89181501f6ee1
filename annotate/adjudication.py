"""Comparing an item's submitted annotations and settling unanimous ones.

Issue #5 grows this module (per-level differences, the lead's decisions); the rule
here is the core: an item whose `overlap` annotations all say the same thing gets a
unanimous final label, any difference sends it to the conflict queue.
"""

from django.db import transaction
from django.utils import timezone

from .models import Annotation, AuditEvent, FinalLabel, FinalRecordLabel, Item


def annotation_signature(annotation: Annotation) -> tuple:
    """What must be equal for two annotations to agree: out-of-scope, or the multiset of
    failure records, each a tuple of (dimension id, category id)."""
    if annotation.out_of_scope:
        return ("out_of_scope",)
    records: dict[int, list] = {}
    for label in annotation.labels.all():
        records.setdefault(label.record, []).append((label.dimension_id, label.category_id))
    return tuple(sorted(tuple(sorted(pairs)) for pairs in records.values()))


@transaction.atomic
def settle_if_complete(*, item: Item, actor=None) -> str:
    """Compare the item's annotations once `overlap` of them are in.

    Precondition: the caller holds the item's row lock (select_for_update) or is the
    only writer. Idempotent: a settled item or one still waiting is left as it is.
    Returns the item's resulting state."""
    if item.state not in (Item.State.OPEN, Item.State.DISCUSSION):
        return item.state
    annotations = list(
        Annotation.objects.filter(item=item).prefetch_related("labels").order_by("annotator_id")
    )
    if len(annotations) < item.project.overlap:
        return item.state
    signatures = {annotation_signature(a) for a in annotations}
    if len(signatures) > 1:
        item.state = Item.State.CONFLICT
        item.save(update_fields=["state"])
        AuditEvent.objects.create(
            project_id=item.project_id, item=item, actor=actor, kind="conflict", payload={}
        )
        return item.state
    first = annotations[0]
    final = FinalLabel.objects.create(
        item=item,
        provenance=FinalLabel.Provenance.UNANIMOUS,
        out_of_scope=first.out_of_scope,
        out_of_scope_reason=first.out_of_scope_reason,
        codebook_version=item.project.codebook_version,
    )
    FinalRecordLabel.objects.bulk_create(
        FinalRecordLabel(
            final=final,
            item=item,
            record=label.record,
            dimension_id=label.dimension_id,
            category_id=label.category_id,
        )
        for label in first.labels.all()
    )
    item.state = Item.State.SETTLED
    item.settled_at = timezone.now()
    item.save(update_fields=["state", "settled_at"])
    AuditEvent.objects.create(
        project_id=item.project_id,
        item=item,
        actor=actor,
        kind="settled",
        payload={"provenance": FinalLabel.Provenance.UNANIMOUS},
    )
    return item.state
