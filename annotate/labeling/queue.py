"""The labeling queue: calibration first, then claims under row locks, and skips.

Every item goes to `Project.overlap` annotators, blind. The queue hands items out under
row locks (SELECT ... FOR UPDATE SKIP LOCKED on Item rows): Item.assigned_count (live
assignments plus submissions) is only ever changed by a transaction that holds the item's
row lock, so no item gets more than `overlap` annotators, and the (item, annotator)
unique constraints keep anyone from getting an item twice. Calibration items are the
exception: every annotator labels them, so `overlap` does not cap them.
"""

from datetime import timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Q,
)
from django.utils import timezone

from annotate.access import project_rows
from annotate.labeling.errors import (
    InCalibrationError,
    ItemClosedError,
    LabelingError,
    NotAssignedError,
)
from annotate.labeling.expiry import expire_assignments, sweep_due
from annotate.limits import too_long
from annotate.models import (
    Assignment,
    AuditEvent,
    GoldItem,
    Item,
    Membership,
    Project,
)
from mining.models import Issue, project_view

# How far down the sample's order the queue looks for an item, before preferring the
# items that already have an annotation among those (keeps `next` an index range scan).
QUEUE_WINDOW = 200
CALIBRATION_CACHE_SECONDS = 60
BARRED = {
    Membership.Calibration.PENDING: (
        "You are in calibration: label the gold set first (the Calibration page, or "
        "GET /api/projects/{slug}/calibration/mine/)."
    ),
    Membership.Calibration.FAILED: (
        "You used every calibration try without passing: ask the project's lead, who may "
        "admit you to the queue or send you through calibration again."
    ),
}


def _calibration_key(project: Project) -> str:
    return f"faultline:labeling:calibration:{project.pk}:{project.created_at.timestamp()}"


