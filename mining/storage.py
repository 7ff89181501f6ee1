"""Storing what the miner fetched: set-based upserts of listed issues and comments (one
statement a page on PostgreSQL, straight from the page's JSON text), transfers, gone marks,
watermarks, and a project's mark that its own token fetched a repository.

Every function here runs inside the caller's transaction (a page's), so a page and its
watermark commit together or not at all.
"""

from __future__ import annotations

import json

from django.db import connection
from django.utils import timezone

from annotate.models import Item

from .models import Comment, Issue, ProjectRepository, Repository
from .progress import parse_timestamp

ISSUE_FIELDS = [
    "github_id",
    "title",
    "body",
    "state",
    "author",
    "labels",
    "created_at",
    "updated_at",
    "closed_at",
    "comment_count",
    "is_pull_request",
    "raw",
    "fetched",
    "gone",
    "moved_to",
]
COMMENT_FIELDS = ["issue", "author", "body", "created_at", "updated_at", "raw"]

# PostgreSQL upserts a whole page in one statement straight from the page's JSON text (no
# per-row work in Python); the same mapping as _issue_row and store_comments' ORM path.
UPSERT_ISSUES = """
INSERT INTO mining_issue (repository_id, source, github_id, number, title, body, state, author,
    labels, created_at, updated_at, closed_at, comment_count, is_pull_request, raw, fetched, gone,
    moved_to)
SELECT %(repository)s, %(source)s, (e->>'id')::bigint, (e->>'number')::integer,
    COALESCE(e->>'title', ''), COALESCE(e->>'body', ''),
    COALESCE(NULLIF(e->>'state', ''), 'open'), LEFT(COALESCE(e->'user'->>'login', ''), 100),
    COALESCE((SELECT jsonb_agg(l.value->'name' ORDER BY l.n)
              FROM jsonb_array_elements(CASE jsonb_typeof(e->'labels')
                  WHEN 'array' THEN e->'labels' ELSE '[]' END) WITH ORDINALITY AS l(value, n)),
             '[]'::jsonb),
    NULLIF(e->>'created_at', '')::timestamptz, NULLIF(e->>'updated_at', '')::timestamptz,
    NULLIF(e->>'closed_at', '')::timestamptz, COALESCE((e->>'comments')::integer, 0),
    e ? 'pull_request', e, true, '', ''
FROM jsonb_array_elements(%(page)s::jsonb) AS e
ON CONFLICT (repository_id, number) DO UPDATE SET
    github_id = EXCLUDED.github_id, title = EXCLUDED.title, body = EXCLUDED.body,
    state = EXCLUDED.state, author = EXCLUDED.author, labels = EXCLUDED.labels,
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
    closed_at = EXCLUDED.closed_at, comment_count = EXCLUDED.comment_count,
    is_pull_request = EXCLUDED.is_pull_request, raw = EXCLUDED.raw, fetched = true,
    gone = '', moved_to = ''
"""
INSERT_PLACEHOLDER_ISSUES = """
INSERT INTO mining_issue (repository_id, source, github_id, number, title, body, state, author,
    labels, created_at, updated_at, closed_at, comment_count, is_pull_request, raw, fetched, gone,
    moved_to)
SELECT DISTINCT %(repository)s, %(source)s, NULL::bigint, p.number, '', '', 'open', '', '[]'::jsonb,
    NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, 0, false, '{}'::jsonb, false,
    '', ''
FROM (
    SELECT e, substring(e->>'issue_url' from '/([0-9]+)/?$')::integer AS number
    FROM jsonb_array_elements(%(page)s::jsonb) AS e
) AS p
WHERE NOT EXISTS (
    SELECT 1 FROM mining_issue AS i WHERE i.repository_id = %(repository)s AND i.number = p.number
    OFFSET 0
)
ON CONFLICT (repository_id, number) DO NOTHING
"""
UPSERT_COMMENTS = """
INSERT INTO mining_comment (issue_id, source, github_id, author, body, created_at, updated_at,
    raw)
SELECT (SELECT i.id FROM mining_issue AS i
        WHERE i.repository_id = %(repository)s AND i.number = p.number),
    %(source)s, (p.e->>'id')::bigint, LEFT(COALESCE(p.e->'user'->>'login', ''), 100),
    COALESCE(p.e->>'body', ''), NULLIF(p.e->>'created_at', '')::timestamptz,
    NULLIF(p.e->>'updated_at', '')::timestamptz, p.e
FROM (
    SELECT e, substring(e->>'issue_url' from '/([0-9]+)/?$')::integer AS number
    FROM jsonb_array_elements(%(page)s::jsonb) AS e
) AS p
ON CONFLICT (source, github_id) DO UPDATE SET
    issue_id = EXCLUDED.issue_id, author = EXCLUDED.author, body = EXCLUDED.body,
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, raw = EXCLUDED.raw
"""
ADVANCE_WATERMARK = {
    "issues": "SET LOCAL synchronous_commit TO OFF; UPDATE mining_repository"
    " SET issues_watermark = %(mark)s, issues_etag = %(etag)s WHERE id = %(id)s",
    "comments": "SET LOCAL synchronous_commit TO OFF; UPDATE mining_repository"
    " SET comments_watermark = %(mark)s, comments_etag = %(etag)s WHERE id = %(id)s",
}


