"""Issue-to-fix links, mined through GitHub's GraphQL API (REST cannot list the pull
requests that close an issue). A crawl's step after its issues and comments.

Cost: ⌈N/100⌉ queries for N issues to sync, plus one per extra timeline page of an issue
with more than 100 cross-references. Incremental with the crawl's own watermark: an issue
is synced again only when its `updated_at` moved past `fixes_synced_at` (the value it had
when its links were stored), so an unchanged re-sync sends no query. Resumable: each
batch (its follow-up pages included) is stored in one transaction with its issues'
marks, so a crawl stopped anywhere resumes at the first batch not stored, and a failed
batch (a malformed reply, say) leaves nothing of itself behind.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F, Q

from . import client as gh
from .crawl import Tracker, with_retries
from .fixes_query import (
    BATCH,
    TIMELINE_QUERY,
    batch_query,
    issue_links,
    timeline_links,
    unique_links,
)
from .models import FixLink, Issue, MiningJob, Repository

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What a re-sync rewrites of a link it keeps: every column but its identity (issue, ref).
LINK_COLUMNS = [
    field.name
    for field in FixLink._meta.concrete_fields
    if field.name not in ("id", "issue", "ref")
]


def issues_to_sync(repository: Repository):
    """The repository's present issues (not pull requests) whose links are missing or
    older than their last update."""
    stale = Q(fixes_synced_at__isnull=True) | Q(updated_at__gt=F("fixes_synced_at"))
    rows = Issue.objects.filter(repository=repository, fetched=True, gone="", is_pull_request=False)
    return rows.filter(stale).order_by("number")


def sync_fix_links(*, repository: Repository, client: gh.GitHubClient, tracker: Tracker) -> int:
    """Fetch and store the fix links of every issue of `repository` that needs it, BATCH
    issues per query. Idempotent and resumable. Returns the number of issues synced."""
    pending = list(issues_to_sync(repository).values_list("number", "updated_at"))
    for start in range(0, len(pending), BATCH):
        batch = dict(pending[start : start + BATCH])
        links = _fetch_batch(repository, list(batch), client, tracker)
        with transaction.atomic():
            _store(repository, batch, links)
            tracker.record(pages=1)
        tracker.check_cancelled(just_recorded=True)
    return len(pending)


def _query(client, tracker: Tracker, query: str, variables: dict) -> gh.Reply:
    before = (client.graphql_queries, client.graphql_points)
    reply = with_retries(lambda: client.graphql(query, variables), tracker)
    queries, points = client.graphql_queries - before[0], client.graphql_points - before[1]
    tracker.note(
        f"graphql: {queries} quer{'y' if queries == 1 else 'ies'}, cost {points}, "
        f"{client.rate_remaining} points left"
    )
    if tracker.job_id:
        MiningJob.objects.filter(pk=tracker.job_id).update(
            graphql_queries=F("graphql_queries") + queries,
            graphql_points=F("graphql_points") + points,
        )
    return reply


def _repository_node(reply: gh.Reply) -> dict:
    node = reply.data.get("repository")
    if not isinstance(node, dict):
        raise gh.GraphQLFailed("malformed GraphQL reply: no `repository` object")
    return node


def _fetch_batch(repository, numbers: list[int], client, tracker) -> dict[int, list[dict]]:
    """Every link of `numbers` (the batch query, then each long timeline's next pages)."""
    query, variables = batch_query(numbers)
    variables.update(owner=repository.owner, name=repository.name)
    node = _repository_node(_query(client, tracker, query, variables))
    links, cursors = {}, {}
    for position, number in enumerate(numbers):
        alias = f"i{position}"
        if alias not in node:
            raise gh.GraphQLFailed(f"malformed GraphQL reply: no `{alias}` (issue #{number})")
        links[number], cursor = issue_links(node[alias])
        if cursor:
            cursors[number] = cursor
    for number, cursor in cursors.items():
        while cursor:
            variables = {"owner": repository.owner, "name": repository.name}
            variables.update(number=number, after=cursor)
            issue = _repository_node(_query(client, tracker, TIMELINE_QUERY, variables))
            issue = issue.get("issue")
            if not isinstance(issue, dict):
                raise gh.GraphQLFailed(f"malformed GraphQL reply: no issue #{number}")
            more, cursor = timeline_links(issue.get("timelineItems"))
            links[number].extend(more)
    return links


def _moment(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise gh.GraphQLFailed(f"malformed GraphQL reply: {value!r} is not a time") from None


def _store(repository, batch: dict, links: dict[int, list[dict]]) -> None:
    """Store the batch's issues' links and mark them synced at their updated_at (call
    inside a transaction). A link GitHub still lists keeps its row, updated in place (an
    evidence span on its title names the row: `fix-<id>`); new links are added and the
    links gone deleted. A link is its ref within its issue (unique_links lists each once)."""
    issues = dict(
        Issue.objects.filter(repository=repository, number__in=batch).values_list("number", "pk")
    )
    stored = FixLink.objects.filter(issue_id__in=issues.values())
    old = {(row.issue_id, row.ref): row for row in stored}
    kept, added = [], []
    for number, found in links.items():
        for link in unique_links(found):
            values = {**link, "merged_at": _moment(link["merged_at"])}
            row = old.pop((issues[number], link["ref"]), None)
            if row is None:
                added.append(FixLink(issue_id=issues[number], **values))
                continue
            for field, value in values.items():
                setattr(row, field, value)
            kept.append(row)
    if old:
        FixLink.objects.filter(pk__in=[row.pk for row in old.values()]).delete()
    if kept:
        FixLink.objects.bulk_update(kept, LINK_COLUMNS, batch_size=500)
    FixLink.objects.bulk_create(added)
    # An issue GitHub gave no updated_at is marked at the epoch: its links count as
    # fetched, an unchanged re-sync skips it, and any updated_at it gets later is newer.
    marks = [Issue(pk=issues[number], fixes_synced_at=at or EPOCH) for number, at in batch.items()]
    Issue.objects.bulk_update(marks, ["fixes_synced_at"])
