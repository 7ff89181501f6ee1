"""The GitHub client: PyGithub's requester (token auth, base URL for Enterprise, connection
retries, timeouts) used for raw JSON pages, so that no lazy object ever completes itself
with an extra GET. Replies are classified into results and typed errors; waiting and
retrying is the caller's decision (see crawl.fetch). Django-free.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

import requests
from github import Auth, Github
from urllib3.util.retry import Retry

PER_PAGE = 100
SECONDARY_DEFAULT_WAIT = 60.0


def header_number(headers: dict, name: str, default: float) -> float:
    """A numeric rate-limit header (`x-ratelimit-reset`, `retry-after`, ...) as a float;
    `default` when it is missing or not a finite number (a proxy or a broken server may
    send anything there, and the miner must still wait and retry, not crash)."""
    try:
        value = float(headers.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if math.isfinite(value) else default


class GitHubError(Exception):
    """Base of the client's errors; messages never contain the token."""


class BadCredentials(GitHubError):
    pass


class NotFound(GitHubError):
    pass


class Gone(GitHubError):
    pass


class Transient(GitHubError):
    """5xx, timeouts, cut replies: worth retrying with backoff."""


class Unreachable(Transient):
    """No connection to the API host (retried a few times, then reported)."""


class RateLimited(GitHubError):
    def __init__(self, message: str, wait: float, primary: bool):
        super().__init__(message)
        self.wait = wait
        self.primary = primary


class GraphQLFailed(GitHubError):
    """A GraphQL reply that answers with errors or not in the shape asked for (a malformed
    reply): not retried, the task stops with this message and stores nothing of the batch."""


class RequestFailed(GitHubError):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass
class Reply:
    status: int  # 200 or 304
    data: object = None
    etag: str = ""
    next_url: str | None = None
    headers: dict = field(default_factory=dict)
    text: str = ""  # the JSON text `data` was decoded from (the miner stores it as is)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def next_link(header: str | None) -> str | None:
    """The URL of `rel="next"` in a Link header, exactly as given."""
    for part in (header or "").split(","):
        if 'rel="next"' in part and "<" in part:
            return part[part.index("<") + 1 : part.index(">")]
    return None


def list_path(owner: str, name: str, kind: str, since: str | None) -> str:
    """The first page of a repository-wide list, oldest update first. `since` is omitted,
    never empty or the epoch, when there is no watermark yet."""
    base = f"/repos/{owner}/{name}/issues" + ("/comments" if kind == "comments" else "")
    query = {"sort": "updated", "direction": "asc", "per_page": PER_PAGE}
    if kind == "issues":
        query = {"state": "all", **query}
    if since:
        query["since"] = since
    return f"{base}?{urlencode(query)}"


