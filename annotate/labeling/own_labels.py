"""The caller's own labels: their annotation of an item, their labeled items, and, once an
item is settled (never before), how their annotation differs from its final label.
"""

from itertools import chain

from django.db.models import (
    Prefetch,
)

from annotate.access import project_rows
from annotate.models import (
    Annotation,
    AnnotationLabel,
    FinalLabel,
    FinalRecordLabel,
    Item,
    Project,
)
from annotate.records import grouped, to_wire


def _with_labels(annotations):
    return annotations.select_related(
        "item__issue__repository", "item__final_label"
    ).prefetch_related(
        Prefetch("labels", AnnotationLabel.objects.select_related("dimension", "category")),
        Prefetch(
            "item__final_label__labels",
            FinalRecordLabel.objects.select_related("dimension", "category"),
        ),
    )


def own_annotation(*, item: Item, user) -> Annotation | None:
    """The caller's annotation of `item` with its labels (and the final label's), or None."""
    return _with_labels(Annotation.objects.filter(item=item, annotator=user)).first()


def own_records(annotation: Annotation) -> list[list[AnnotationLabel]]:
    """The annotation's labels grouped by failure record, in dimension order (the labels a
    submission just wrote, or else the prefetched ones)."""
    labels = getattr(annotation, "written_labels", None)
    if labels is None:
        labels = annotation.labels.all()
    return grouped(labels, dimension_order=True)


def labeled_items(*, project: Project, user):
    """The caller's annotations in `project`, newest first, with their labels and the item's
    final label (to be shown only when the item is settled: see compare_with_final)."""
    return _with_labels(
        project_rows(Annotation, project).filter(annotator=user).order_by("-updated_at", "-pk")
    )


def _paths(record: dict) -> dict[str, str]:
    return {label["dimension"]: label["path"] for label in record["labels"]}


def compare_with_final(annotation: Annotation, final: FinalLabel | None) -> dict | None:
    """Where the caller's annotation differs from the settled final label (None while the
    item is not settled, so that nothing leaks before). `mine` and `final` are records in
    the wire shape."""
    if final is None or annotation.item.state != Item.State.SETTLED:
        return None
    mine = to_wire(chain.from_iterable(own_records(annotation)))
    theirs = to_wire(final.labels.all())
    differences = []
    if annotation.out_of_scope != final.out_of_scope:
        differences.append("out of scope" if final.out_of_scope else "in scope")
    if len(mine) != len(theirs) and not final.out_of_scope and not annotation.out_of_scope:
        differences.append(f"{len(theirs)} failure record(s), you gave {len(mine)}")
    for number, (own, final_record) in enumerate(zip(mine, theirs, strict=False)):
        own_paths = _paths(own)
        for key, path in _paths(final_record).items():
            if own_paths.get(key) != path:
                differences.append(
                    f"record {number + 1}, {key}: {path} (yours: {own_paths.get(key)})"
                )
    return {"mine": mine, "final": theirs, "differences": differences, "final_label": final}
