"""Full-text search over items' issues: titles (weight A), bodies (B) and comments (C), from
the trigger-kept documents of mining_issuesearch (mining migration 0005), matched with
websearch_to_tsquery and ranked with ts_rank_cd. The item browser and the items API
(`q=`) both search through here."""

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Exists, F, FloatField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast

from mining.access import readable_by_own_project_q, unreadable_repository_ids
from mining.models import Comment, IssueSearch
from mining.storage import refresh_issue_search

CONFIG = "english"
MAX_LENGTH = 300


def search_items(items, text: str, project=None):
    """`items` whose issue matches `text` (web search syntax: words, "a phrase", or,
    -word), with the alias `rank` to filter and order by (ts_rank_cd as double precision,
    so a page marker holding it compares exactly). Only issues whose text the item's
    project may read match (mining.access): a match would otherwise tell what a hidden
    text says. `project`: the one project all `items` belong to, if so; its unreadable
    repositories are then read first (usually none), which spares the count and the page
    a join through every item's issue (issue #15: 0.9 s of a 1 s count at 100,000 items)."""
    if connection.vendor != "postgresql":
        return substring_items(items, text)  # `make run` on SQLite
    refresh_issue_search()  # issues stored since the last crawl ended (imports, COPY)
    if project is None:
        items = items.filter(readable_by_own_project_q())
    else:
        hidden = unreadable_repository_ids(project)
        if hidden:
            items = items.exclude(issue__repository_id__in=hidden)
    query = SearchQuery(text, search_type="websearch", config=CONFIG)
    # The documents stay in subqueries (the matches by the GIN index, each match's rank
    # by its key): joined into the item query, PostgreSQL carried every matching document
    # through the sort of a ranked page and read the wide issue rows to count matches.
    documents = IssueSearch.objects.filter(document=query)
    rank = documents.filter(issue_id=OuterRef("issue_id")).annotate(
        value=Cast(SearchRank(F("document"), query, cover_density=True), FloatField())
    )
    return items.filter(issue_id__in=documents.values("issue_id")).alias(
        rank=Subquery(rank.values("value")[:1], output_field=FloatField())
    )


def substring_items(items, text: str, project=None):
    """`items` whose issue's title, body or a comment contains `text` (ILIKE), unranked
    (rank 0, so pages run in issue order): SQLite's search, and the baseline of
    bench/bench_browse.py, which swaps it in for `search_items` (hence the same
    signature; `project` is not needed here). Readable texts only, as above."""
    comments = Comment.objects.filter(issue=OuterRef("issue"), body__icontains=text)
    match = Q(issue__title__icontains=text) | Q(issue__body__icontains=text) | Exists(comments)
    items = items.filter(readable_by_own_project_q()).filter(match)
    return items.alias(rank=Value(0.0, output_field=FloatField()))
