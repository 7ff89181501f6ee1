"""Time per item (issue #15): the labeling page's active seconds, clamped, and each
annotator's pace for the project page: done / assigned, the median active time per item
and its trend per day, for planning and for spotting fatigue.

The medians are PostgreSQL's percentile_cont in the statement; under SQLite (`make run`)
the same medians are taken in Python.
"""

import statistics
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Aggregate, Count, FloatField
from django.db.models.functions import TruncDate
from django.utils import timezone

from annotate.access import (
    MANAGERS,
    has_role,
    names_hidden_from,
    project_members,
    project_rows,
    pseudonym,
)
from annotate.models import Annotation, Assignment, Membership, Project, Role
from annotate.versioned import cached

# One visit of the labeling page counts at most this long: a tab left open over a
# weekend is not four days of work.
MAX_VISIT_SECONDS = 4 * 60 * 60
# All visits of one annotation together: a week of active work on one issue is already
# beyond any study's pace, and resubmissions cannot grow the total without bound.
MAX_TOTAL_SECONDS = 7 * 24 * 60 * 60
TREND_DAYS = 14


def clamp_active_seconds(value) -> int | None:
    """A visit's active seconds as sent by the page, within 0..MAX_VISIT_SECONDS; None
    when nothing usable was sent (not measured)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        seconds = round(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return max(0, min(seconds, MAX_VISIT_SECONDS))


class Median(Aggregate):
    """PostgreSQL's continuous median of an expression."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _medians(rows, keys: tuple[str, ...]) -> dict:
    """{key values: median active seconds} over annotations `rows`, grouped by `keys`."""
    timed = rows.filter(active_seconds__isnull=False)
    if connection.vendor == "postgresql":
        grouped = timed.values(*keys).annotate(median=Median("active_seconds")).order_by()
        return {tuple(row[k] for k in keys): row["median"] for row in grouped}
    values: dict[tuple, list[int]] = {}
    for row in timed.values(*keys, "active_seconds"):
        values.setdefault(tuple(row[k] for k in keys), []).append(row["active_seconds"])
    return {key: float(statistics.median(v)) for key, v in values.items()}


def _submitted_facts(project: Project, user_id: int | None, today) -> dict:
    """What the project's submitted work says of each annotator (of `user_id` alone when
    given): items done, submitted assignments, the median active seconds per item and per
    day of the trend. It all moves with the annotations, so it is kept per data version
    (and day): at 100,000 items it is five aggregates over 200,000 rows (about 0.3 s)."""

    def compute() -> dict:
        annotations = project_rows(Annotation, project)
        submitted = project_rows(Assignment, project).filter(state=Assignment.State.SUBMITTED)
        if user_id is not None:
            annotations = annotations.filter(annotator_id=user_id)
            submitted = submitted.filter(annotator_id=user_id)
        recent = annotations.filter(
            created_at__gte=timezone.now() - timedelta(days=TREND_DAYS + 1)
        ).annotate(day=TruncDate("created_at"))
        return {
            "done": dict(
                annotations.values_list("annotator_id").annotate(n=Count("id")).order_by()
            ),
            "submitted": dict(
                submitted.values_list("annotator_id").annotate(n=Count("id")).order_by()
            ),
            "overall": _medians(annotations, ("annotator_id",)),
            "daily": _medians(recent, ("annotator_id", "day")),
        }

    return cached(project, ("pace", user_id, today.isoformat()), compute)


def annotator_pace(*, project: Project, membership: Membership) -> list[dict]:
    """One row per annotator of `project` (for an annotator: their own row only): who
    (a pseudonym while names are hidden from the caller), done and assigned items (held
    now or submitted), the median active seconds per item and the median per day over the
    last TREND_DAYS days (None for a day without timed items). The submitted part comes
    from the cache (_submitted_facts); the items held now are read live (a few rows)."""
    manager = has_role(membership, MANAGERS)  # everyone else's pace is for leads and owners
    user_id = None if manager else membership.user_id
    today = timezone.localdate()
    facts = _submitted_facts(project, user_id, today)
    # Past its expiry an assignment is no longer held (the queue gives the item to someone
    # else at its next sweep), swept or not.
    held = (
        project_rows(Assignment, project)
        .filter(state=Assignment.State.ACTIVE)
        .exclude(expires_at__lte=timezone.now())
    )
    if user_id is not None:
        held = held.filter(annotator_id=user_id)
    held = dict(held.values_list("annotator_id").annotate(n=Count("id")).order_by())
    done, overall, daily = facts["done"], facts["overall"], facts["daily"]
    assigned = {
        pk: facts["submitted"].get(pk, 0) + held.get(pk, 0)
        for pk in set(facts["submitted"]) | set(held)
    }
    annotator_ids = set(assigned) | set(
        project_members(project).filter(role=Role.ANNOTATOR).values_list("user_id", flat=True)
    )
    if user_id is not None:
        annotator_ids &= {user_id}
    first_day = today - timedelta(days=TREND_DAYS - 1)
    days = [first_day + timedelta(days=n) for n in range(TREND_DAYS)]
    hidden = names_hidden_from(project, membership)
    users = get_user_model().objects.filter(pk__in=annotator_ids)
    rows = []
    for user in users:
        if user.pk == membership.user_id:
            name = "You"
        elif hidden:
            name = pseudonym(project.pk, user.pk)
        else:
            name = user.get_full_name() or user.username
        trend = [daily.get((user.pk, day)) for day in days]
        rows.append(
            {
                "name": name,
                "done": done.get(user.pk, 0),
                "assigned": assigned.get(user.pk, 0),
                "median": overall.get((user.pk,)),
                "trend": trend,
                "days": days,
                "sparkline": sparkline(trend),
                "trend_text": trend_text(days, trend),
            }
        )
    rows.sort(key=lambda row: (row["name"] != "You", row["name"].lower()))
    return rows


def duration(seconds) -> str:
    """Seconds as people read them: "45 s", "3 min 20 s", "1 h 05 min"."""
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def trend_text(days, trend) -> str:
    """The sparkline's text alternative: each day with a median, in words."""
    parts = [
        f"{day:%b} {day.day}: {duration(value)}"
        for day, value in zip(days, trend, strict=True)
        if value is not None
    ]
    if not parts:
        return f"No timed items in the last {len(days)} days."
    return f"Median active time per item, by day: {', '.join(parts)}."


def sparkline(values, width: int = 112, height: int = 24) -> dict:
    """Points of an inline SVG line over `values` (None breaks the line): {"width",
    "height", "lines": ["x,y x,y", ...], "dots": [(x, y)]}."""
    known = [v for v in values if v is not None]
    top = max(known, default=0) or 1
    step = width / max(len(values) - 1, 1)
    pad = 2
    lines, current, dots = [], [], []
    for index, value in enumerate(values):
        if value is None:
            if current:
                lines.append(current)
            current = []
            continue
        x = round(index * step, 1)
        y = round(pad + (height - 2 * pad) * (1 - value / top), 1)
        current.append(f"{x},{y}")
        dots.append((x, y))
    if current:
        lines.append(current)
    return {
        "width": width,
        "height": height,
        "lines": [" ".join(line) for line in lines if len(line) > 1],
        "dots": dots,
    }