def calibration_item_ids(project: Project) -> list[int]:
    """Ids of the project's calibration items (cached briefly: the column has no index,
    and most projects have none, so `next_item` skips that query entirely)."""
    key = _calibration_key(project)
    ids = cache.get(key)
    if ids is None:
        ids = list(
            project_rows(Item, project)
            .filter(calibration=True)
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
    count = (
        project_rows(Item, project)
        .filter(pk__in=list(item_ids))
        .update(calibration=True, batch=batch)
    )
    AuditEvent.objects.create(
        project=project,
        actor=actor,
        kind="calibration_pinned",
        payload={"batch": batch, "items": sorted(item_ids)},
    )
    transaction.on_commit(lambda: cache.delete(_calibration_key(project)))
    return count


def _expires_at(project: Project, now):
    return now + timedelta(minutes=project.assignment_timeout_minutes)


# PostgreSQL: the caller's held assignment, or else pick, lock, count and assign the next
# item, in one statement (one round trip instead of five): a calibration item the caller
# has not had first (everyone labels those, whatever the overlap), else the queue's best.
# It runs after the caller's membership lock, so its snapshot sees an assignment another
# tab of theirs just made.
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
), calibration AS (
    SELECT i.id FROM annotate_item i
    WHERE NOT EXISTS (SELECT 1 FROM held)
        AND i.id = ANY(%(calibration)s) AND i.project_id = %(project)s
        AND i.state <> 'excluded'
        AND NOT EXISTS (SELECT 1 FROM annotate_assignment m
                        WHERE m.item_id = i.id AND m.annotator_id = %(user)s)
    ORDER BY i.position, i.id
    LIMIT 1
    FOR UPDATE OF i SKIP LOCKED
), candidates AS MATERIALIZED (
    SELECT id FROM annotate_item o
    WHERE NOT EXISTS (SELECT 1 FROM held) AND NOT EXISTS (SELECT 1 FROM calibration)
        AND project_id = %(project)s AND state = 'open' AND assigned_count < %(overlap)s
        AND NOT EXISTS (SELECT 1 FROM annotate_assignment m
                        WHERE m.item_id = o.id AND m.annotator_id = %(user)s)
        AND NOT (%(calibrated)s AND id IN (SELECT item_id FROM annotate_golditem))
    ORDER BY position, id
    LIMIT %(window)s
), picked AS (
    SELECT i.id FROM annotate_item i JOIN candidates c ON c.id = i.id
    WHERE i.state = 'open' AND i.assigned_count < %(overlap)s
    ORDER BY i.submitted_count DESC, i.position, i.id
    LIMIT 1
    FOR UPDATE OF i SKIP LOCKED
), chosen AS (
    SELECT id FROM calibration
    UNION ALL
    SELECT id FROM picked
), counted AS (
    UPDATE annotate_item SET assigned_count = annotate_item.assigned_count + 1
    FROM chosen WHERE annotate_item.id = chosen.id
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


def _claim_by_sql(project: Project, user, now, calibrated: bool) -> Item | None:
    """The PostgreSQL path of `next_item`: the item the caller holds, or the next one
    claimed for them (a calibration item first, as `_lock_candidate` picks), with its issue
    and `assignment`; None when nothing is left."""
    expires = _expires_at(project, now)
    with connection.cursor() as cursor:
        cursor.execute(
            CLAIM_SQL,
            {"project": project.pk, "overlap": project.overlap, "user": user.pk,
             "window": QUEUE_WINDOW, "now": now, "expires": expires,
             "calibration": calibration_item_ids(project), "calibrated": calibrated},
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


def _lock_candidate(project: Project, user, calibrated: bool = False) -> Item | None:
    """Lock the best item for `user`: calibration first, then items that already have an
    annotation, then the sample's order. Items locked by other callers are skipped."""
    # NOT EXISTS probes the (item, annotator) key per candidate; NOT IN read every one of
    # the caller's assignments per claim (20-140 ms for 60,000 of them, issue #15).
    mine = Exists(Assignment.objects.filter(annotator=user, item=OuterRef("pk")))
    # Items alone: joining their issues here made PostgreSQL scan the issue table.
    locking = Item.objects.select_for_update(skip_locked=True)
    calibration = calibration_item_ids(project)
    if calibration:
        item = (
            locking.filter(pk__in=calibration)
            .exclude(state=Item.State.EXCLUDED)
            .filter(~mine)
            .order_by("position", "id")
            .first()
        )
        if item is not None:
            return item
    open_with_room = Q(state=Item.State.OPEN, assigned_count__lt=project.overlap)
    # The window is read first, not as a subquery of the locking statement: as a subquery
    # PostgreSQL may join it by scanning every item of the table (it did at 10,000).
    rows = project_rows(Item, project)
    if calibrated:
        rows = rows.exclude(pk__in=project_rows(GoldItem, project).values("item_id"))
    window = list(
        rows.filter(open_with_room)
        .filter(~mine)
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
    if sweep_due(project):
        expire_assignments(project=project, now=now)
    # One caller at a time per (project, user): two tabs asking at once get one item.
    calibration = list(
        project_rows(Membership, project)
        .select_for_update(of=("self",))
        .filter(user=user)
        .order_by()
        .values_list("calibration", flat=True)
    )
    if calibration and calibration[0] in BARRED:
        # A new coder labels the gold set first (analysis.calibration); failed out, they
        # wait for the lead.
        raise InCalibrationError(BARRED[calibration[0]])
    # A coder who went through calibration saw the gold labels: the gold items' main-queue
    # annotations are left to others.
    calibrated = bool(calibration and calibration[0])
    if CLAIM_IN_ONE_STATEMENT and connection.vendor == "postgresql":
        return _claim_by_sql(project, user, now, calibrated)
    # Usually there is none: look for its id first, load it with its issue only if found.
    held = (
        project_rows(Assignment, project)
        .filter(
            annotator=user,
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
    item = _lock_candidate(project, user, calibrated)
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
    locked = project_rows(Item, project).select_for_update().get(pk=item.pk)
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