def _issue_row(repository: Repository, data: dict) -> Issue:
    return Issue(
        repository=repository,
        source=repository.source,
        github_id=data["id"],
        number=data["number"],
        title=data.get("title") or "",
        body=data.get("body") or "",
        state=data.get("state") or "open",
        author=(data.get("user") or {}).get("login", "")[:100],
        labels=[label["name"] for label in data.get("labels") or []],
        created_at=parse_timestamp(data.get("created_at")),
        updated_at=parse_timestamp(data.get("updated_at")),
        closed_at=parse_timestamp(data.get("closed_at")),
        comment_count=data.get("comments") or 0,
        is_pull_request="pull_request" in data,
        raw=data,
        fetched=True,
        gone=Issue.Gone.PRESENT,
        moved_to="",
    )


def store_issues(*, repository: Repository, pages: list[dict], text: str = "") -> None:
    """Upsert listed issues of `repository` (call inside a transaction); then annotate
    notes the project items whose title or body changed from what annotators saw. `text`,
    when given, is `pages` as the JSON text it was decoded from (PostgreSQL then reads it
    directly)."""
    if not pages:
        return
    by_id = {data["id"]: data for data in pages}
    # An issue transferred here from another stored repository keeps its GitHub id.
    moved_from = {}
    same_source = Issue.objects.filter(source=repository.source)
    for moved in same_source.filter(github_id__in=by_id).exclude(repository=repository):
        moved_from[moved.pk] = moved.github_id
        moved.moved_to = by_id[moved.github_id].get("html_url", "")[:200]
        moved.gone, moved.github_id = Issue.Gone.MOVED, None
        moved.save(update_fields=["gone", "github_id", "moved_to"])
    if connection.vendor == "postgresql":
        params = {
            "page": text or json.dumps(pages),
            "repository": repository.pk,
            "source": repository.source,
        }
        with connection.cursor() as cursor:
            cursor.execute(UPSERT_ISSUES, params)
    else:
        Issue.objects.bulk_create(
            [_issue_row(repository, data) for data in pages],
            update_conflicts=True,
            unique_fields=["repository", "number"],
            update_fields=ISSUE_FIELDS,
        )
    if moved_from:  # the comments travel with the issue (they keep their ids)
        new_pk = dict(
            same_source.filter(github_id__in=moved_from.values()).values_list("github_id", "pk")
        )
        for old_pk, github_id in moved_from.items():
            Comment.objects.filter(issue_id=old_pk).update(issue_id=new_pk[github_id])
    # The project items of these issues are annotate's: it compares them with the texts
    # just stored (flags edits since labeling, fills missing snapshots).
    Item.objects.note_issue_edits(
        repository_id=repository.pk, numbers=[data["number"] for data in pages]
    )


