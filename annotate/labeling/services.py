"""The labeling queue and annotators' submissions.

Every item goes to `Project.overlap` annotators, blind. The queue hands items out under
row locks (SELECT ... FOR UPDATE SKIP LOCKED on Item rows): Item.assigned_count (live
assignments plus submissions) is only ever changed by a transaction that holds the item's
row lock, so no item gets more than `overlap` annotators, and the (item, annotator)
unique constraints keep anyone from getting an item twice. Calibration items are the
exception: every annotator labels them, so `overlap` does not cap them.
"""

import time
from dataclasses import dataclass
from datetime import timedelta
from itertools import chain

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotate.adjudication import services as adjudication
from annotate.codebook.queries import CategoryRefError, category_ref, codebook
from annotate.errors import ServiceError
from annotate.limits import first_too_long, too_long
from annotate.models import (
    PATH_SEPARATOR,
    Annotation,
    AnnotationLabel,
    Assignment,
    AuditEvent,
    Category,
    Dimension,
    FinalLabel,
    FinalRecordLabel,
    Item,
    Membership,
    Project,
    Role,
)
from annotate.records import Wire, grouped, to_wire
from mining.models import Issue, project_view

# How far down the sample's order the queue looks for an item, before preferring the
# items that already have an annotation among those (keeps `next` an index range scan).
QUEUE_WINDOW = 200
# Abandoned assignments are swept at most this often per project by `next_item`; the
# `expire_assignments` command does it for every project whenever it is run.
SWEEP_SECONDS = 30
CALIBRATION_CACHE_SECONDS = 60
CONFIDENCE_RANGE = range(1, 6)


class LabelingError(ServiceError):
    """Invalid input for a label (unknown category, missing dimension...): HTTP 400."""


class NotAssignedError(LabelingError):
    """The caller holds no usable assignment for the item: HTTP 403."""


class ItemNotFoundError(LabelingError):
    """No such item in the project, or none the caller may know of: HTTP 404."""


class ItemClosedError(LabelingError):
    """The item can no longer take (or change) this annotation: HTTP 409."""


# ---------------------------------------------------------------------------- the queue


def _calibration_key(project: Project) -> str:
    return f"faultline:labeling:calibration:{project.pk}:{project.created_at.timestamp()}"


def calibration_item_ids(project: Project) -> list[int]:
    """Ids of the project's calibration items (cached briefly: the column has no index,
    and most projects have none, so `next_item` skips that query entirely)."""
    key = _calibration_key(project)
    ids = cache.get(key)
    if ids is None:
        ids = list(
            Item.objects.filter(project=project, calibration=True)
            .exclude(state=Item.State.EXCLUDED)
            .order_by("position", "id")
            .values_list("id", flat=True)
        )
        cache.set(key, ids, CALIBRATION_CACHE_SECONDS)
    return ids


@transaction.atomic
def pin_calibration(*, project: Project, item_ids, batch: str, actor=None) -> int:
    """Mark items of `project` as the calibration batch `batch` that everyone labels first.

    Idempotent. Returns the number of items in the batch."""
    count = Item.objects.filter(project=project, pk__in=list(item_ids)).update(
        calibration=True, batch=batch
    )
    AuditEvent.objects.create(
        project=project,
        actor=actor,
        kind="calibration_pinned",
        payload={"batch": batch, "items": sorted(item_ids)},
    )
    transaction.on_commit(lambda: cache.delete(_calibration_key(project)))
    return count


