"""Mining: repositories, jobs and their tasks, repository crawls, single issues, reconcile.

A crawl spends the minimum: per repository, the two repository-wide lists (issues with
pull requests, and comments), 100 per page, oldest update first, from the watermark on;
then one conditional request per list whose stored ETag makes an unchanged re-sync a 304
that costs no quota. Each page is upserted and the watermark advanced in one transaction,
so a crawl killed at any moment resumes where it stopped, with no duplicates or gaps.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotate.models import Item, Project, Unreadable

from . import client as gh
from .budget import make_budget
from .models import (
    Comment,
    Issue,
    MiningJob,
    MiningTask,
    ProjectRepository,
    Repository,
    default_source,
    source_of,
)
from .progress import (
    eta_seconds,
    github_timestamp,
    list_fraction,
    parse_full_name,
    parse_issue_link,
    parse_timestamp,
)

logger = logging.getLogger(__name__)

INLINE_WAIT_LIMIT = 5.0  # seconds; a longer wait re-queues the task with a countdown
TRANSIENT_ATTEMPTS = 5
BACKOFF_SECONDS = 0.25
STALE_AFTER = timedelta(minutes=15)  # a running task without a heartbeat this long is orphaned
ACTIVE = (MiningJob.Status.QUEUED, MiningJob.Status.RUNNING, MiningJob.Status.WAITING)
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
RECORD_PAGE = """
UPDATE mining_miningjob SET pages = pages + %(pages)s, issues = issues + %(issues)s,
    comments = comments + %(comments)s, requests = requests + %(spent)s,
    rate_limit_remaining = %(remaining)s, rate_limit_reset = %(reset)s
WHERE id = %(job)s RETURNING cancel_requested;
UPDATE mining_miningtask SET heartbeat_at = %(now)s, progress = COALESCE(%(progress)s, progress)
WHERE id = %(task)s
"""
# _flag_edited_items in SQL, run right after UPSERT_ISSUES (it sees the new texts).
FLAG_EDITED_ITEMS = """
UPDATE annotate_item AS it SET edited_since_labeling = true
FROM mining_issue AS i
WHERE it.issue_id = i.id AND i.repository_id = %(repository)s AND i.number = ANY(%(numbers)s)
    AND NOT it.edited_since_labeling AND (it.snapshot_title <> '' OR it.snapshot_body <> '')
    AND (it.snapshot_title <> i.title OR it.snapshot_body <> i.body);
UPDATE annotate_item AS it SET snapshot_title = i.title, snapshot_body = i.body
FROM mining_issue AS i JOIN mining_repository AS r ON r.id = i.repository_id
WHERE it.issue_id = i.id AND i.repository_id = %(repository)s AND i.number = ANY(%(numbers)s)
    AND it.snapshot_title = '' AND it.snapshot_body = ''
    AND (r.private IS FALSE OR EXISTS (
        SELECT 1 FROM mining_projectrepository AS pr WHERE pr.project_id = it.project_id
        AND pr.repository_id = i.repository_id AND pr.fetched_at IS NOT NULL))
