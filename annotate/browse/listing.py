"""The item browser's rows: the caller's visible items narrowed by the filters, one page
at a time by keyset (a page marker, never an OFFSET), with a count capped so that a
large project is not counted in full on every request."""

import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q

from annotate.access import (
    MANAGERS,
    all_repository_views,
    final_record_labels,
    has_role,
    visible_items,
)
from annotate.browse.filters import BrowseError, Filters
from annotate.browse.search import search_items
from annotate.labeling.shown import shown_state
from annotate.models import PATH_SEPARATOR, AnnotationLabel, Assignment, FinalRecordLabel, Item
from annotate.records import grouped
from mining.access import ProjectGroups, TextAccess

PAGE_SIZE = 50
# Counted exactly up to this many; past it the page says "about N", N the planner's estimate
# (issue #15: counting up to 10,001 rows was most of a large list's time).
COUNT_CAP = 1_000
# Ranking reads every matching document; past this many matches a search lists its items
# in issue order instead (and says so), which reads only as many as a page shows. A search
# the planner expects to fall under it is counted exactly up to it.
RANK_CAP = 5_000


def _under(category) -> Q:
    """Labels whose category is `category` or below it (its dimension's tree)."""
    prefix = category.path + PATH_SEPARATOR
    return Q(category__dimension_id=category.dimension_id) & (
        Q(category_id=category.pk) | Q(category__path__startswith=prefix)
    )


def filtered_items(*, project, membership, filters: Filters):
    """The caller's visible items matching `filters`, annotated with `shown_state` (and
    `rank` when searching); not ordered."""
    user = membership.user
    items = visible_items(user, project, membership).annotate(
        shown_state=shown_state(user=user, role=membership.role)
    )
    if filters.state:
        items = items.filter(shown_state=filters.state)
    if filters.repository:
        owner, _, name = filters.repository.partition("/")
        items = items.filter(issue__repository__owner=owner, issue__repository__name=name)
    if filters.group:
        grouped_repositories = all_repository_views(project).filter(group=filters.group)
        items = items.filter(issue__repository_id__in=grouped_repositories.values("repository"))
    if filters.batch:
        items = items.filter(calibration=True, batch=filters.batch)
    if filters.annotator is not None:
        held = Assignment.objects.filter(item=OuterRef("pk"), annotator=filters.annotator)
        items = items.filter(Exists(held))
    if filters.category is not None:
        finals = FinalRecordLabel.objects.filter(_under(filters.category), item=OuterRef("pk"))
        items = items.filter(Exists(finals))
        if not has_role(membership, MANAGERS):
            # An annotator reads a final label only once the item is settled.
            items = items.filter(state=Item.State.SETTLED)
    if filters.labeled is not None:
        labels = AnnotationLabel.objects.filter(_under(filters.labeled), item=OuterRef("pk"))
        items = items.filter(Exists(labels))
    if filters.q:
        items = search_items(items, filters.q, project)
    return items


def capped_count(items, cap: int | None = None) -> tuple[int, bool]:
    """How many `items` there are, counting no further than `cap` (COUNT_CAP): (count,
    more than cap)."""
    cap = COUNT_CAP if cap is None else cap
    counted = items.order_by().values("pk")[: cap + 1].count()
    return min(counted, cap), counted > cap


def planner_estimate(items) -> int | None:
    """PostgreSQL's estimate of how many `items` there are (EXPLAIN, nothing read), or None
    elsewhere."""
    if connection.vendor != "postgresql":
        return None
    sql, params = items.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _rounded(estimate: int) -> int:
    """An estimate to two significant digits (33,417 reads as about 33,000)."""
    return round(estimate, 2 - len(str(estimate)))


