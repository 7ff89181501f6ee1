"""Submissions: an annotator's failure records checked against the codebook and written
under the item's row lock (first submission or replacement), and the codebook's pickers.

The submission that brings an item to `overlap` annotations hands it to adjudication,
which settles it or sends it to the conflict queue.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from annotate.access import project_members, project_rows
from annotate.adjudication import settling
from annotate.adjudication.inbox import note_revision
from annotate.codebook.queries import CategoryRefError, category_ref, codebook
from annotate.evidence import check_spans
from annotate.labeling.errors import (
    InCalibrationError,
    ItemClosedError,
    ItemNotFoundError,
    LabelingError,
    NotAssignedError,
)
from annotate.labeling.pace import MAX_TOTAL_SECONDS, clamp_active_seconds
from annotate.labeling.queue import BARRED
from annotate.limits import first_too_long, too_long
from annotate.models import (
    Annotation,
    AnnotationLabel,
    Assignment,
    AuditEvent,
    Category,
    CategoryProposal,
    Dimension,
    Item,
    Project,
    SpanPart,
)
from annotate.records import to_wire
from annotate.spans import Span, SpanError, parse_span

CONFIDENCE_RANGE = range(1, 6)


@dataclass
class _Label:
    record: int
    dimension: Dimension
    category: Category
    evidence: str
    span: Span | None = None


def _span(number: int, dimension: Dimension, raw, evidence: str) -> Span | None:
    """The label's evidence span from its form value (None without one)."""
    if not raw:
        return None
    try:
        span = parse_span(str(raw))
    except SpanError as error:
        raise LabelingError(f"Record {number + 1}, {dimension.name}: {error}.") from None
    if not evidence:
        raise LabelingError(
            f"Record {number + 1}, {dimension.name}: an evidence span needs its quote."
        )
    return span


def _with_decided_proposals(project: Project, item: Item, user, labels: list[_Label]):
    """The first submission of an item whose author had a category proposal decided
    meanwhile (issue #17): the label of that record and dimension is the category the
    proposal became, as a decision does to an annotation submitted before it. Otherwise
    the form's stand-in category would silently replace the proposed label."""
    decided = (
        project_rows(CategoryProposal, project)
        .filter(item=item, author=user, category__isnull=False)
        .select_related("category", "dimension")
        .order_by("decided_at", "id")
    )
    records = {label.record for label in labels}
    by_place = {(label.record, label.dimension.pk): label for label in labels}
    for proposal in decided:
        if proposal.record not in records:
            continue
        label = by_place.get((proposal.record, proposal.dimension_id))
        if label is None:
            label = _Label(proposal.record, proposal.dimension, proposal.category,
                           proposal.evidence[:5000])  # fmt: skip
            by_place[(proposal.record, proposal.dimension_id)] = label
            labels.append(label)
        elif label.category.pk != proposal.category_id:
            label.category = proposal.category
    return labels


def _span_columns(span: Span | None) -> dict:
    if span is None:
        return {}
    part, _, pk = span.part.partition("-")
    return {
        "span_part": SpanPart(part),
        "span_comment": int(pk) if part == SpanPart.COMMENT else None,
        "span_fix": int(pk) if part == SpanPart.FIX else None,
        "span_start": span.start,
        "span_end": span.end,
        "span_hash": span.hash,
    }


def _category_ref(value):
    """A category named by id (int or digits) or by full path (str)."""
    try:
        return category_ref(value)
    except CategoryRefError as error:
        raise LabelingError(str(error)) from None


