"""The conflict queue: items in conflict, oldest waiting first, narrowed by dimension,
category pair, repository or group; its counts; and each item's open differences.
"""

import re

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce

from annotate.access import project_rows
from annotate.models import AuditEvent, Conflict, Item
from mining.models import project_view


def parse_pair(text: str | None) -> tuple[int, int] | None:
    """Two category ids from a query's 'ID,ID'; None for anything else (an id past the
    database's range, or a digit that int() refuses, would otherwise be a 500)."""
    match = re.fullmatch(r"([0-9]{1,18}),([0-9]{1,18})", text or "")
    return (int(match[1]), int(match[2])) if match else None


def conflict_queue(project, *, dimension=None, pair=None, repository=None, group=None):
    """Items in conflict, oldest waiting first, narrowed by dimension key, by a pair of
    category ids (either order), by repository ("owner/name") or by repository group."""
    waiting = (
        Conflict.objects.filter(item=OuterRef("pk"), resolved=False)
        .order_by()
        .values("item")
        .annotate(since=Min("created_at"))
        .values("since")
    )
    # An item re-opened with no open difference (its annotators agreed) waits from its
    # re-opening, not from its creation (which put it at the head of the queue).
    reopened = (
        AuditEvent.objects.filter(item=OuterRef("pk"), kind="reopened")
        .order_by()
        .values("item")
        .annotate(at=Max("created_at"))
        .values("at")
    )
    items = (
        project_rows(Item, project)
        .filter(state=Item.State.CONFLICT)
        .select_related("issue__repository")
        .annotate(
            waiting_since=Coalesce(Subquery(waiting), Subquery(reopened), "created_at"),
            project_group=project_view("group", project=project, repository="issue__repository"),
        )
    )
    conflicts = project_rows(Conflict, project).filter(resolved=False)
    if any("\x00" in (text or "") for text in (dimension, repository, group)):
        # No stored text holds a NUL (PostgreSQL refuses them): the filter matches nothing.
        return items.none()
    narrowed = False
    if dimension:
        conflicts = conflicts.filter(dimension__key=dimension)
        narrowed = True
    if pair:
        conflicts = conflicts.between(*pair)
        narrowed = True
    if narrowed:
        items = items.filter(pk__in=conflicts.values("item_id"))
    if repository:
        owner, _, name = repository.partition("/")
        items = items.filter(issue__repository__owner=owner, issue__repository__name=name)
    if group:
        items = items.filter(project_group=group)
    return items.order_by("waiting_since", "position", "pk")


ORDER_SQL = """
SELECT COALESCE(
           w.since,
           (SELECT max(e.created_at) FROM annotate_auditevent e
            WHERE e.item_id = i.id AND e.kind = 'reopened'),
           i.created_at),
       i.position, i.id
FROM annotate_item i
LEFT JOIN (SELECT item_id, min(created_at) AS since FROM annotate_conflict
           WHERE project_id = %s AND NOT resolved GROUP BY item_id) w ON w.item_id = i.id
WHERE i.project_id = %s AND i.state = %s {narrowed}
ORDER BY 1, 2, 3"""


def queue_keys(project, **filters) -> list[tuple]:
    """(waiting since, position, id) of every item of conflict_queue(project, **filters),
    in its order. One statement that aggregates the open conflicts once and joins them to
    the items: conflict_queue's per-item subquery and issue join cost 3-4 times as much
    at 32,000 conflicts (and crossed the cost at which PostgreSQL compiles with JIT)."""
    narrowed, params = "", []
    if any(filters.values()):
        kept = conflict_queue(project, **filters).order_by().values("pk")
        try:
            sql, params = kept.query.sql_with_params()
        except EmptyResultSet:  # a filter nothing can match
            return []
        narrowed = f"AND i.id IN ({sql})"
    with connection.cursor() as cursor:
        cursor.execute(
            ORDER_SQL.format(narrowed=narrowed),
            [project.pk, project.pk, Item.State.CONFLICT, *params],
        )
        return cursor.fetchall()


def rows_by_id(project, ids):
    """The project's items of `ids` with their issues and repositories (one query)."""
    return project_rows(Item, project).filter(pk__in=ids).select_related("issue__repository")


def conflict_counts(project) -> dict:
    """Items in conflict: in all, per dimension key, and per category pair (top 20)."""
    open_rows = project_rows(Conflict, project).filter(resolved=False, item__state="conflict")
    by_dimension = dict(
        open_rows.exclude(dimension=None)
        .values_list("dimension__key")
        .annotate(n=Count("item", distinct=True))
        .order_by()
    )
    rows = (
        open_rows.filter(kind=Conflict.Kind.CATEGORY)
        .exclude(category_a=None)
        .exclude(category_b=None)
        .values_list("item_id", "category_a", "category_b", "category_a__path", "category_b__path")
    )
    # A pair is unordered: A's OOM against B's Device Error is B's Device Error against A's OOM.
    pairs: dict[tuple, dict] = {}
    for item_id, a, b, path_a, path_b in rows:
        (a, path_a), (b, path_b) = sorted([(a, path_a), (b, path_b)], key=lambda c: c[1])
        entry = pairs.setdefault(
            (a, b), {"category_a": a, "category_b": b, "value": f"{a},{b}", "items": set()}
        )
        entry.update({"category_a__path": path_a, "category_b__path": path_b})
        entry["items"].add(item_id)
    ranked = sorted(pairs.values(), key=lambda p: (-len(p["items"]), p["category_a__path"]))
    return {
        "total": project_rows(Item, project).filter(state=Item.State.CONFLICT).count(),
        "by_dimension": by_dimension,
        "pairs": [
            {key: value for key, value in p.items() if key != "items"} | {"n": len(p["items"])}
            for p in ranked[:20]
        ],
    }


def open_differences(items) -> dict[int, list[Conflict]]:
    """The open conflicts of several items, keyed by item id (one query)."""
    result: dict[int, list[Conflict]] = {}
    rows = Conflict.objects.filter(item__in=items, resolved=False).select_related(
        "dimension", "category_a", "category_b"
    )
    for row in rows.order_by("record", "dimension__order", "level"):
        result.setdefault(row.item_id, []).append(row)
    return result
