"""Why a run's items failed: the count per reason (RaterItem.Reason) and the failed items
with their reason and message, for the run's page and the run's API detail (leads and
owners only; the messages quote the endpoint's answers and are shown escaped)."""

from __future__ import annotations

from django.db.models import Count

from annotate.models import RaterItem, RaterRun

# The API's run detail lists this many failed items; the run's page pages through all.
SHOWN_IN_API = 100


def failure_counts(run: RaterRun) -> list[dict]:
    """[{"reason", "label", "count"}] for every reason the run's failed items have, the
    most common first."""
    labels = dict(RaterItem.Reason.choices)
    rows = (
        failed_items(run)
        .order_by()
        .values_list("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")
    )
    return [
        {"reason": reason, "label": labels.get(reason, "not recorded"), "count": n}
        for reason, n in rows
    ]


def failed_items(run: RaterRun):
    """The run's failed items in sample order, with their item and issue."""
    return (
        RaterItem.objects.filter(run=run, outcome=RaterItem.Outcome.FAILED)
        .select_related("item__issue")
        .order_by("item__position", "item_id")
    )


def failure_row(failed: RaterItem) -> dict:
    item = failed.item
    return {
        "item": item.pk,
        "position": item.position,
        "title": item.snapshot_title or item.issue.title,
        "reason": failed.reason,
        "reason_label": failed.get_reason_display() if failed.reason else "not recorded",
        "error": failed.error,
        "attempts": failed.attempts,
    }


def failures_for_api(run: RaterRun) -> dict:
    """The counts per reason and the first SHOWN_IN_API failed items (the run's page lists
    them all, paginated)."""
    counts = failure_counts(run)
    total = sum(row["count"] for row in counts)
    items = [failure_row(f) for f in failed_items(run)[:SHOWN_IN_API]]
    return {"total": total, "by_reason": counts, "items": items, "items_shown": len(items)}