def resolve_labels(*, project: Project, records, out_of_scope: bool) -> list[_Label]:
    """Validate failure records against the codebook (no query once `codebook` holds it).

    `records` is a list of records, each a list of {"dimension": key, "category": id or
    full path, "evidence": optional quote, "span": optional `part:start:end:hash` of the
    quote in the issue (annotate.spans; checked against the text by submit_annotation)}.
    Raises LabelingError naming the problem."""
    records = list(records or [])
    if out_of_scope:
        if records:
            raise LabelingError("An out-of-scope annotation has no failure records.")
        return []
    if not records:
        raise LabelingError("Give at least one failure record, or mark the item out of scope.")
    book = codebook(project)
    dimensions, by_id, by_path = book.by_key, book.by_id, book.by_path
    result = []
    for number, record in enumerate(records):
        seen = set()
        for label in record:
            key = label.get("dimension")
            dimension = dimensions.get(key)
            if dimension is None:
                raise LabelingError(f"Record {number + 1}: unknown dimension '{key}'.")
            if key in seen:
                raise LabelingError(f"Record {number + 1}: dimension '{key}' is given twice.")
            seen.add(key)
            pk, path = _category_ref(label.get("category"))
            category = by_path.get((dimension.pk, path)) if path is not None else None
            if category is None and pk is not None:
                category = by_id.get(pk)
            if category is None or category.dimension_id != dimension.pk:
                raise LabelingError(
                    f"Record {number + 1}: unknown category '{label.get('category')}' "
                    f"for dimension '{key}'."
                )
            if category.retired:
                raise LabelingError(
                    f"Record {number + 1}: category '{category.path}' is retired; pick another."
                )
            evidence = str(label.get("evidence") or "").strip()
            if problem := too_long("evidence", evidence):
                raise LabelingError(f"Record {number + 1}, dimension '{key}': {problem}")
            span = _span(number, dimension, label.get("span"), evidence)
            result.append(_Label(number, dimension, category, evidence, span))
        missing = [d.key for d in dimensions.values() if d.required and d.key not in seen]
        if missing:
            raise LabelingError(
                f"Record {number + 1} is missing the required dimension "
                + ", ".join(f"'{m}'" for m in missing)
                + "."
            )
    return result


def _check_open_for(item: Item, annotation: Annotation | None) -> None:
    if item.state in (Item.State.OPEN, Item.State.DISCUSSION):
        return
    if item.calibration and annotation is None and item.state != Item.State.EXCLUDED:
        return  # a calibration item takes everyone's first annotation
    if item.state == Item.State.SETTLED:
        raise ItemClosedError("This item is settled: its annotations can no longer change.")
    if item.state == Item.State.CONFLICT:
        # Worded like any other lock: "adjudicated" would tell the annotator that the
        # other annotation disagrees with theirs.
        raise ItemClosedError("This item is in review: your annotation can no longer change.")
    raise ItemClosedError("This item is excluded from labeling.")


def _claim_slot(item: Item, assignment: Assignment | None, project: Project) -> None:
    """Make sure the caller's assignment counts towards the item's annotators."""
    if assignment is None:
        raise NotAssignedError("This item is not assigned to you.")
    if assignment.state == Assignment.State.SKIPPED:
        raise NotAssignedError("You skipped this item; it went to someone else.")
    if assignment.state == Assignment.State.EXPIRED:
        if not item.calibration and item.assigned_count >= project.overlap:
            raise ItemClosedError(
                "Your assignment of this item expired and it went to another annotator."
            )
        item.assigned_count += 1


