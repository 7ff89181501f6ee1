"""The crawl: fetching with the miner's retry policy, syncing a repository's two lists,
single issues (with their transfers and deletions) and the reconcile, counted into a job
through a Tracker.

A crawl spends the minimum: per repository, the two repository-wide lists (issues with
pull requests, and comments), 100 per page, oldest update first, from the watermark on;
then one conditional request per list whose stored ETag makes an unchanged re-sync a 304
that costs no quota. Each page is upserted and the watermark advanced in one transaction,
so a crawl killed at any moment resumes where it stopped, with no duplicates or gaps.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from . import client as gh
from .budget import make_budget
from .models import Issue, MiningJob, MiningTask, Repository
from .progress import github_timestamp, list_fraction, parse_issue_link, parse_timestamp
from .storage import (
    advance_watermark,
    mark_fetched,
    mark_gone,
    store_comments,
    store_issues,
    store_transfer,
    stored_at,
)

INLINE_WAIT_LIMIT = 5.0  # seconds; a longer wait re-queues the task with a countdown
TRANSIENT_ATTEMPTS = 5
BACKOFF_SECONDS = 0.25
RECORD_PAGE = """
UPDATE mining_miningjob SET pages = pages + %(pages)s, issues = issues + %(issues)s,
    comments = comments + %(comments)s, requests = requests + %(spent)s,
    rate_limit_remaining = %(remaining)s, rate_limit_reset = %(reset)s
WHERE id = %(job)s RETURNING cancel_requested;
UPDATE mining_miningtask SET heartbeat_at = %(now)s, progress = COALESCE(%(progress)s, progress)
WHERE id = %(task)s
"""


class MustWait(Exception):
    """The rate limit asks for a wait too long to sleep through: re-queue after `seconds`."""

    def __init__(self, seconds: float, reason: str):
        super().__init__(f"{reason}; waiting {seconds:.0f}s")
        self.seconds = seconds


class JobCancelled(Exception):
    """The job was asked to stop (Tracker.check_cancelled, between pages)."""


# ----- clients and the tracker ----------------------------------------------------------
def make_client(*, api_url: str = "", token: str | None = None) -> gh.GitHubClient:
    """A client for `api_url` (default: settings.GITHUB_API_URL) with the token from the
    environment and the shared rate-limit budget (Redis when REDIS_URL is set)."""
    token = settings.GITHUB_TOKEN if token is None else token
    base_url = api_url or settings.GITHUB_API_URL
    budget = make_budget(token=token, api_url=base_url, redis_url=settings.REDIS_URL)
    # GraphQL's points are a limit of their own, shared the same way.
    points = make_budget(token=token, api_url=f"{base_url} graphql", redis_url=settings.REDIS_URL)
    timeout = int(os.environ.get("GITHUB_TIMEOUT", "10"))
    return gh.GitHubClient(
        token=token, base_url=base_url, timeout=timeout, budget=budget, graphql_budget=points
    )


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
    """GET with the miner's policy (see with_retries)."""
    return with_retries(lambda: client.get(url, etag=etag), tracker, sleep)


def with_retries(call, tracker=None, sleep=time.sleep):
    """One request (`call()`, a GET or a GraphQL POST) with the miner's policy: short
    rate-limit waits and transient failures (5xx, timeouts, cut JSON) are retried in place
    with backoff; a long wait raises MustWait."""
    transient = limited = 0
    while True:
        try:
            return call()
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


def _oldest(data) -> datetime | None:
    return parse_timestamp(data[0]["updated_at"]) if data else None


def _store_page(repo, kind, reply, tracker, single, first_mark, started, phase):
    data = reply.data
    mark = getattr(repo, f"{kind}_watermark")
    newest = max((parse_timestamp(d["updated_at"]) for d in data), default=None)
    new_mark = max(mark, newest) if mark and newest else (mark or newest)
    etag = reply.etag if single and new_mark == mark else ""
    with transaction.atomic():
        fresh = _fresh_rows(repo, kind, data, mark)
        advance_watermark(repo, kind, new_mark, etag)
        if kind == "issues":
            store_issues(repository=repo, pages=data, text=reply.text)
        else:
            store_comments(repository=repo, pages=data, text=reply.text)
        fraction = list_fraction(first_mark, new_mark, started)
        counts = {kind: fresh}
        tracker.record(pages=1, progress=(phase + fraction) / 2, **counts)
    setattr(repo, f"{kind}_watermark", new_mark)
    return new_mark


def _fresh_rows(repo, kind: str, data: list[dict], mark) -> int:
    """How many of a page's rows this run stores for the first time at their updated_at
    (read before the page is stored). Rows after the watermark are; a row in the
    watermark's own second is only when not stored already: `since=` lists again the rows
    stored at that second, but a row sharing the second of the previous page's last row
    arrives first on this page (GitHub lists by the second)."""
    if mark is None:
        return len(data)
    later = sum(1 for d in data if parse_timestamp(d["updated_at"]) > mark)
    at_mark = [d for d in data if parse_timestamp(d["updated_at"]) == mark]
    return later + len(at_mark) - stored_at(repo, kind, at_mark, mark)


# ----- single issues and reconcile ---------------------------------------------------------
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
    created when missing; the caller stores it there with store_transfer().

    With `verify` (a project's single-issue job, whose token may not see a repository
    another project mined), a 404 is recorded only when the token sees the repository."""
    try:
        reply = fetch(client, f"/repos/{repo.owner}/{repo.name}/issues/{number}", tracker=tracker)
    except gh.NotFound:
        if verify and not _repository_visible(repo, client, tracker):
            tracker.note(f"{repo.full_name}: not visible with this token (404); nothing recorded")
            return None, None
        tracker.note(f"{repo.full_name}#{number}: not found (404)")
        mark_gone(repo, number, Issue.Gone.NOT_FOUND)
        return None, None
    except gh.Gone:
        tracker.note(f"{repo.full_name}#{number}: deleted (410)")
        mark_gone(repo, number, Issue.Gone.DELETED)
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
                store_transfer(source=repo, number=number, target=home, data=data)
            elif data:
                store_issues(repository=repo, pages=[data])
            if data:
                store_comments(repository=home, pages=comments)
                if project_id is not None:
                    mark_fetched(project_id, home)
            tracker.record(
                pages=1,
                issues=int(bool(data)),
                comments=len(comments),
                progress=(position + 1) / len(links),
            )
        tracker.check_cancelled()


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
                store_transfer(source=repository, number=number, target=home, data=data)
            elif data:
                store_issues(repository=repository, pages=[data])
            tracker.record()
    return gone