@transaction.atomic
def expire_assignments(*, project: Project | None = None, now=None) -> int:
    """Expire active assignments past their `expires_at` and free their items' slots.

    Items locked by someone else right now are left for the next sweep. Idempotent.
    Returns the number of assignments expired."""
    now = now or timezone.now()
    stale = Assignment.objects.filter(state=Assignment.State.ACTIVE, expires_at__lt=now)
    items = Item.objects.filter(pk__in=stale.values("item_id"))
    if project is not None:
        items = items.filter(project=project)
    locked = list(
        items.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)
    )
    if not locked:
        return 0
    expired = stale.filter(item_id__in=locked).update(
        state=Assignment.State.EXPIRED, completed_at=now
    )
    live = (
        Assignment.objects.filter(
            item=OuterRef("pk"),
            state__in=[Assignment.State.ACTIVE, Assignment.State.SUBMITTED],
        )
        .order_by()
        .values("item")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Item.objects.filter(pk__in=locked).update(assigned_count=Coalesce(Subquery(live), 0))
    return expired


_swept_at: dict[int, float] = {}


def _sweep_now(project: Project) -> bool:
    """True at most once per SWEEP_SECONDS per project across processes (the shared cache
    elects the sweeper); each process asks the cache at most that often, not per call."""
    now = time.monotonic()
    if now - _swept_at.get(project.pk, -SWEEP_SECONDS) < SWEEP_SECONDS:
        return False
    _swept_at[project.pk] = now
    return cache.add(f"faultline:labeling:sweep:{project.pk}", 1, SWEEP_SECONDS)


def _expires_at(project: Project, now):
    return now + timedelta(minutes=project.assignment_timeout_minutes)


# PostgreSQL: the caller's held assignment, or else pick, lock, count and assign the next
# item, in one statement (one round trip instead of five). It runs after the caller's
# membership lock, so its snapshot sees an assignment another tab of theirs just made.
# The window is MATERIALIZED so that PostgreSQL reads it by the queue index before it
# joins (as a plain subquery it may scan every item); the conditions are repeated on the
# locked row, which FOR UPDATE re-checks on the row's newest version; the UPDATE adds one
# to the newest assigned_count.
CLAIM_IN_ONE_STATEMENT = True  # False: the portable ORM path everywhere (the tests run both)
CLAIM_SQL = """
WITH held AS (
    SELECT a.id, a.item_id, a.expires_at FROM annotate_assignment a
    JOIN annotate_item i ON i.id = a.item_id
    WHERE a.annotator_id = %(user)s AND i.project_id = %(project)s AND a.state = 'active'
        AND a.expires_at > %(now)s
    ORDER BY a.assigned_at
    LIMIT 1
), candidates AS MATERIALIZED (
    SELECT id FROM annotate_item
    WHERE NOT EXISTS (SELECT 1 FROM held)
        AND project_id = %(project)s AND state = 'open' AND assigned_count < %(overlap)s
        AND id NOT IN (SELECT item_id FROM annotate_assignment WHERE annotator_id = %(user)s)
    ORDER BY position, id
    LIMIT %(window)s
), picked AS (
    SELECT i.id FROM annotate_item i JOIN candidates c ON c.id = i.id
    WHERE i.state = 'open' AND i.assigned_count < %(overlap)s
    ORDER BY i.submitted_count DESC, i.position, i.id
    LIMIT 1
    FOR UPDATE OF i SKIP LOCKED
), counted AS (
    UPDATE annotate_item SET assigned_count = annotate_item.assigned_count + 1
    FROM picked WHERE annotate_item.id = picked.id
    RETURNING annotate_item.id
), assigned AS (
    INSERT INTO annotate_assignment
        (item_id, annotator_id, state, skip_reason, assigned_at, expires_at, completed_at)
    SELECT id, %(user)s, 'active', '', %(now)s, %(expires)s, NULL FROM counted
    RETURNING id, item_id, expires_at
)
SELECT id, item_id, expires_at FROM held
UNION ALL
SELECT id, item_id, expires_at FROM assigned
"""


def _claim_by_sql(project: Project, user, now) -> Item | None:
    """The PostgreSQL path of `next_item` for a project without calibration items: the
    item the caller holds, or the best open item claimed for them, with its issue and
    `assignment`; None when nothing is left."""
    expires = _expires_at(project, now)
    with connection.cursor() as cursor:
        cursor.execute(
            CLAIM_SQL,
            {"project": project.pk, "overlap": project.overlap, "user": user.pk,
             "window": QUEUE_WINDOW, "now": now, "expires": expires},
        )  # fmt: skip
        row = cursor.fetchone()
    if row is None:
        return None
    assignment_id, item_id, expires_at = row
    # Without GitHub's whole JSON (`raw`): the reply needs none of it.
    item = (
        Item.objects.select_related("issue__repository")
        .defer("issue__raw")
        .annotate(project_group=_group_of(project, "issue__repository"))
        .get(pk=item_id)
    )
    item.assignment = Assignment(
        pk=assignment_id, item=item, annotator=user, state=Assignment.State.ACTIVE,
        expires_at=expires_at,
    )  # fmt: skip
    return item


def _group_of(project: Project, repository: str):
    """The project's own group of the repository at path `repository`, read with the item
    (the queue's reply shows it without a query more)."""
    return project_view("group", project=project, repository=repository)


def _lock_candidate(project: Project, user) -> Item | None:
    """Lock the best item for `user`: calibration first, then items that already have an
    annotation, then the sample's order. Items locked by other callers are skipped."""
    mine = Assignment.objects.filter(annotator=user).values("item_id")
    # Items alone: joining their issues here made PostgreSQL scan the issue table.
    locking = Item.objects.select_for_update(skip_locked=True)
    calibration = calibration_item_ids(project)
    if calibration:
        item = (
            locking.filter(pk__in=calibration)
            .exclude(state=Item.State.EXCLUDED)
            .exclude(pk__in=mine)
            .order_by("position", "id")
            .first()
        )
        if item is not None:
            return item
    open_with_room = Q(state=Item.State.OPEN, assigned_count__lt=project.overlap)
    # The window is read first, not as a subquery of the locking statement: as a subquery
    # PostgreSQL may join it by scanning every item of the table (it did at 10,000).
    window = list(
        Item.objects.filter(open_with_room, project=project)
        .exclude(pk__in=mine)
        .order_by("position", "id")
        .values_list("pk", flat=True)[:QUEUE_WINDOW]
    )
    if not window:
        return None
    # The conditions are repeated so that PostgreSQL checks them on each row's newest
    # version once it holds the lock.
    return (
        locking.filter(open_with_room, pk__in=window)
        .order_by("-submitted_count", "position", "id")
        .first()
    )


@transaction.atomic
def next_item(*, project: Project, user) -> Item | None:
    """The caller's next item to label, assigned to them (`item.assignment`); None when
    nothing is left.

    The caller's own live assignment comes back first, so asking twice is idempotent.
    Race-free: candidates are taken under FOR UPDATE SKIP LOCKED."""
    now = timezone.now()
    if _sweep_now(project):
        expire_assignments(project=project, now=now)
    # One caller at a time per (project, user): two tabs asking at once get one item.
    list(
        Membership.objects.select_for_update(of=("self",))
        .filter(project=project, user=user)
        .order_by()
        .values_list("pk", flat=True)
    )
    if (
        CLAIM_IN_ONE_STATEMENT
        and connection.vendor == "postgresql"
        and not calibration_item_ids(project)
    ):
        return _claim_by_sql(project, user, now)
    # Usually there is none: look for its id first, load it with its issue only if found.
    held = (
        Assignment.objects.filter(
            annotator=user,
            item__project=project,
            state=Assignment.State.ACTIVE,
            expires_at__gt=now,
        )
        .order_by("assigned_at")
        .values_list("pk", flat=True)
        .first()
    )
    if held is not None:
        held = (
            Assignment.objects.select_related("item__issue__repository")
            .defer("item__issue__raw")
            .annotate(project_group=_group_of(project, "item__issue__repository"))
            .get(pk=held)
        )
        held.item.assignment = held
        held.item.project_group = held.project_group
        return held.item
    item = _lock_candidate(project, user)
    if item is None:
        return None
    # Without GitHub's whole JSON (`raw`): the reply needs none of it.
    item.issue = (
        Issue.objects.select_related("repository")
        .defer("raw")
        .annotate(project_group=_group_of(project, "repository"))
        .get(pk=item.issue_id)
    )
    item.project_group = item.issue.project_group
    item.assignment = Assignment.objects.create(
        item=item,
        annotator=user,
        expires_at=_expires_at(project, now),
        state=Assignment.State.ACTIVE,
    )
    Item.objects.filter(pk=item.pk).update(assigned_count=F("assigned_count") + 1)
    item.assigned_count += 1
    return item


@transaction.atomic
def skip_item(*, project: Project, user, item: Item, reason: str) -> Assignment:
    """Give back the caller's active assignment with a reason; the item goes to someone
    else and never comes back to the caller."""
    reason = (reason or "").strip()
    if not reason:
        raise LabelingError("Say why you skip this item (a reason is required).")
    if problem := too_long("reason", reason):
        raise LabelingError(problem)
    locked = Item.objects.select_for_update().get(pk=item.pk, project=project)
    assignment = Assignment.objects.filter(item=locked, annotator=user).first()
    if assignment is None:
        raise NotAssignedError("This item is not assigned to you.")
    if assignment.state == Assignment.State.SUBMITTED:
        raise ItemClosedError("You already submitted this item; revise it instead of skipping.")
    if assignment.state == Assignment.State.SKIPPED:
        return assignment
    if assignment.state == Assignment.State.ACTIVE:
        locked.assigned_count = max(locked.assigned_count - 1, 0)
        locked.save(update_fields=["assigned_count"])
    assignment.state = Assignment.State.SKIPPED
    assignment.skip_reason = reason
    assignment.completed_at = timezone.now()
    assignment.save(update_fields=["state", "skip_reason", "completed_at"])
    AuditEvent.objects.create(
        project=project, item=locked, actor=user, kind="item_skipped", payload={"reason": reason}
    )
    return assignment


# ---------------------------------------------------------------------- submissions


@dataclass
class _Label:
    record: int
    dimension: Dimension
    category: Category
    evidence: str


def _category_ref(value):
    """A category named by id (int or digits) or by full path (str)."""
    try:
        return category_ref(value)
    except CategoryRefError as error:
        raise LabelingError(str(error)) from None


def resolve_labels(*, project: Project, records, out_of_scope: bool) -> list[_Label]:
    """Validate failure records against the codebook (no query once `codebook` holds it).

    `records` is a list of records, each a list of {"dimension": key, "category": id or
    full path, "evidence": optional quote}. Raises LabelingError naming the problem."""
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
            result.append(_Label(number, dimension, category, evidence))
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
    unassigned_is_missing: bool = False,
) -> Annotation:
    """Submit, or replace until the item is settled, the caller's annotation of `item` (an
    Item or its id).

    Precondition: the caller holds an assignment of the item (see next_item); with
    `unassigned_is_missing` (annotators, who may not learn which items exist) an item they
    hold no assignment of is ItemNotFoundError rather than NotAssignedError. Writes the
    Annotation and its labels under the item's row lock, then, once the item has all its
    annotations, lets adjudication settle it. Re-submitting the same thing is harmless.
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
    locked = Item.objects.select_for_update().filter(pk=item_id, project=project).first()
    if locked is None:
        raise ItemNotFoundError("No such item.")
    locked.project = project
    assignment, annotation = _own_assignment_and_annotation(locked, user)
    if assignment is None and unassigned_is_missing:
        raise ItemNotFoundError("No such item.")
    _check_open_for(locked, annotation)
    now = timezone.now()
    fields = {
        "out_of_scope": bool(out_of_scope),
        "out_of_scope_reason": out_of_scope_reason if out_of_scope else "",
        "note": (note or "").strip(),
        "confidence": confidence,
        "codebook_version": project.codebook_version,
        "round": 2 if locked.discussed else 1,
    }
    if annotation is None:
        _claim_slot(locked, assignment, project)
        annotation = Annotation.objects.create(item=locked, annotator=user, **fields)
        locked.submitted_count += 1
        locked.save(update_fields=["assigned_count", "submitted_count"])
        assignment.state = Assignment.State.SUBMITTED
        assignment.completed_at = now
        assignment.save(update_fields=["state", "completed_at"])
        kind = "annotation_submitted"
    else:
        for name, value in fields.items():
            setattr(annotation, name, value)
        annotation.save()
        AnnotationLabel.objects.filter(annotation=annotation).delete()
        kind = "annotation_replaced"
    annotation.written_labels = AnnotationLabel.objects.bulk_create(
        AnnotationLabel(
            annotation=annotation,
            item=locked,
            annotator=user,
            record=label.record,
            dimension=label.dimension,
            category=label.category,
            evidence=label.evidence,
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
            "records": _records_payload(labels),
        },
    )
    # submitted_count is the item's number of annotations (kept under this lock): before
    # `overlap` of them are in there is nothing to compare, so skip adjudication's reads.
    if locked.submitted_count >= project.overlap:
        adjudication.settle_if_complete(item=locked, actor=user)
    annotation.item = locked
    return annotation


def _own_assignment_and_annotation(item: Item, user) -> tuple:
    """The caller's assignment of `item` and their annotation (None for either when absent).

    Run under the item's lock so that both reflect every submission committed before. An
    annotation exists only beside a submitted assignment (submissions and imports write
    both) or beside none, so a first submission reads the assignment alone."""
    assignment = Assignment.objects.filter(item=item, annotator=user).first()
    if assignment is not None and assignment.state != Assignment.State.SUBMITTED:
        return assignment, None
    return assignment, Annotation.objects.filter(item=item, annotator=user).first()


def _records_payload(labels: list[_Label]) -> list[dict]:
    return to_wire(labels, Wire.PATHS)


# ------------------------------------------------------------------------ reading


def codebook_dimensions(project: Project) -> list[dict]:
    """The dimensions with their non-retired categories flattened in tree order (parents
    before children, siblings by `order`), for pickers. Reads `codebook`."""
    book = codebook(project)
    return [
        {"dimension": d, "categories": [c for c in book.walk(d.pk) if not c.retired]}
        for d in book.dimensions
    ]


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


# Before settlement an annotator may know whether they submitted an item, not whether
# anyone else did or disagreed: to them an open item and one in conflict look alike.
# (Discussion is shown: a lead opens it to show both annotations to their annotators.)
SUBMITTED = "submitted"
ITEM_STATES_SHOWN = [*Item.State.choices, (SUBMITTED, "submitted by you, not settled yet")]
_UNSETTLED = [Item.State.OPEN, Item.State.CONFLICT]


def shown_state(*, user, role: str):
    """The item state the caller may see, as an expression to annotate items with.

    Leads and owners see the state; annotators see `submitted` for open or conflicting
    items they annotated, and `open` for those they did not."""
    if role != Role.ANNOTATOR:
        return F("state")
    mine = Annotation.objects.filter(item=OuterRef("pk"), annotator=user)
    return Case(
        When(Q(state__in=_UNSETTLED) & Exists(mine), then=Value(SUBMITTED)),
        When(state__in=_UNSETTLED, then=Value(Item.State.OPEN)),
        default=F("state"),
        output_field=CharField(),
    )


def shown_state_of(item: Item, *, user, role: str) -> str:
    """`shown_state` for one item already loaded (one query, for annotators only)."""
    if role != Role.ANNOTATOR or item.state not in _UNSETTLED:
        return item.state
    submitted = Annotation.objects.filter(item=item, annotator=user).exists()
    return SUBMITTED if submitted else Item.State.OPEN


def annotator_progress(*, project: Project, user) -> dict:
    """The caller's own counts: done today, done in total, and items the queue could still
    give them. Says nothing about anyone else's labels."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    done = Annotation.objects.filter(item__project=project, annotator=user).aggregate(
        total=Count("id"), today=Count("id", filter=Q(created_at__gte=start))
    )
    remaining = (
        Item.objects.filter(project=project)
        .filter(
            Q(state=Item.State.OPEN, assigned_count__lt=project.overlap)
            | Q(calibration=True, state__in=[Item.State.OPEN, Item.State.SETTLED])
        )
        .exclude(pk__in=Assignment.objects.filter(annotator=user).values("item_id"))
        .count()
    )
    return {"done_today": done["today"], "done_total": done["total"], "remaining": remaining}


