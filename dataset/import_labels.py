"""Importing, the labels: a batch's final labels or one annotator's annotations written
beside the items dataset.importing made, all or nothing with the rest of the import. A
label already there that differs from the file's fails the import (`conflict`)."""

from django.db.models import F
from django.utils import timezone

from annotate.adjudication.settling import settle_if_complete
from annotate.bulk import copy_models, copy_rows
from annotate.errors import ServiceError
from annotate.models import (
    Annotation,
    AnnotationLabel,
    Assignment,
    FinalLabel,
    FinalRecordLabel,
    Item,
)


def conflict(issue, what: str) -> ServiceError:
    from dataset.importing import ImportFailed  # importing imports this module

    return ImportFailed(
        f"{issue.file}, record {issue.index}, field 'link': {issue.link.url} already has "
        f"{what} that differ from this file's; remove them first or import another project"
    )


def write_final(project, items, batch, user, result):
    existing: dict[int, set] = {
        item_id: set()
        for item_id in FinalLabel.objects.filter(item__in=[i.pk for i in items]).values_list(
            "item_id", flat=True
        )
    }
    for item_id, record, dim, cat in FinalRecordLabel.objects.filter(
        item__in=list(existing)
    ).values_list("item_id", "record", "dimension_id", "category_id"):
        existing[item_id].add((record, dim, cat))
    new_finals, label_rows, settled = [], [], []
    for issue, item in zip(batch, items, strict=True):
        if item.pk in existing:
            if sorted(existing[item.pk]) != sorted(issue.rows):
                raise conflict(issue, "final labels")
            continue
        final = FinalLabel(
            item=item,
            provenance=FinalLabel.Provenance.IMPORTED,
            codebook_version=project.codebook_version,
            decided_by=user,
        )
        new_finals.append(final)
        label_rows.append((final, item, issue.rows))
        settled.append(item.pk)
    copy_models(FinalLabel, new_finals)
    copy_rows(
        FinalRecordLabel,
        ["final_id", "item_id", "record", "dimension_id", "category_id"],
        [(final.pk, item.pk, r, d, c) for final, item, rows in label_rows for r, d, c in rows],
    )
    Item.objects.filter(pk__in=settled).update(state=Item.State.SETTLED, settled_at=timezone.now())
    result.labels_written += len(new_finals)


def write_annotations(project, items, batch, annotator, result):
    existing: dict[int, set] = {
        item_id: set()
        for item_id in Annotation.objects.filter(
            item__in=[i.pk for i in items], annotator=annotator
        ).values_list("item_id", flat=True)
    }
    for item_id, record, dim, cat in AnnotationLabel.objects.filter(
        item__in=list(existing), annotator=annotator
    ).values_list("item_id", "record", "dimension_id", "category_id"):
        existing[item_id].add((record, dim, cat))
    now = timezone.now()
    new_annotations, label_rows, touched = [], [], []
    for issue, item in zip(batch, items, strict=True):
        if item.pk in existing:
            if sorted(existing[item.pk]) != sorted(issue.rows):
                raise conflict(issue, f"labels by {annotator.username}")
            continue
        annotation = Annotation(
            item=item, annotator=annotator, codebook_version=project.codebook_version
        )
        new_annotations.append(annotation)
        label_rows.append((annotation, item, issue.rows))
        touched.append(item)
    copy_models(Annotation, new_annotations)
    copy_rows(
        AnnotationLabel,
        ["annotation_id", "item_id", "annotator_id", "record", "dimension_id", "category_id",
         "evidence"],
        [
            (annotation.pk, item.pk, annotator.pk, r, d, c, "")
            for annotation, item, rows in label_rows
            for r, d, c in rows
        ],
    )  # fmt: skip
    touched_ids = [item.pk for item in touched]
    held = set(
        Assignment.objects.filter(item__in=touched_ids, annotator=annotator).values_list(
            "item_id", flat=True
        )
    )
    Assignment.objects.filter(item__in=list(held), annotator=annotator).update(
        state=Assignment.State.SUBMITTED, completed_at=now
    )
    copy_models(
        Assignment,
        [
            Assignment(
                item=item, annotator=annotator, state=Assignment.State.SUBMITTED, completed_at=now
            )
            for item in touched
            if item.pk not in held
        ],
    )
    # Two plain UPDATEs per batch: a bulk_update over every item is one CASE per row, a
    # statement PostgreSQL's JIT compiled for minutes at 10,000 items.
    Item.objects.filter(pk__in=list(held)).update(submitted_count=F("submitted_count") + 1)
    Item.objects.filter(pk__in=[pk for pk in touched_ids if pk not in held]).update(
        assigned_count=F("assigned_count") + 1, submitted_count=F("submitted_count") + 1
    )
    # Items now carrying `overlap` annotations are compared as if submitted in the browser.
    for item in touched:
        if item.submitted_count + 1 >= project.overlap:
            settle_if_complete(item=Item.objects.select_for_update().get(pk=item.pk))
    result.labels_written += len(new_annotations)