def item_count(items, *, searching: bool) -> tuple[int, int, bool, bool]:
    """(count, cap, more than cap, estimated). Exact up to COUNT_CAP, or up to RANK_CAP for
    a search the planner expects to be rankable (so that whether it is ranked stays exact);
    past the cap, the planner's estimate when that is above it ("about N"), else 'more
    than the cap'."""
    cap = COUNT_CAP
    count, more = capped_count(items, cap)
    if not more:
        return count, cap, False, False
    estimate = planner_estimate(items)
    if searching and RANK_CAP > cap and (estimate is None or estimate <= RANK_CAP):
        cap = RANK_CAP
        count, more = capped_count(items, cap)
    # Rounded, the estimate must still be above the count: past the cap more than `count`
    # items are known to match, and "about 1000" would say fewer.
    if more and estimate is not None and _rounded(estimate) > count:
        return _rounded(estimate), cap, False, True
    return count, cap, more, False


def parse_marker(text: str, *, ranked: bool):
    """A page marker from `after=`: 'ISSUE' in issue order, 'RANK:ISSUE' in rank order."""
    rank_text, _, issue_text = text.rpartition(":")
    try:
        issue = int(issue_text)
        rank = float(rank_text) if ranked else None
    except ValueError:
        rank = issue = None
    if issue is None or (ranked and not rank_text) or (not ranked and rank_text):
        raise BrowseError(
            f"'after={text}' is not a page of this list (it belongs to another search or "
            "was cut); go back to the first page."
        )
    return rank, issue


@dataclass
class Page:
    rows: list
    count: int
    more_than: bool
    next_marker: str
    cap: int = 0
    ranked: bool = False
    estimated: bool = False  # `count` is the planner's estimate ("about N")


def page_of(items, *, ranked: bool, after: str) -> tuple[list, str]:
    """One page of `items`: issue order, or best rank first (ties in issue order), starting
    after the marker `after`. Returns the rows and the next page's marker ('' at the end)."""
    order = ("-rank", "issue_id") if ranked else ("issue_id",)
    if after:
        rank, issue = parse_marker(after, ranked=ranked)
        if ranked:
            items = items.filter(Q(rank__lt=rank) | Q(rank=rank, issue_id__gt=issue))
        else:
            items = items.filter(issue_id__gt=issue)
    # The page's ids first, then their rows: joined before the sort, the wide issue rows of
    # every match were carried through it.
    shown = dict(items.order_by(*order).values_list("pk", "shown_state")[: PAGE_SIZE + 1])
    by_id = items.model.objects.select_related("issue__repository").in_bulk(list(shown))
    rows = [by_id[pk] for pk in shown]
    for row in rows:
        row.shown_state = shown[row.pk]
    marker = ""
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = rows[-1]
        marker = str(last.issue_id)
        if ranked:  # the rank is not selected with the rows (search_items): the last one's
            rank = items.filter(pk=last.pk).annotate(value=F("rank")).values("value")
            marker = f"{rank[0]['value']!r}:{marker}"
    return rows, marker


def browse_page(*, project, membership, filters: Filters, after: str = "") -> Page:
    """The rows of one page with what each shows: its group, its text (blanked where the
    project may not read it) and its final label's records where the caller may read them.
    A constant number of queries, whatever the page holds."""
    items = filtered_items(project=project, membership=membership, filters=filters)
    count, cap, more, estimated = item_count(items, searching=bool(filters.q))
    if filters.q and after:
        ranked = ":" in after  # a page marker tells which order its list runs in
    else:
        ranked = bool(filters.q) and not more and not estimated and count <= RANK_CAP
    rows, marker = page_of(items, ranked=ranked, after=after)
    text, groups = TextAccess(project), ProjectGroups(project)
    managers = has_role(membership, MANAGERS)
    readable = [r.pk for r in rows if managers or r.state == Item.State.SETTLED]
    finals = {}
    if readable:
        labels = final_record_labels(project).filter(item_id__in=readable)
        for label in labels.select_related("dimension", "category"):
            finals.setdefault(label.item_id, []).append(label)
    for row in rows:
        text.hide_item(row)
        row.group = groups.get(row.issue.repository_id)
        row.final_records = grouped(finals.get(row.pk, []), dimension_order=True)
    return Page(rows, count, more, marker, cap=cap, ranked=ranked, estimated=estimated)