def project_progress(*, project: Project, role: str) -> dict:
    """Items in the project and how many are settled. Conflict and per-state counts are
    for leads and owners only: for an annotator they would give other labels away."""
    counts = dict(
        Item.objects.filter(project=project).values_list("state").annotate(n=Count("id")).order_by()
    )
    total = sum(counts.values())
    settled = counts.get(Item.State.SETTLED, 0)
    result = {
        "total": total,
        "settled": settled,
        "percent": round(100 * settled / total) if total else 0,
    }
    if role in (Role.OWNER, Role.LEAD):
        result["states"] = counts
    return result


def labeled_items(*, project: Project, user):
    """The caller's annotations in `project`, newest first, with their labels and the item's
    final label (to be shown only when the item is settled: see compare_with_final)."""
    return _with_labels(
        Annotation.objects.filter(item__project=project, annotator=user).order_by(
            "-updated_at", "-pk"
        )
    )


def final_records(final: FinalLabel) -> list[dict]:
    """A settled item's final records as {dimension key: category path}."""
    return to_wire(final.labels.all(), Wire.PATHS)


def compare_with_final(annotation: Annotation, final: FinalLabel | None) -> dict | None:
    """Where the caller's annotation differs from the settled final label (None while the
    item is not settled, so that nothing leaks before)."""
    if final is None or annotation.item.state != Item.State.SETTLED:
        return None
    mine = to_wire(chain.from_iterable(own_records(annotation)), Wire.PATHS)
    theirs = final_records(final)
    differences = []
    if annotation.out_of_scope != final.out_of_scope:
        differences.append("out of scope" if final.out_of_scope else "in scope")
    if len(mine) != len(theirs) and not final.out_of_scope and not annotation.out_of_scope:
        differences.append(f"{len(theirs)} failure record(s), you gave {len(mine)}")
    for number, (own, final_record) in enumerate(zip(mine, theirs, strict=False)):
        for key, path in final_record.items():
            if own.get(key) != path:
                differences.append(f"record {number + 1}, {key}: {path} (yours: {own.get(key)})")
    return {"mine": mine, "final": theirs, "differences": differences, "final_label": final}


__all__ = [
    "PATH_SEPARATOR",
    "ItemClosedError",
    "ItemNotFoundError",
    "LabelingError",
    "NotAssignedError",
    "annotator_progress",
    "calibration_item_ids",
    "codebook",
    "codebook_dimensions",
    "compare_with_final",
    "expire_assignments",
    "labeled_items",
    "next_item",
    "own_annotation",
    "own_records",
    "pin_calibration",
    "project_progress",
    "resolve_labels",
    "shown_state",
    "shown_state_of",
    "skip_item",
    "submit_annotation",
]