@transaction.atomic
def submit_annotation(
    *,
    project: Project,
    user,
    item: Item | int,
    records=None,
    out_of_scope: bool = False,
    out_of_scope_reason: str = "",
    note: str = "",
    confidence: int | None = None,
    active_seconds: int | None = None,
    unassigned_is_missing: bool = False,
) -> Annotation:
    """Submit, or replace until the item is settled, the caller's annotation of `item` (an
    Item or its id).

    Precondition: the caller holds an assignment of the item (see next_item); with
    `unassigned_is_missing` (annotators, who may not learn which items exist) an item they
    hold no assignment of is ItemNotFoundError rather than NotAssignedError. Writes the
    Annotation and its labels under the item's row lock, then, once the item has all its
    annotations, lets adjudication settle it. Re-submitting the same thing is harmless.
    `active_seconds` (this visit's active time, clamped by labeling.pace) adds to the
    annotation's time.
    The returned annotation carries the labels just written as `written_labels`."""
    out_of_scope_reason = (out_of_scope_reason or "").strip()
    if problem := first_too_long(out_of_scope_reason=out_of_scope_reason, note=note):
        raise LabelingError(problem)
    if out_of_scope and not out_of_scope_reason:
        raise LabelingError("Say why the item is out of scope (a reason is required).")
    if confidence is not None and confidence not in CONFIDENCE_RANGE:
        raise LabelingError("Confidence is a whole number from 1 to 5.")
    labels = resolve_labels(project=project, records=records, out_of_scope=out_of_scope)
    item_id = item.pk if isinstance(item, Item) else item
    locked = project_rows(Item, project).select_for_update().filter(pk=item_id).first()
    if locked is None:
        raise ItemNotFoundError("No such item.")
    locked.project = project
    assignment, annotation = _own_assignment_and_annotation(locked, user)
    if assignment is None and unassigned_is_missing:
        raise ItemNotFoundError("No such item.")
    if assignment is not None and assignment.calibration in BARRED:
        # Not cleared by calibration (analysis.calibration): no main-queue labels, even of
        # an item held from before the lead sent them through it.
        raise InCalibrationError(BARRED[assignment.calibration])
    _check_open_for(locked, annotation)
    try:
        check_spans(project=project, item=locked, labels=labels)
    except SpanError as error:
        raise LabelingError(str(error)) from None
    now = timezone.now()
    fields = {
        "out_of_scope": bool(out_of_scope),
        "out_of_scope_reason": out_of_scope_reason if out_of_scope else "",
        "note": (note or "").strip(),
        "confidence": confidence,
        "codebook_version": project.codebook_version,
        "round": 2 if locked.discussed else 1,
    }
    visit = clamp_active_seconds(active_seconds)
    if visit is not None:
        before = annotation.active_seconds if annotation is not None else None
        fields["active_seconds"] = min((before or 0) + visit, MAX_TOTAL_SECONDS)
    if annotation is None:
        _claim_slot(locked, assignment, project)
        annotation = Annotation.objects.create(item=locked, annotator=user, **fields)
        locked.submitted_count += 1
        locked.save(update_fields=["assigned_count", "submitted_count"])
        assignment.state = Assignment.State.SUBMITTED
        assignment.completed_at = now
        assignment.save(update_fields=["state", "completed_at"])
        kind = "annotation_submitted"
        # Only a project that has had a pilot has proposals (no query for the others).
        had_pilot = project.phase == Project.Phase.PILOT or project.main_since_version
        if had_pilot and not out_of_scope:
            labels = _with_decided_proposals(project, locked, user, labels)
    else:
        for name, value in fields.items():
            setattr(annotation, name, value)
        annotation.save()
        AnnotationLabel.objects.filter(annotation=annotation).delete()
        kind = "annotation_replaced"
        if locked.state == Item.State.DISCUSSION:
            note_revision(item=locked, annotator=user)  # the lead reads it in the thread
    annotation.written_labels = AnnotationLabel.objects.bulk_create(
        AnnotationLabel(
            annotation=annotation,
            item=locked,
            annotator=user,
            record=label.record,
            dimension=label.dimension,
            category=label.category,
            evidence=label.evidence,
            **_span_columns(label.span),
        )
        for label in labels
    )
    AuditEvent.objects.create(
        project=project,
        item=locked,
        actor=user,
        kind=kind,
        payload={
            "annotation": annotation.pk,
            "out_of_scope": annotation.out_of_scope,
            "records": to_wire(labels),
        },
    )
    # submitted_count is the item's number of annotations (kept under this lock): before
    # `overlap` of them are in there is nothing to compare, so skip adjudication's reads.
    if locked.submitted_count >= project.overlap:
        settling.settle_if_complete(item=locked, actor=user)
    annotation.item = locked
    return annotation


def _own_assignment_and_annotation(item: Item, user) -> tuple:
    """The caller's assignment of `item` and their annotation (None for either when absent).

    Run under the item's lock so that both reflect every submission committed before. An
    annotation exists only beside a submitted assignment (submissions and imports write
    both) or beside none, so a first submission reads the assignment alone. The assignment
    carries the caller's calibration state (`calibration`), read in the same query."""
    state = (
        project_members(item.project_id)
        .filter(user_id=OuterRef("annotator_id"))
        .values("calibration")[:1]
    )
    assignment = (
        Assignment.objects.filter(item=item, annotator=user)
        .annotate(calibration=Subquery(state))
        .first()
    )
    if assignment is not None and assignment.state != Assignment.State.SUBMITTED:
        return assignment, None
    return assignment, Annotation.objects.filter(item=item, annotator=user).first()


def codebook_dimensions(project: Project) -> list[dict]:
    """The dimensions with their non-retired categories flattened in tree order (parents
    before children, siblings by `order`), for pickers. Reads `codebook`."""
    book = codebook(project)
    return [
        {"dimension": d, "categories": [c for c in book.walk(d.pk) if not c.retired]}
        for d in book.dimensions
    ]