class GitHubClient:
    """One client per token and API URL. `budget` (see budget.py) is consulted before each
    request and told the rate-limit headers after each reply."""

    def __init__(
        self, *, token: str, base_url: str, timeout: int = 10, budget=None, graphql_budget=None
    ):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.budget = budget
        self.graphql_budget = graphql_budget  # GraphQL's points: a limit apart from REST's
        self.requests = 0
        self.graphql_queries = 0
        self.graphql_points = 0
        self.rate_remaining: int | None = None
        self.rate_reset: float | None = None
        # Connection failures only: statuses (rate limits, 5xx) are the miner's to handle.
        retry = Retry(
            total=2,
            connect=2,
            read=0,
            status=0,
            other=0,
            backoff_factor=0.2,
            respect_retry_after_header=False,
            raise_on_status=False,
        )
        self._github = Github(
            auth=Auth.Token(token) if token else None,
            base_url=self.base_url,
            timeout=timeout,
            per_page=PER_PAGE,
            retry=retry,
            user_agent="faultline-miner",
            # No fixed pause between requests: the shared budget paces the miner.
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self._requester = self._github.requester

    def __repr__(self):  # never show the token
        return f"GitHubClient({self.base_url})"

    def close(self) -> None:
        self._github.close()

    def scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def get(self, url: str, *, etag: str = "") -> Reply:
        """One GET (relative path or a Link URL); raises the typed errors above."""
        headers = {"Accept": "application/vnd.github+json"}
        if etag:
            headers["If-None-Match"] = etag
        status, reply_headers, body = self._send("GET", url, headers, None, self.budget)
        self._note_rate(reply_headers)
        return self._classify(status, reply_headers, body)

    def graphql(self, query: str, variables: dict) -> Reply:
        """One POST to GraphQL (PyGithub's `graphql_url`: /graphql, or /api/graphql on an
        Enterprise host) through the same requester. Returns a Reply whose `data` is the
        reply's `data` and `headers["errors"]` the errors GitHub answered beside data (an
        issue not found); raises RateLimited, Transient, GraphQLFailed and the others.
        PyGithub's own `graphql_query` is not used: it turns every error into one
        exception type, and the miner must tell a rate limit from a malformed reply."""
        payload = {"query": query, "variables": variables}
        url = self._requester.graphql_url
        headers = {"Accept": "application/json"}
        status, reply_headers, body = self._send("POST", url, headers, payload, self.graphql_budget)
        self.graphql_queries += 1
        reply = self._classify(status, reply_headers, body)
        data = reply.data if isinstance(reply.data, dict) else {}
        errors = data.get("errors") or []
        if any(isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors):
            reset = header_number(reply_headers, "x-ratelimit-reset", time.time() + 60)
            raise RateLimited("GraphQL rate limit", max(reset - time.time(), 0) + 0.5, True)
        worse = [e for e in errors if not (isinstance(e, dict) and e.get("type") == "NOT_FOUND")]
        if worse or not isinstance(data.get("data"), dict):
            first = worse[0] if worse else {}
            message = first.get("message", "") if isinstance(first, dict) else str(first)
            raise GraphQLFailed(
                f"GraphQL answered an error: {message}"[:300]
                if worse
                else "malformed GraphQL reply: no `data` object"
            )
        rate = data["data"].get("rateLimit")
        if isinstance(rate, dict):
            self._note_points(rate)
        reply.data, reply.headers = data["data"], {**reply.headers, "errors": errors}
        return reply

    def _note_points(self, rate: dict) -> None:
        try:
            cost, remaining = int(rate["cost"]), int(rate["remaining"])
            reset = datetime.fromisoformat(str(rate["resetAt"]).replace("Z", "+00:00"))
        except (KeyError, TypeError, ValueError):
            raise GraphQLFailed("malformed GraphQL reply: rateLimit without cost") from None
        self.graphql_points += cost
        self.rate_remaining, self.rate_reset = remaining, reset.timestamp()
        if self.graphql_budget is not None:
            self.graphql_budget.observe(remaining, reset.timestamp())

    def _send(self, verb: str, url: str, headers: dict, payload, budget):
        if budget is not None:
            wait = budget.acquire()
            if wait > 0:
                raise RateLimited("shared rate-limit budget exhausted", wait, primary=True)
        self.requests += 1
        try:
            return self._requester.requestJson(verb, url, headers=headers, input=payload)
        except requests.exceptions.Timeout as error:
            raise Transient(f"timeout: {type(error).__name__}") from None
        except requests.exceptions.ConnectionError as error:
            if "timed out" in str(error):
                raise Transient("timeout: the API did not answer in time") from None
            reason = getattr(error.args[0], "reason", error) if error.args else error
            raise Unreachable(f"cannot reach {self.base_url} ({type(reason).__name__})") from None

    def _note_rate(self, headers: dict) -> None:
        if "x-ratelimit-remaining" not in headers:
            return
        self.rate_remaining = int(header_number(headers, "x-ratelimit-remaining", 0))
        self.rate_reset = header_number(headers, "x-ratelimit-reset", time.time())
        if self.budget is not None:
            self.budget.observe(self.rate_remaining, self.rate_reset)

    def _classify(self, status: int, headers: dict, body: str) -> Reply:
        if status == 304:
            return Reply(304, etag=headers.get("etag", ""), headers=headers)
        try:
            data = json.loads(body) if body else None
        except ValueError:
            if status == 200:
                raise Transient("cut or invalid JSON in a 200 reply") from None
            data = None
        message = data.get("message", "") if isinstance(data, dict) else ""
        if status == 200:
            return Reply(
                200, data, headers.get("etag", ""), next_link(headers.get("link")), headers, body
            )
        if status in (403, 429) and headers.get("x-ratelimit-remaining") == "0":
            wait = max(header_number(headers, "x-ratelimit-reset", 0) - time.time(), 0) + 0.5
            raise RateLimited(f"primary rate limit ({status})", wait, primary=True)
        if status == 429 or (status == 403 and ("retry-after" in headers or "rate" in message)):
            wait = header_number(headers, "retry-after", SECONDARY_DEFAULT_WAIT)
            raise RateLimited(f"secondary rate limit ({status})", wait, primary=False)
        if status == 401:
            raise BadCredentials("GitHub rejected the token (401 Bad credentials)")
        if status == 404:
            raise NotFound("not found (404)")
        if status == 410:
            raise Gone("deleted (410)")
        if status >= 500:
            raise Transient(f"server error {status}")
        raise RequestFailed(f"GitHub answered {status}: {message}"[:300], status)