def store_comments(*, repository: Repository, pages: list[dict], text: str = "") -> None:
    """Upsert comments of `repository`'s issues (inside a transaction). A comment on an
    issue not stored yet gets a placeholder issue that the next issues sync fills in.
    `text`: as for store_issues."""
    if not pages:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            params = {
                "page": text or json.dumps(pages),
                "repository": repository.pk,
                "source": repository.source,
            }
            cursor.execute(INSERT_PLACEHOLDER_ISSUES + ";" + UPSERT_COMMENTS, params)
        return
    numbers = {_issue_number(c) for c in pages}
    known = dict(
        Issue.objects.filter(repository=repository, number__in=numbers).values_list("number", "pk")
    )
    missing = numbers - set(known)
    if missing:
        Issue.objects.bulk_create(
            [Issue(repository=repository, source=repository.source, number=n) for n in missing],
            ignore_conflicts=True,
        )
        known.update(
            Issue.objects.filter(repository=repository, number__in=missing).values_list(
                "number", "pk"
            )
        )
    rows = [
        Comment(
            issue_id=known[_issue_number(c)],
            source=repository.source,
            github_id=c["id"],
            author=(c.get("user") or {}).get("login", "")[:100],
            body=c.get("body") or "",
            created_at=parse_timestamp(c.get("created_at")),
            updated_at=parse_timestamp(c.get("updated_at")),
            raw=c,
        )
        for c in pages
    ]
    Comment.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["source", "github_id"],
        update_fields=COMMENT_FIELDS,
    )


def stored_at(repository: Repository, kind: str, rows: list[dict], moment) -> int:
    """How many of `rows` (listed issues or comments of `repository`) are stored already
    with updated_at `moment`. One query; none without rows."""
    if not rows:
        return 0
    if kind == "issues":
        numbers = [row["number"] for row in rows]
        stored = Issue.objects.filter(repository=repository, number__in=numbers, fetched=True)
    else:
        ids = [row["id"] for row in rows]
        stored = Comment.objects.filter(source=repository.source, github_id__in=ids)
    return stored.filter(updated_at=moment).count()


def _issue_number(comment: dict) -> int:
    return int(comment["issue_url"].rstrip("/").rsplit("/", 1)[1])


def advance_watermark(repo: Repository, kind: str, mark, etag: str) -> None:
    """Set a list's watermark and ETag in the page's transaction. On PostgreSQL, in the
    same round trip, let that transaction commit without waiting for its WAL flush: a
    database crash can then lose the last few pages, but only whole pages together with
    their watermark, so the crawl resumes before them; and the task's final commit is a
    normal one, which flushes every page before it."""
    if connection.vendor != "postgresql":
        Repository.objects.filter(pk=repo.pk).update(
            **{f"{kind}_watermark": mark, f"{kind}_etag": etag}
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(ADVANCE_WATERMARK[kind], {"mark": mark, "etag": etag, "id": repo.pk})


def mark_gone(repository: Repository, number: int, gone: str, moved_to: str = "") -> None:
    """Record that GitHub answered 404, 410 or 301 for an issue (creating its row when the
    issue was never stored)."""
    Issue.objects.update_or_create(
        repository=repository,
        number=number,
        defaults={"gone": gone, "moved_to": moved_to[:200]},
        create_defaults={"gone": gone, "moved_to": moved_to[:200], "source": repository.source},
    )


def store_transfer(*, source: Repository, number: int, target: Repository, data: dict):
    """Store a transferred issue in its new repository and mark the old row moved (inside
    a transaction). Comments already stored travel with the issue (store_issues)."""
    store_issues(repository=target, pages=[data])
    mark_gone(source, number, Issue.Gone.MOVED, data.get("html_url", ""))


def mark_fetched(project_id: int, repository: Repository) -> None:
    """The project's own token fetched from `repository`: the project may read its text."""
    ProjectRepository.objects.update_or_create(
        project_id=project_id,
        repository=repository,
        defaults={"fetched_at": timezone.now()},
        create_defaults={"fetched_at": timezone.now(), "group": repository.owner},
    )


def refresh_issue_search() -> int:
    """Build the search documents of the issues stored or edited since the last refresh
    (mining migration 0006: the triggers only note them); the number built. A no-op
    outside PostgreSQL, where search is a substring match."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT mining_refresh_pending_issue_search()")
        return cursor.fetchone()[0]
