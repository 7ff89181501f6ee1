"""The emulator's HTTP side: a real server (stdlib, one thread per request) that routes
GitHub's paths over the world's repositories, pages lists with opaque cursors, answers
304 to a matching ETag without spending quota, and keeps the rate limit and counters."""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from . import graphql
from .objects import comment_object, issue_object, user_object
from .world import Repo, World, entry_key, iso, parse_iso

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
COUNTERS_PATH = "/_emulator/counters"  # the server-side counters; not counted, no quota


class GitHubEmulator(World):
    """The emulator: `start()`, then point a client at `url`. Thread-safe."""

    def __init__(self, *, token: str | None = None, quota: int = 5000, port: int = 0):
        super().__init__()
        self.token = token
        self.quota = quota
        self.port = port
        self.requests = 0  # every request received
        self.quota_spent = 0  # requests that cost quota (not 304s, not errors before auth)
        self.log: list[tuple[str, int]] = []  # (path with query, status)
        self.remaining = quota
        self.reset_at = time.time() + 3600
        # GraphQL's points: a limit apart from REST's, as on GitHub.
        self.graphql_queries = 0  # POST /graphql received
        self.points_quota = quota
        self.points_remaining = quota
        self.points_reset_at = time.time() + 3600
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- counters and server --------------------------------------------------------
    def reset_counters(self) -> None:
        with self.lock:
            self.requests = 0
            self.quota_spent = 0
            self.graphql_queries = 0
            self.log.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GitHubEmulator:
        for repo in self.repos.values():  # rendered rows carry the URL, known from now on
            repo.invalidate()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ----- request handling (returns status, headers, body) ---------------------------
    def handle(self, path: str, headers, body: bytes | None = None) -> tuple[int, dict, bytes]:
        """One request: a GET, or with `body` a POST (only /graphql takes one)."""
        if path == COUNTERS_PATH:  # for a benchmark that runs the emulator in a process
            with self.lock:
                counters = {"requests": self.requests, "quota_spent": self.quota_spent}
                counters["graphql_queries"] = self.graphql_queries
            return _json(200, counters)
        with self.lock:
            self.requests += 1
        if body is not None and path == "/graphql":
            with self.lock:
                self.graphql_queries += 1
            status, reply_headers, reply = self._handle_graphql(headers, body)
        elif body is not None:
            status, reply_headers, reply = _json(404, {"message": "Not Found"})
        else:
            status, reply_headers, reply = self._handle(path, headers)
        with self.lock:
            self.log.append((path, status))
        return status, reply_headers, reply

    def _refused(self, path: str, headers):
        """A reply before routing: a bad token, or the next injected fault's (a primary
        limit empties the REST quota or, on /graphql, the points). Returns (reply or None,
        the fault)."""
        if self.token is not None:
            auth = headers.get("Authorization", "")
            if auth not in (f"token {self.token}", f"Bearer {self.token}"):
                return _json(401, {"message": "Bad credentials"}), None
        fault = self._take_fault(path)
        if fault and fault.kind == "slow":
            time.sleep(fault.seconds)
        elif fault and fault.kind == "502":
            return (502, {"Content-Type": "text/html"}, b"<html>502 Bad Gateway</html>"), fault
        elif fault and fault.kind in ("secondary", "429"):
            extra = {"Retry-After": str(int(fault.seconds))} if fault.retry_after else {}
            status = 403 if fault.kind == "secondary" else 429
            return _json(status, {"message": SECONDARY_MESSAGE}, extra), fault
        elif fault and fault.kind == "primary":
            with self.lock:
                if path == "/graphql":
                    self.points_remaining = 0
                    self.points_reset_at = time.time() + fault.seconds
                else:
                    self.remaining = 0
                    self.reset_at = time.time() + fault.seconds
        return None, fault

    def _handle_graphql(self, headers, body: bytes) -> tuple[int, dict, bytes]:
        refused, fault = self._refused("/graphql", headers)
        if refused is not None:
            return self._with_points(refused)
        with self.lock:
            if self.points_remaining <= 0 and time.time() >= self.points_reset_at:
                self.points_remaining = self.points_quota
                self.points_reset_at = time.time() + 3600
            if self.points_remaining <= 0:
                message = "API rate limit exceeded for user ID 1."
                return self._with_points(
                    _json(200, {"errors": [{"type": "RATE_LIMITED", "message": message}]})
                )
            payload, cost = graphql.answer(self.repos, body)
            if "data" not in payload and "errors" not in payload:
                return self._with_points(_json(400, payload))
            self.points_remaining -= cost
            if isinstance(payload.get("data"), dict) and "rateLimit" in payload["data"]:
                reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.points_reset_at))
                rate = {"cost": cost, "remaining": max(self.points_remaining, 0), "resetAt": reset}
                payload["data"]["rateLimit"] = rate
        if fault and fault.kind == "malformed":
            payload = {
                "data": {
                    "rateLimit": payload.get("data", {}).get("rateLimit"),
                    "repository": {"unexpected": []},
                }
            }
        reply = json.dumps(payload, separators=(",", ":")).encode()
        if fault and fault.kind == "truncated":
            reply = reply[: max(1, len(reply) // 2)]
        return self._with_points((200, {"Content-Type": "application/json; charset=utf-8"}, reply))

    def _with_points(self, reply):
        status, headers, body = reply
        with self.lock:
            used = self.points_quota - max(self.points_remaining, 0)
            headers.update(
                {
                    "X-RateLimit-Limit": str(self.points_quota),
                    "X-RateLimit-Remaining": str(max(self.points_remaining, 0)),
                    "X-RateLimit-Used": str(used),
                    "X-RateLimit-Reset": str(int(self.points_reset_at + 0.999)),
                    "X-RateLimit-Resource": "graphql",
                }
            )
        return status, headers, body

    def _handle(self, path: str, headers) -> tuple[int, dict, bytes]:
        refused, fault = self._refused(path, headers)
        if refused is not None:
            return refused if refused[0] in (401, 502) else self._with_rate(refused)
        with self.lock:
            if self.remaining <= 0 and time.time() >= self.reset_at:
                self.remaining, self.reset_at = self.quota, time.time() + 3600
            if self.remaining <= 0:
                message = "API rate limit exceeded for user ID 1."
                return self._with_rate(_json(403, {"message": message}))
        status, extra, payload = self._route(path)
        if isinstance(payload, bytes):  # a list page joined from cached rows
            body = payload
        else:
            body = json.dumps(payload, separators=(",", ":")).encode()
        etag = 'W/"' + hashlib.sha256(body + extra.get("Link", "").encode()).hexdigest() + '"'
        if status == 200:
            extra["ETag"] = etag
            if headers.get("If-None-Match") == etag:
                return self._with_rate((304, {"ETag": etag}, b""))
        if status < 500:
            with self.lock:
                self.remaining -= 1
                self.quota_spent += 1
        if fault and fault.kind == "truncated" and status == 200:
            body = body[: max(1, len(body) // 2)]
        extra["Content-Type"] = "application/json; charset=utf-8"
        return self._with_rate((status, extra, body))

    def _with_rate(self, reply):
        status, headers, body = reply
        with self.lock:
            headers.update(
                {
                    "X-RateLimit-Limit": str(self.quota),
                    "X-RateLimit-Remaining": str(max(self.remaining, 0)),
                    "X-RateLimit-Used": str(self.quota - max(self.remaining, 0)),
                    "X-RateLimit-Reset": str(int(self.reset_at + 0.999)),
                    "X-RateLimit-Resource": "core",
                }
            )
        return status, headers, body

    def _route(self, path: str) -> tuple[int, dict, object]:
        parts = urlsplit(path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        segments = [s for s in parts.path.split("/") if s]
        if segments == ["rate_limit"]:
            with self.lock:
                core = {"limit": self.quota, "remaining": self.remaining}
            return 200, {}, {"resources": {"core": core}, "rate": core}
        if len(segments) < 3 or segments[0] != "repos":
            return 404, {}, {"message": "Not Found"}
        with self.lock:
            repo = self.repos.get((segments[1].lower(), segments[2].lower()))
            if repo is None:
                return 404, {}, {"message": "Not Found"}
            rest = segments[3:]
            if not rest:
                return 200, {}, self._repo_json(repo)
            if rest == ["issues"]:
                return self._list(repo, "issues", parts.path, query)
            if rest == ["issues", "comments"]:
                return self._list(repo, "comments", parts.path, query)
            if len(rest) in (2, 3) and rest[0] == "issues" and rest[1].isdigit():
                return self._single(repo, int(rest[1]), rest[2:], parts.path, query)
        return 404, {}, {"message": "Not Found"}

    def _single(self, repo: Repo, number: int, tail: list, path: str, query: dict):
        if number in repo.gone:
            status, location = repo.gone[number]
            if status == 301:
                return 301, {"Location": location + ("/comments" if tail else "")}, {}
            return 410, {}, {"message": "This issue was deleted"}
        if number not in repo.issues:
            return 404, {}, {"message": "Not Found"}
        if not tail:
            return 200, {}, self._issue_json(repo, repo.issues[number])
        if tail != ["comments"]:
            return 404, {}, {"message": "Not Found"}
        rows = sorted(
            (c for c in repo.comments.values() if c["issue_number"] == number),
            key=lambda c: (c["created_at"], c["id"]),
        )
        entries = [(c["created_at"], c["id"], c) for c in rows]
        return self._page(repo, "comments", entries, path, query)

    def _list(self, repo: Repo, kind: str, path: str, query: dict):
        entries = repo.ordered(kind)
        if kind == "issues" and query.get("state", "open") != "all":
            entries = [e for e in entries if e[2]["state"] == query.get("state", "open")]
        if query.get("direction", "desc" if kind == "issues" else "asc") != "asc":
            return 422, {}, {"message": "The emulator only serves direction=asc."}
        if "since" in query:
            try:
                since = parse_iso(query["since"])
            except ValueError:
                return 422, {}, {"message": "Invalid value for since."}
            entries = entries[bisect.bisect_left(entries, (since,), key=lambda e: (e[0],)) :]
        return self._page(repo, kind, entries, path, query)

    def _page(self, repo: Repo, kind: str, entries: list, path: str, query: dict):
        if query.get("page", "1") != "1":
            message = "Pagination with the page parameter is not supported for large datasets."
            return 422, {}, {"message": message + " Use the Link header's cursor."}
        per_page = min(max(int(query.get("per_page", "30") or 30), 1), 100)
        if "after" in query:
            try:
                moment, last_id = base64.urlsafe_b64decode(query["after"]).decode().split("|")
            except (ValueError, UnicodeDecodeError):
                return 422, {}, {"message": "Invalid cursor."}
            cursor = (parse_iso(moment), int(last_id))
            entries = entries[bisect.bisect_right(entries, cursor, key=entry_key) :]
        page, more = entries[:per_page], len(entries) > per_page
        headers = {}
        if more:
            last = page[-1]
            token = base64.urlsafe_b64encode(f"{iso(last[0])}|{last[1]}".encode()).decode()
            next_query = {k: v for k, v in query.items() if k != "after"}
            next_query["after"] = token
            headers["Link"] = f'<{self.url}{path}?{urlencode(next_query)}>; rel="next"'
        return 200, headers, b"[" + b",".join(self._rendered(repo, kind, e[2]) for e in page) + b"]"

    def _rendered(self, repo: Repo, kind: str, row: dict) -> bytes:
        """A row's JSON, serialised once (until the repository changes)."""
        key = (kind, row["id"])
        body = repo._rendered.get(key)
        if body is None:
            render = self._issue_json if kind == "issues" else self._comment_json
            body = json.dumps(render(repo, row), separators=(",", ":")).encode()
            repo._rendered[key] = body
        return body

    def _repo_json(self, repo: Repo) -> dict:
        return {
            "id": repo.id,
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": user_object(self.url, repo.owner, kind="Organization"),
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "html_url": f"https://github.com/{repo.full_name}",
            "url": f"{self.url}/repos/{repo.full_name}",
            "has_issues": True,
            "open_issues_count": sum(1 for i in repo.issues.values() if i["state"] == "open"),
        }

    def _issue_json(self, repo: Repo, issue: dict) -> dict:
        return issue_object(self.url, repo.full_name, issue)

    def _comment_json(self, repo: Repo, comment: dict) -> dict:
        return comment_object(self.url, repo.full_name, comment)


def _json(status: int, payload, extra: dict | None = None):
    headers = {"Content-Type": "application/json; charset=utf-8", **(extra or {})}
    return status, headers, json.dumps(payload).encode()


def _handler_for(emulator: GitHubEmulator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in one send (flushed after each request): no Nagle stall.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802 - the stdlib's naming
            self._reply(*emulator.handle(self.path, self.headers))

        def do_POST(self):  # noqa: N802 - the stdlib's naming
            length = int(self.headers.get("Content-Length") or 0)
            self._reply(*emulator.handle(self.path, self.headers, self.rfile.read(length)))

        def _reply(self, status: int, headers: dict, body: bytes) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def log_message(self, format, *args):  # quiet: tests count requests instead
            return

    return Handler
