"""What a member is shown of items' states and of progress, shaped for the caller's role
(the labeling pages, the API's item list and its state filter read them)."""

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.utils import timezone

from annotate.access import project_rows, sees_true_state
from annotate.models import (
    Annotation,
    Assignment,
    GoldItem,
    Item,
    Membership,
    Project,
    Role,
)
from annotate.versioned import cached

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
    if sees_true_state(role):
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
    if sees_true_state(role) or item.state not in _UNSETTLED:
        return item.state
    submitted = Annotation.objects.filter(item=item, annotator=user).exists()
    return SUBMITTED if submitted else Item.State.OPEN


def annotator_progress(*, project: Project, user) -> dict:
    """The caller's own counts: done today, done in total, and items the queue could still
    give them. Says nothing about anyone else's labels."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    # The caller's own annotations change only with the data (a submission moves the data
    # version): counted once per version and day, for this caller alone.
    done = cached(
        project,
        ("annotator-done", user.pk, start.isoformat()),
        lambda: (
            project_rows(Annotation, project)
            .filter(annotator=user)
            .aggregate(total=Count("id"), today=Count("id", filter=Q(created_at__gte=start)))
        ),
    )
    # Claims change this count without changing the data, so it is never cached; NOT
    # EXISTS probes the (item, annotator) key per candidate instead of reading every one of
    # the caller's assignments (3x faster at 100,000 items).
    # What is left is what the queue (labeling.queue) would still give the caller, plus the
    # item they hold now: an open item with room, never a gold item once calibrated; a
    # calibration item in any state but excluded (everyone labels those, so its state, a
    # conflict among others, must not move the count).
    mine = Assignment.objects.filter(annotator=user, item=OuterRef("pk"))
    queued = Q(state=Item.State.OPEN, assigned_count__lt=project.overlap)
    calibration = (
        project_rows(Membership, project).filter(user=user).values_list("calibration", flat=True)
    )
    if any(calibration):
        queued &= ~Q(pk__in=project_rows(GoldItem, project).values("item_id"))
    pinned = Q(calibration=True) & ~Q(state=Item.State.EXCLUDED)
    # The items held now have an assignment, so they are apart from those still queued:
    # counted on their own (a few rows) rather than probed for every item.
    held = project_rows(Assignment, project).filter(
        annotator=user, state=Assignment.State.ACTIVE, expires_at__gt=timezone.now()
    )
    remaining = (
        project_rows(Item, project).filter(queued | pinned).filter(~Exists(mine)).count()
        + held.count()
    )
    return {"done_today": done["today"], "done_total": done["total"], "remaining": remaining}


def project_progress(*, project: Project, role: str) -> dict:
    """Items in the project and how many are settled. Conflict and per-state counts are
    for leads and owners only: for an annotator they would give other labels away."""
    counts = cached(
        project,
        ("item-states",),
        lambda: dict(
            project_rows(Item, project).values_list("state").annotate(n=Count("id")).order_by()
        ),
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