"""
ADVANCE_WATERMARK = {
    "issues": "SET LOCAL synchronous_commit TO OFF; UPDATE mining_repository"
    " SET issues_watermark = %(mark)s, issues_etag = %(etag)s WHERE id = %(id)s",
    "comments": "SET LOCAL synchronous_commit TO OFF; UPDATE mining_repository"
    " SET comments_watermark = %(mark)s, comments_etag = %(etag)s WHERE id = %(id)s",
}


class MiningError(Exception):
    """A problem the caller must fix (bad input, bad token, unknown repository)."""


class MustWait(Exception):
    """The rate limit asks for a wait too long to sleep through: re-queue after `seconds`."""

    def __init__(self, seconds: float, reason: str):
        super().__init__(f"{reason}; waiting {seconds:.0f}s")
        self.seconds = seconds


class JobCancelled(Exception):
    pass


# ----- clients and the tracker ----------------------------------------------------------
NO_TOKEN = (
    "This project has no GitHub token of its own and may not use the server's: the owner "
    "sets one in the project's settings, or staff allow the server's token for it."
)


def job_token(*, project: Project | None, started_by_user: bool) -> str:
    """The GitHub token a job mines with: the project's own when set; else the server's
    GITHUB_TOKEN when staff allow it for the project, or for jobs no user started (the
    `mine` command and the reconcile, run by the server's admins). Otherwise MiningError."""
    if project is not None:
        try:
            own = project.github_token()
        except Unreadable:
            raise MiningError(
                "The project's GitHub token cannot be decrypted (the encryption key "
                "changed): the owner must enter it again."
            ) from None
        if own:
            return own
        if started_by_user and not project.may_use_server_token:
            raise MiningError(NO_TOKEN)
    return settings.GITHUB_TOKEN


def make_client(*, api_url: str = "", token: str | None = None) -> gh.GitHubClient:
    """A client for `api_url` (default: settings.GITHUB_API_URL) with the token from the
    environment and the shared rate-limit budget (Redis when REDIS_URL is set)."""
    token = settings.GITHUB_TOKEN if token is None else token
    base_url = api_url or settings.GITHUB_API_URL
    budget = make_budget(token=token, api_url=base_url, redis_url=settings.REDIS_URL)
    timeout = int(os.environ.get("GITHUB_TIMEOUT", "10"))
    return gh.GitHubClient(token=token, base_url=base_url, timeout=timeout, budget=budget)


@dataclass
class Tracker:
    """Counts a run's work into its job and task rows, inside each page's transaction."""

    client: gh.GitHubClient
    job_id: int | None = None
    task_id: int | None = None
    on_page: object = None  # callable(issues=, comments=, requests=) for progress bars
    counted: int = 0
    events: list = field(default_factory=list)
    totals: dict = field(default_factory=lambda: {"pages": 0, "issues": 0, "comments": 0})
    cancel_seen: bool | None = None  # the job's cancel flag as record() last read it

    def note(self, message: str) -> None:
        self.events.append(f"{timezone.now():%H:%M:%S} {self.client.scrub(message)}")

    def record(self, *, pages: int = 0, issues: int = 0, comments: int = 0, progress=None):
        """Add counts (call inside the page's transaction)."""
        spent, self.counted = self.client.requests - self.counted, self.client.requests
        self.totals["pages"] += pages
        self.totals["issues"] += issues
        self.totals["comments"] += comments
        reset = self.client.rate_reset
        reset = datetime.fromtimestamp(reset, UTC) if reset else None
        self.cancel_seen = None
        if self.on_page is not None and pages:
            self.on_page(issues=issues, comments=comments, requests=spent)
        if self.job_id and self.task_id and connection.vendor == "postgresql":
            # One round trip: both rows, and the cancel flag (for check_cancelled).
            params = {"pages": pages, "issues": issues, "comments": comments, "spent": spent}
            params.update(job=self.job_id, task=self.task_id, now=timezone.now())
            params.update(remaining=self.client.rate_remaining, reset=reset, progress=progress)
            with connection.cursor() as cursor:
                cursor.execute(RECORD_PAGE, params)
                self.cancel_seen = bool(cursor.fetchone()[0])
            self._flush_events()
            return
        if self.job_id:
            MiningJob.objects.filter(pk=self.job_id).update(
                pages=F("pages") + pages,
                issues=F("issues") + issues,
                comments=F("comments") + comments,
                requests=F("requests") + spent,
                rate_limit_remaining=self.client.rate_remaining,
                rate_limit_reset=reset,
            )
            self._flush_events()
        if self.task_id:
            changes = {"heartbeat_at": timezone.now()}
            if progress is not None:
                changes["progress"] = progress
            MiningTask.objects.filter(pk=self.task_id).update(**changes)

    def _flush_events(self) -> None:
        if self.job_id and self.events:
            events = []
            while self.events:  # the fetching thread may note more meanwhile
                events.append(self.events.pop(0))
            job = MiningJob.objects.select_for_update().get(pk=self.job_id)
            job.log = (job.log + events)[-50:]
            job.save(update_fields=["log"])

    def check_cancelled(self, *, just_recorded: bool = False) -> None:
        """Raise JobCancelled when the job was asked to stop. `just_recorded`: right after
        a page's transaction, whose record() may have read the flag already."""
        if just_recorded and self.cancel_seen is not None:
            cancelled = self.cancel_seen
        else:
            cancelled = bool(self.job_id) and (
                MiningJob.objects.filter(pk=self.job_id, cancel_requested=True).exists()
            )
        if cancelled:
            raise JobCancelled()


def fetch(client: gh.GitHubClient, url: str, *, etag: str = "", tracker=None, sleep=time.sleep):
    """GET with the miner's policy: short rate-limit waits and transient failures (5xx,
    timeouts, cut JSON) are retried in place with backoff; a long wait raises MustWait."""
    transient = limited = 0
    while True:
        try:
            return client.get(url, etag=etag)
        except gh.RateLimited as error:
            limited += 1
            if tracker:
                tracker.note(f"{error}: wait {error.wait:.1f}s")
            if error.wait > INLINE_WAIT_LIMIT or limited > 10:
                raise MustWait(error.wait, str(error)) from None
            sleep(error.wait)
        except gh.Transient as error:
            transient += 1
            if tracker:
                tracker.note(f"{error} (attempt {transient})")
            if transient >= TRANSIENT_ATTEMPTS:
                raise
            sleep(min(BACKOFF_SECONDS * 2 ** (transient - 1), 4.0))


# ----- storing pages ---------------------------------------------------------------------
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
    """Upsert listed issues of `repository` (call inside a transaction); flags the project
    items whose title or body changed from what annotators saw. `text`, when given, is
    `pages` as the JSON text it was decoded from (PostgreSQL then reads it directly)."""
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
        numbers = [data["number"] for data in pages]
        params = {
            "page": text or json.dumps(pages),
            "repository": repository.pk,
            "source": repository.source,
            "numbers": numbers,
        }
        with connection.cursor() as cursor:
            cursor.execute(UPSERT_ISSUES + ";" + FLAG_EDITED_ITEMS, params)
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
    if connection.vendor != "postgresql":
        texts = {d["number"]: (d.get("title") or "", d.get("body") or "") for d in pages}
        _flag_edited_items(repository, texts)


def _flag_edited_items(repository: Repository, texts: dict[int, tuple[str, str]]) -> None:
    """`texts`: issue number -> (title, body) as just stored. An item without a snapshot
    gets one only in a project that may read the repository (mining.access): a copy in
    the item would show past the rule."""
    from .access import readable_repositories_q

    items = Item.objects.filter(
        issue__repository=repository, issue__number__in=list(texts)
    ).values_list(
        "pk", "project_id", "issue__number", "snapshot_title", "snapshot_body",
        "edited_since_labeling",
    )  # fmt: skip
    readers = {
        project_id
        for project_id in {row[1] for row in items}
        if Repository.objects.filter(readable_repositories_q(project_id), pk=repository.pk).exists()
    }
    edited = []
    for pk, project_id, number, title, body, already in items:
        new_title, new_body = texts[number]
        if not title and not body:
            if project_id not in readers:
                continue
            Item.objects.filter(pk=pk).update(snapshot_title=new_title, snapshot_body=new_body)
        elif not already and (title != new_title or body != new_body):
            edited.append(pk)
    if edited:
        Item.objects.filter(pk__in=edited).update(edited_since_labeling=True)


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


def _issue_number(comment: dict) -> int:
    return int(comment["issue_url"].rstrip("/").rsplit("/", 1)[1])


# ----- the crawl ---------------------------------------------------------------------------
def crawl_repository(*, repository: Repository, client: gh.GitHubClient, tracker: Tracker):
    """Sync one repository's issues, pull requests and comments from its watermarks.

    Idempotent and resumable: safe to run again at any time, after any interruption.
    Stores GitHub's `private` flag first while it is unknown (one request, once)."""
    if repository.private is None:
        reply = fetch(client, f"/repos/{repository.owner}/{repository.name}", tracker=tracker)
        private = reply.data.get("private")
        if isinstance(private, bool):
            Repository.objects.filter(pk=repository.pk).update(private=private)
            repository.private = private
    for phase, kind in enumerate(("issues", "comments")):
        if tracker.task_id:
            MiningTask.objects.filter(pk=tracker.task_id).update(phase=phase)
        _sync_list(repository, kind, client, tracker, phase)
    Repository.objects.filter(pk=repository.pk).update(last_synced_at=timezone.now())


def _sync_list(repository: Repository, kind: str, client, tracker: Tracker, phase: int) -> None:
    started = timezone.now()
    first_mark = None
    while True:
        repo = Repository.objects.get(pk=repository.pk)
        mark = getattr(repo, f"{kind}_watermark")
        since = github_timestamp(mark) if mark else None
        url = gh.list_path(repo.owner, repo.name, kind, since)
        reply = fetch(client, url, etag=getattr(repo, f"{kind}_etag"), tracker=tracker)
        if reply.not_modified:
            with transaction.atomic():
                tracker.record(progress=(phase + 1) / 2)
            return
        single = reply.next_url is None
        mark_before = mark
        # The next page downloads while this one is stored (the next URL is known already);
        # pages are still stored one by one, in order, each in its own transaction.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mining-fetch") as ahead:
            while True:
                first_mark = first_mark or mark or _oldest(reply.data)
                coming = None
                if reply.next_url is not None:
                    coming = ahead.submit(fetch, client, reply.next_url, tracker=tracker)
                mark = _store_page(repo, kind, reply, tracker, single, first_mark, started, phase)
                tracker.check_cancelled(just_recorded=True)
                if coming is None:
                    break
                reply = coming.result()
        if mark == mark_before:
            return  # the ETag (single page) is stored: the next re-sync is a free 304
        # The watermark moved: one more request from it stores the ETag the next re-sync
        # sends (and picks up anything updated meanwhile).


def _advance_watermark(repo: Repository, kind: str, mark, etag: str) -> None:
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


def _oldest(data) -> datetime | None:
    return parse_timestamp(data[0]["updated_at"]) if data else None


def _store_page(repo, kind, reply, tracker, single, first_mark, started, phase):
    data = reply.data
    mark = getattr(repo, f"{kind}_watermark")
    newest = max((parse_timestamp(d["updated_at"]) for d in data), default=None)
    new_mark = max(mark, newest) if mark and newest else (mark or newest)
    etag = reply.etag if single and new_mark == mark else ""
    with transaction.atomic():
        _advance_watermark(repo, kind, new_mark, etag)
        if kind == "issues":
            store_issues(repository=repo, pages=data, text=reply.text)
        else:
            store_comments(repository=repo, pages=data, text=reply.text)
        fraction = list_fraction(first_mark, new_mark, started)
        # Rows at the old watermark were stored before (since= is inclusive): not new.
        fresh = sum(1 for d in data if mark is None or parse_timestamp(d["updated_at"]) > mark)
        counts = {"issues": fresh} if kind == "issues" else {"comments": fresh}
        tracker.record(pages=1, progress=(phase + fraction) / 2, **counts)
    setattr(repo, f"{kind}_watermark", new_mark)
    return new_mark


# ----- single issues and reconcile ---------------------------------------------------------
def _mark_gone(repository: Repository, number: int, gone: str, moved_to: str = "") -> None:
    Issue.objects.update_or_create(
        repository=repository,
        number=number,
        defaults={"gone": gone, "moved_to": moved_to[:200]},
        create_defaults={"gone": gone, "moved_to": moved_to[:200], "source": repository.source},
    )


def _repository_visible(repo: Repository, client, tracker: Tracker) -> bool:
    """Whether `client`'s token sees the repository at all (GitHub answers 404 alike for
    a missing issue and for every issue of a private repository the token cannot read)."""
    try:
        fetch(client, f"/repos/{repo.owner}/{repo.name}", tracker=tracker)
    except gh.NotFound:
        return False
    return True


def _check_one(repo: Repository, number: int, client, tracker: Tracker, verify: bool = False):
    """GET one issue; records 404/410 on the stored row. Returns (the repository the issue
    lives in now, its JSON), or (None, None) when it is gone. A transferred issue (GitHub
    answers 301 and the client follows it) comes back with its new repository, which is
    created when missing; the caller stores it there with _store_transfer().

    With `verify` (a project's single-issue job, whose token may not see a repository
    another project mined), a 404 is recorded only when the token sees the repository."""
    try:
        reply = fetch(client, f"/repos/{repo.owner}/{repo.name}/issues/{number}", tracker=tracker)
    except gh.NotFound:
        if verify and not _repository_visible(repo, client, tracker):
            tracker.note(f"{repo.full_name}: not visible with this token (404); nothing recorded")
            return None, None
        tracker.note(f"{repo.full_name}#{number}: not found (404)")
        _mark_gone(repo, number, Issue.Gone.NOT_FOUND)
        return None, None
    except gh.Gone:
        tracker.note(f"{repo.full_name}#{number}: deleted (410)")
        _mark_gone(repo, number, Issue.Gone.DELETED)
        return None, None
    data = reply.data
    home = _home_of(data["repository_url"])
    if home != (repo.owner.lower(), repo.name.lower()) or data["number"] != number:
        target_owner, target_name = data["repository_url"].rstrip("/").split("/")[-2:]
        tracker.note(
            f"{repo.full_name}#{number}: moved (301) to {target_owner}/{target_name}"
            f"#{data['number']}"
        )
        target, _ = Repository.objects.get_or_create(
            source=repo.source, owner=target_owner, name=target_name
        )
        return target, data
    return repo, data


def _home_of(api_url: str) -> tuple[str, str]:
    """(owner, name), lower-cased, of a repository or issue API URL."""
    parts = api_url.rstrip("/").split("/")
    at = len(parts) - 1 - parts[::-1].index("repos")
    return parts[at + 1].lower(), parts[at + 2].lower()


def _store_transfer(*, source: Repository, number: int, target: Repository, data: dict):
    """Store a transferred issue in its new repository and mark the old row moved (inside
    a transaction). Comments already stored travel with the issue (store_issues)."""
    store_issues(repository=target, pages=[data])
    _mark_gone(source, number, Issue.Gone.MOVED, data.get("html_url", ""))


def _comments_of(data: dict, client, tracker: Tracker) -> list[dict]:
    """Every comment of one fetched issue (⌈comments/100⌉ requests, none without any)."""
    if not data.get("comments"):
        return []
    reply = fetch(client, data["comments_url"] + "?per_page=100", tracker=tracker)
    comments = list(reply.data)
    while reply.next_url:
        reply = fetch(client, reply.next_url, tracker=tracker)
        comments.extend(reply.data)
    return comments


def _moved_since(data: dict, comments: list[dict]) -> bool:
    """The issue was transferred between its GET and its comments' GET (which GitHub
    redirected: the comments name another issue URL)."""
    return any(c["issue_url"].rstrip("/").lower() != data["url"].lower() for c in comments)


def mine_issue_links(
    *, links: list[str], client, tracker: Tracker, source: str, project_id: int | None = None
) -> None:
    """Fetch each linked issue and its comments (1 request, plus ⌈comments/100⌉; a
    transfer met between the two costs one GET more). A transferred issue is stored, with
    its comments, in its new repository. With `project_id` (the job's project, whose
    token fetched it), each repository an issue was fetched from is marked fetched by
    that project: it may read that repository's text. Idempotent."""
    for position, link in enumerate(links):
        owner, name, number = parse_issue_link(link)
        repo, _ = Repository.objects.get_or_create(source=source, owner=owner, name=name)
        home, data = _check_one(repo, number, client, tracker, verify=True)
        comments = _comments_of(data, client, tracker) if data else []
        if _moved_since(data, comments):  # the comments came from its new home already
            home, data = _check_one(repo, number, client, tracker, verify=True)
        with transaction.atomic():
            if home is not None and home != repo:
                _store_transfer(source=repo, number=number, target=home, data=data)
            elif data:
                store_issues(repository=repo, pages=[data])
            if data:
                store_comments(repository=home, pages=comments)
                if project_id is not None:
                    _mark_fetched(project_id, home)
            tracker.record(
                pages=1,
                issues=int(bool(data)),
                comments=len(comments),
                progress=(position + 1) / len(links),
            )
        tracker.check_cancelled()


def _mark_fetched(project_id: int, repository: Repository) -> None:
    """The project's own token fetched from `repository`: the project may read its text."""
    ProjectRepository.objects.update_or_create(
        project_id=project_id,
        repository=repository,
        defaults={"fetched_at": timezone.now()},
        create_defaults={"fetched_at": timezone.now(), "group": repository.owner},
    )


def reconcile_repository(*, repository: Repository, client, tracker: Tracker) -> list[int]:
    """List every issue of `repository` and check, one by one, the stored ones that no
    longer list: records 301 (with the new location), 404 or 410. Never deletes anything.
    Returns the numbers found gone."""
    listed: set[int] = set()
    reply = fetch(
        client, gh.list_path(repository.owner, repository.name, "issues", None), tracker=tracker
    )
    while True:
        with transaction.atomic():
            store_issues(repository=repository, pages=reply.data)
            tracker.record(pages=1, issues=len(reply.data))
        listed.update(d["number"] for d in reply.data)
        tracker.check_cancelled()
        if not reply.next_url:
            break
        reply = fetch(client, reply.next_url, tracker=tracker)
    stored = Issue.objects.filter(repository=repository, fetched=True, gone="")
    missing = sorted(set(stored.values_list("number", flat=True)) - listed)
    gone = []
    for number in missing:
        home, data = _check_one(repository, number, client, tracker)
        if home != repository:
            gone.append(number)
        with transaction.atomic():
            if home is not None and home != repository:
                _store_transfer(source=repository, number=number, target=home, data=data)
            elif data:
                store_issues(repository=repository, pages=[data])
            tracker.record()
    return gone


# ----- repositories and jobs ---------------------------------------------------------------
@transaction.atomic
def add_repository(
    *,
    project: Project,
    full_name: str,
    group: str = "",
    metadata: dict | None = None,
    source: str = "",
    user=None,
) -> Repository:
    """Have `project` mine OWNER/NAME of `source` (default: the configured API's), creating
    the shared repository once for every project. The group and metadata are the
    project's own: a given one replaces what this project said before, and no other
    project's. Idempotent. Returns the (shared) repository."""
    try:
        owner, name = parse_full_name(full_name)
    except ValueError as error:
        raise MiningError(str(error)) from None
    source = source or default_source()
    same_name = Repository.objects.filter(source=source, owner__iexact=owner, name__iexact=name)
    repository = same_name.first()
    if repository is None:
        try:
            with transaction.atomic():
                repository = Repository.objects.create(source=source, owner=owner, name=name)
        except IntegrityError:  # another project added it concurrently: share that row
            repository = same_name.get()
    view, created = ProjectRepository.objects.select_for_update().get_or_create(
        project=project,
        repository=repository,
        defaults={
            "group": group,
            "metadata": metadata or {},
            "mined": True,
            "added_by": user if getattr(user, "is_authenticated", False) else None,
        },
    )
    if not created:
        view.group = group or view.group
        view.metadata = metadata if metadata is not None else view.metadata
        view.mined = True
        view.save(update_fields=["group", "metadata", "mined"])
    return repository


@transaction.atomic
def start_mining_job(
    *,
    project: Project | None,
    repositories=(),
    links=(),
    kind: str = MiningJob.Kind.CRAWL,
    user=None,
    api_url: str = "",
    source: str = "",
    dispatch: bool = True,
) -> MiningJob:
    """Create a job and its tasks (one per repository; one for a list of issue links) and,
    with `dispatch`, enqueue one Celery task each once the transaction commits. The job's
    data belongs to `source` (default: the API host's); every repository must too."""
    repositories = list(repositories)
    api_url = api_url or settings.GITHUB_API_URL
    source = source or source_of(api_url)
    strangers = sorted(r.full_name for r in repositories if r.source != source)
    if strangers:
        raise MiningError(
            f"{', '.join(strangers)} not of {source} (the API this job talks to): "
            "add the repository for this source first."
        )
    links = [link.strip() for link in links if link.strip()]
    started_by_user = user is not None and user.is_authenticated
    job_token(project=project, started_by_user=started_by_user)  # refuses without a token
    if kind == MiningJob.Kind.SINGLE:
        if not links:
            raise MiningError("Give at least one issue link.")
        for link in links:
            try:
                parse_issue_link(link)
            except ValueError as error:
                raise MiningError(str(error)) from None
    elif not repositories:
        raise MiningError("Choose at least one repository.")
    job = MiningJob.objects.create(
        project=project,
        kind=kind,
        filters={"links": links} if links else {},
        api_url=api_url,
        source=source,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    if kind == MiningJob.Kind.SINGLE:
        tasks = [MiningTask.objects.create(job=job)]
    else:
        job.repositories.set(repositories)
        tasks = MiningTask.objects.bulk_create(
            [MiningTask(job=job, repository=r) for r in repositories]
        )
    if dispatch:
        _dispatch([task.pk for task in tasks])
    return job


def _dispatch(task_ids: list[int]) -> None:
    from .tasks import run_mining_task

    for task_id in task_ids:
        run_mining_task.delay_on_commit(task_id=task_id)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_task(*, task_id: int, worker: str, redelivered: bool = False) -> bool:
    """Claim a task by a conditional update: queued or waiting, or running but orphaned
    (its message redelivered, or no heartbeat for STALE_AFTER). False when another
    worker holds it or it is finished (the caller then does nothing)."""
    now = timezone.now()
    claimable = Q(status__in=[MiningJob.Status.QUEUED, MiningJob.Status.WAITING])
    claimable |= Q(status=MiningJob.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    if redelivered:
        claimable |= Q(status=MiningJob.Status.RUNNING)
    claimed = MiningTask.objects.filter(claimable, pk=task_id).update(
        status=MiningJob.Status.RUNNING,
        worker=worker[:200],
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        started_at=Coalesce("started_at", now),
    )
    if claimed:
        MiningJob.objects.filter(tasks__pk=task_id, status__in=ACTIVE).update(
            status=MiningJob.Status.RUNNING, started_at=Coalesce("started_at", now)
        )
    return bool(claimed)


def run_task(*, task_id: int, client=None, on_page=None) -> None:
    """Run a claimed task to its end: done, cancelled or failed (recorded on the task and
    job). Raises MustWait (task left waiting) when the rate limit needs a long wait."""
    task = MiningTask.objects.select_related("job", "repository").get(pk=task_id)
    job = task.job
    own_client = client is None
    token, refusal = "", None
    if own_client:
        try:
            project = job.project
            token = job_token(project=project, started_by_user=job.created_by_id is not None)
        except MiningError as error:  # e.g. staff withdrew the server's token since
            refusal = error
    client = client or make_client(api_url=job.api_url, token=token)
    tracker = Tracker(client=client, job_id=job.pk, task_id=task.pk, on_page=on_page)
    tracker.counted = client.requests
    status, error = MiningJob.Status.DONE, ""
    try:
        if refusal is not None:
            raise refusal
        tracker.check_cancelled()
        if task.repository is not None and task.repository.source != job.source:
            raise MiningError(
                f"{task.repository.full_name} belongs to {task.repository.source}, "
                f"not to {job.source} (the API this job talks to)."
            )
        if job.kind == MiningJob.Kind.SINGLE:
            links = job.filters.get("links", [])
            mine_issue_links(
                links=links,
                client=client,
                tracker=tracker,
                source=job.source,
                project_id=job.project_id,
            )
        elif job.kind == MiningJob.Kind.RECONCILE:
            reconcile_repository(repository=task.repository, client=client, tracker=tracker)
        else:
            crawl_repository(repository=task.repository, client=client, tracker=tracker)
    except JobCancelled:
        status = MiningJob.Status.CANCELLED
    except MustWait as wait:
        _finish_task(task, tracker, MiningJob.Status.WAITING, str(wait), wait.seconds)
        raise
    except (gh.GitHubError, MiningError) as failure:
        status, error = MiningJob.Status.FAILED, describe_error(failure, task, client)
    finally:
        if own_client:
            client.close()
    if status == MiningJob.Status.DONE and task.repository is not None and job.project_id:
        ProjectRepository.objects.filter(
            project_id=job.project_id, repository=task.repository
        ).update(last_synced_at=timezone.now(), fetched_at=timezone.now())
    _finish_task(task, tracker, status, error)


def describe_error(error: Exception, task: MiningTask, client) -> str:
    """A clear, token-free message for an error that stopped a task."""
    where = task.repository.full_name if task.repository else "the issue list"
    if isinstance(error, gh.BadCredentials):
        text = (
            "GitHub rejected the token (401 Bad credentials): set a valid one (the project's "
            "own in its settings, or the server's GITHUB_TOKEN)."
        )
    elif isinstance(error, gh.NotFound):
        text = f"Repository {where} was not found at {client.base_url} (404)."
    elif isinstance(error, gh.Unreachable):
        text = f"Cannot reach the GitHub API at {client.base_url}."
    else:
        text = f"{where}: {error}"
    return client.scrub(text)


def _finish_task(task, tracker, status, error="", wait=None) -> None:
    with transaction.atomic():
        tracker.record()
        changes = {"status": status, "error": error, "heartbeat_at": timezone.now()}
        if wait is not None:
            changes["not_before"] = timezone.now() + timedelta(seconds=wait)
        else:
            changes["finished_at"] = timezone.now()
        if status == MiningJob.Status.DONE:
            changes.update(phase=2, progress=1.0)
        MiningTask.objects.filter(pk=task.pk).update(**changes)
        if error and status == MiningJob.Status.FAILED:
            job = MiningJob.objects.select_for_update().get(pk=task.job_id)
            job.errors = [*job.errors, error][-50:]
            job.save(update_fields=["errors"])
    finish_job_if_done(job_id=task.job_id)


def finish_job_if_done(*, job_id: int) -> MiningJob:
    """Set the job's status from its tasks' (done, failed, cancelled or waiting)."""
    with transaction.atomic():
        job = MiningJob.objects.select_for_update().get(pk=job_id)
        statuses = set(job.tasks.values_list("status", flat=True))
        if MiningJob.Status.RUNNING in statuses or MiningJob.Status.QUEUED in statuses:
            return job
        if MiningJob.Status.WAITING in statuses:
            job.status = MiningJob.Status.WAITING
        elif MiningJob.Status.FAILED in statuses:
            job.status = MiningJob.Status.FAILED
        elif MiningJob.Status.CANCELLED in statuses or job.cancel_requested:
            job.status = MiningJob.Status.CANCELLED
        else:
            job.status = MiningJob.Status.DONE
        if job.status != MiningJob.Status.WAITING:
            job.finished_at = job.finished_at or timezone.now()
        job.save(update_fields=["status", "finished_at"])
        return job


@transaction.atomic
def cancel_mining_job(*, job: MiningJob) -> MiningJob:
    """Ask a job to stop: queued and waiting tasks stop now, running ones after their
    current page (leaving consistent data). Idempotent."""
    MiningJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.tasks.filter(status__in=[MiningJob.Status.QUEUED, MiningJob.Status.WAITING]).update(
        status=MiningJob.Status.CANCELLED, finished_at=timezone.now()
    )
    return finish_job_if_done(job_id=job.pk)


@transaction.atomic
def restart_mining_job(*, job: MiningJob, user=None) -> MiningJob:
    """Run a finished, failed or cancelled job again (every crawl resumes from its
    watermarks, so this only fetches what is missing). A running job is left alone.
    Restarted by `user`, it needs a token the project may use (MiningError otherwise)."""
    if job.status in ACTIVE:
        return job
    if user is not None:
        job_token(project=job.project, started_by_user=True)
    tasks = list(job.tasks.values_list("pk", flat=True))
    job.tasks.update(status=MiningJob.Status.QUEUED, error="", finished_at=None, phase=0)
    MiningJob.objects.filter(pk=job.pk).update(
        status=MiningJob.Status.QUEUED, cancel_requested=False, finished_at=None
    )
    _dispatch(tasks)
    job.refresh_from_db()
    return job


def recover_orphaned_tasks(*, worker_prefix: str = "", stale_after=STALE_AFTER) -> list[int]:
    """Re-queue tasks whose worker died: running tasks claimed by a worker whose name
    starts with `worker_prefix` (a restarted node's own), or silent for `stale_after`;
    and waiting tasks whose countdown passed long ago. Returns the re-queued task ids."""
    now = timezone.now()
    orphaned = Q(status=MiningJob.Status.RUNNING, heartbeat_at__lt=now - stale_after)
    if worker_prefix:
        orphaned |= Q(status=MiningJob.Status.RUNNING, worker__startswith=worker_prefix)
    orphaned |= Q(status=MiningJob.Status.WAITING, not_before__lt=now - stale_after)
    with transaction.atomic():
        ids = list(MiningTask.objects.filter(orphaned).values_list("pk", flat=True))
        MiningTask.objects.filter(pk__in=ids).update(status=MiningJob.Status.QUEUED)
        _dispatch(ids)
    return ids


def run_job_sync(*, job: MiningJob, client=None, on_page=None, sleep=time.sleep) -> MiningJob:
    """Run every task of `job` here, in this process (the `mine` command, the demo),
    sleeping through rate-limit waits. Returns the finished job."""
    for task_id in job.tasks.order_by("pk").values_list("pk", flat=True):
        while claim_task(task_id=task_id, worker=f"sync:{worker_name()}"):
            try:
                run_task(task_id=task_id, client=client, on_page=on_page)
            except MustWait as wait:
                logger.info("mining job %s: %s", job.pk, wait)
                sleep(wait.seconds)
    return finish_job_if_done(job_id=job.pk)


def job_progress(job: MiningJob) -> dict:
    """The job's completion (0..1, an estimate while crawling: lists carry no totals) and
    the estimated seconds left."""
    tasks = list(job.tasks.values_list("status", "progress"))
    if not tasks:
        return {"fraction": 0.0, "eta_seconds": None, "percent": 0}
    finished = (MiningJob.Status.DONE, MiningJob.Status.FAILED, MiningJob.Status.CANCELLED)
    fraction = sum(1.0 if s in finished else p for s, p in tasks) / len(tasks)
    elapsed = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0.0
    eta = None if job.status not in ACTIVE else eta_seconds(fraction, elapsed)
    return {"fraction": fraction, "eta_seconds": eta, "percent": round(fraction * 100)}
