"""A GitHub REST API emulator: a real HTTP server (stdlib, one thread per request) that
speaks the subset the miner uses, over generated repositories of any size.

Endpoints: GET /repos/{o}/{r}, /repos/{o}/{r}/issues (state, since, sort=updated,
direction=asc, per_page), /repos/{o}/{r}/issues/comments (since), /repos/{o}/{r}/issues/{n},
/repos/{o}/{r}/issues/{n}/comments, /rate_limit. Lists paginate with opaque cursors in
`Link: <...>; rel="next"` (`page=N` beyond 1 answers 422, as GitHub does for deep pages).
Every reply carries a weak ETag; `If-None-Match` with it answers 304 without spending quota.
Rate-limit headers and a quota; server-side request counters; mutation helpers (edit,
comment, delete -> 410, transfer -> 301); injectable faults (see `inject`).

Django-free. Run standalone for the demo:
    python -m mining.emulator --port 8765 --issues 500 --comments 2000
"""

from __future__ import annotations

import argparse
import base64
import bisect
import hashlib
import json
import random
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from .synthetic import DEMO_REPOSITORIES, generate_issues

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
FAULT_KINDS = {"secondary", "429", "primary", "502", "slow", "truncated"}
COUNTERS_PATH = "/_emulator/counters"  # the server-side counters; not counted, no quota


def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def repository_id(owner: str, name: str) -> int:
    return zlib.crc32(f"{owner}/{name}".lower().encode()) % 900_000 + 100_000


@dataclass
class Fault:
    kind: str
    path_contains: str = ""
    after: int = 0  # let this many matching requests through first
    times: int = 1
    seconds: float = 1.0  # Retry-After, primary reset delay, or the slow reply's delay
    retry_after: bool = True  # send Retry-After with a secondary limit
    seen: int = 0


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    private: bool = False  # served as GitHub's `private` and `visibility`
    issues: dict[int, dict] = field(default_factory=dict)  # number -> issue
    comments: dict[int, dict] = field(default_factory=dict)  # id -> comment
    gone: dict[int, tuple[int, str]] = field(default_factory=dict)  # number -> (status, location)
    truths: dict[int, dict] = field(default_factory=dict)
    _sorted: dict[str, list] = field(default_factory=dict)
    _rendered: dict[tuple[str, int], bytes] = field(default_factory=dict)  # (kind, id) -> JSON

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def invalidate(self) -> None:
        self._sorted.clear()
        self._rendered.clear()

    def ordered(self, kind: str) -> list[tuple[datetime, int, dict]]:
        """Issues or comments as (updated_at, id, row), sorted ascending; cached."""
        if kind not in self._sorted:
            rows = self.issues.values() if kind == "issues" else self.comments.values()
            self._sorted[kind] = sorted(((r["updated_at"], r["id"], r) for r in rows), key=_key)
        return self._sorted[kind]


def _key(entry):
    return entry[0], entry[1]


class GitHubEmulator:
    """The emulator: `start()`, then point a client at `url`. Thread-safe."""

    def __init__(self, *, token: str | None = None, quota: int = 5000, port: int = 0):
        self.token = token
        self.quota = quota
        self.port = port
        self.repos: dict[tuple[str, str], Repo] = {}
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self.requests = 0  # every request received
        self.quota_spent = 0  # requests that cost quota (not 304s, not errors before auth)
        self.log: list[tuple[str, int]] = []  # (path with query, status)
        self.remaining = quota
        self.reset_at = time.time() + 3600
        self.clock = datetime(2025, 9, 1, tzinfo=UTC)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- data -----------------------------------------------------------------------
    def add_repository(
        self,
        owner: str,
        name: str,
        *,
        issues: int,
        comments: int | None = None,
        seed: int = 0,
        pull_request_every: int = 7,
        comments_per_issue: tuple[int, int] = (0, 4),
        private: bool = False,
    ) -> Repo:
        """Generate a repository of `issues` issues and pull requests. With `comments`,
        exactly that many comments are spread over them (deterministically). `private`:
        what the repository's JSON says (the emulator serves every token alike)."""
        repo = Repo(owner=owner, name=name, id=repository_id(owner, name), private=private)
        generated = generate_issues(
            owner,
            name,
            issues,
            seed=seed,
            pull_request_every=pull_request_every,
            comments_per_issue=comments_per_issue,
        )
        for raw in generated:
            issue = {k: v for k, v in raw.items() if not k.startswith("_")}
            issue["id"] = repo.id * 10_000_000 + raw["number"]
            repo.truths[raw["number"]] = raw["_truth"]
            repo.issues[raw["number"]] = issue
            for comment in raw["_comments"]:
                row = dict(comment, id=repo.id * 10_000_000_000 + comment["id"])
                row["issue_number"] = raw["number"]
                repo.comments[row["id"]] = row
        if comments is not None:
            self._resize_comments(repo, comments, seed)
        with self.lock:
            self.repos[(owner.lower(), name.lower())] = repo
            latest = max((i["updated_at"] for i in repo.issues.values()), default=self.clock)
            self.clock = max(self.clock, latest + timedelta(days=1))
        return repo

    def _resize_comments(self, repo: Repo, target: int, seed: int) -> None:
        rng = random.Random(f"{repo.full_name}/comments/{seed}")
        ids = sorted(repo.comments)
        for comment_id in ids[target:]:
            del repo.comments[comment_id]
        numbers = sorted(repo.issues)
        serial = (max(ids) + 1) if ids else repo.id * 10_000_000_000 + 10**9
        bodies = ["Same here.", "Any update on this?", "Reproduced with the latest release."]
        while len(repo.comments) < target and numbers:
            number = rng.choice(numbers)
            created = repo.issues[number]["created_at"] + timedelta(minutes=rng.randint(5, 9000))
            repo.comments[serial] = {
                "id": serial,
                "user": {"login": rng.choice(["ychen", "bobsmith", "mlee", "kaur"])},
                "body": rng.choice(bodies),
                "created_at": created,
                "updated_at": created,
                "issue_number": number,
            }
            serial += 1
        counts: dict[int, int] = {}
        latest: dict[int, datetime] = {}
        for comment in repo.comments.values():
            n = comment["issue_number"]
            counts[n] = counts.get(n, 0) + 1
            latest[n] = max(latest.get(n, comment["updated_at"]), comment["updated_at"])
        for number, issue in repo.issues.items():
            issue["comments"] = counts.get(number, 0)
            floor = issue["closed_at"] or issue["created_at"]
            issue["updated_at"] = max(floor, latest.get(number, floor))

    def repo(self, owner: str, name: str) -> Repo:
        return self.repos[(owner.lower(), name.lower())]

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def edit_issue(self, owner: str, name: str, number: int, **changes) -> dict:
        """Change an issue's fields (title, body, state, labels...); bumps updated_at."""
        with self.lock:
            repo = self.repo(owner, name)
            issue = repo.issues[number]
            issue.update(changes)
            issue["updated_at"] = self.tick()
            repo.invalidate()
            return issue

    def add_comment(self, owner: str, name: str, number: int, body: str) -> dict:
        with self.lock:
            repo = self.repo(owner, name)
            now = self.tick()
            comment_id = max(repo.comments, default=repo.id * 10_000_000_000) + 1
            repo.comments[comment_id] = {
                "id": comment_id,
                "user": {"login": "newcomer"},
                "body": body,
                "created_at": now,
                "updated_at": now,
                "issue_number": number,
            }
            issue = repo.issues[number]
            issue["comments"] += 1
            issue["updated_at"] = now
            repo.invalidate()
            return repo.comments[comment_id]

    def delete_issue(self, owner: str, name: str, number: int) -> None:
        """Delete an issue and its comments: it stops listing and answers 410."""
        with self.lock:
            repo = self.repo(owner, name)
            del repo.issues[number]
            for comment_id in [k for k, c in repo.comments.items() if c["issue_number"] == number]:
                del repo.comments[comment_id]
            repo.gone[number] = (410, "")
            repo.invalidate()

    def transfer_issue(self, owner: str, name: str, number: int, to_owner: str, to_name: str):
        """Move an issue (same id, new number) to another repository: the old URL answers
        301 to the new one. Returns the new number."""
        with self.lock:
            source, target = self.repo(owner, name), self.repo(to_owner, to_name)
            issue = source.issues.pop(number)
            new_number = max(target.issues, default=0) + 1
            issue.update(number=new_number, updated_at=self.tick())
            target.issues[new_number] = issue
            for comment_id in [
                k for k, c in source.comments.items() if c["issue_number"] == number
            ]:
                comment = source.comments.pop(comment_id)
                comment["issue_number"] = new_number
                target.comments[comment_id] = comment
            source.gone[number] = (
                301,
                f"{self.url}/repos/{to_owner}/{to_name}/issues/{new_number}",
            )
            source.invalidate()
            target.invalidate()
            return new_number

    # ----- faults and counters --------------------------------------------------------
    def inject(self, kind: str, **options) -> Fault:
        """Inject a fault into upcoming requests (whose path contains `path_contains`):
        'secondary' (403 + Retry-After: seconds, or none with retry_after=False), '429',
        'primary' (quota exhausted until `seconds` from now), '502', 'slow' (reply after
        `seconds`), 'truncated' (200 with cut JSON). `after` skips that many matches first;
        `times` is how many requests it hits."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        fault = Fault(kind=kind, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def reset_counters(self) -> None:
        with self.lock:
            self.requests = 0
            self.quota_spent = 0
            self.log.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path_contains not in path or fault.times <= 0:
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                fault.times -= 1
                return fault
        return None

    # ----- server ---------------------------------------------------------------------
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
    def handle(self, path: str, headers) -> tuple[int, dict, bytes]:
        if path == COUNTERS_PATH:  # for a benchmark that runs the emulator in a process
            with self.lock:
                counters = {"requests": self.requests, "quota_spent": self.quota_spent}
            return _json(200, counters)
        with self.lock:
            self.requests += 1
        status, reply_headers, body = self._handle(path, headers)
        with self.lock:
            self.log.append((path, status))
        return status, reply_headers, body

    def _handle(self, path: str, headers) -> tuple[int, dict, bytes]:
        if self.token is not None:
            auth = headers.get("Authorization", "")
            if auth not in (f"token {self.token}", f"Bearer {self.token}"):
                return _json(401, {"message": "Bad credentials"})
        fault = self._take_fault(path)
        if fault and fault.kind == "slow":
            time.sleep(fault.seconds)
        elif fault and fault.kind == "502":
            return 502, {"Content-Type": "text/html"}, b"<html>502 Bad Gateway</html>"
        elif fault and fault.kind in ("secondary", "429"):
            extra = {"Retry-After": str(int(fault.seconds))} if fault.retry_after else {}
            status = 403 if fault.kind == "secondary" else 429
            return self._with_rate(_json(status, {"message": SECONDARY_MESSAGE}, extra))
        elif fault and fault.kind == "primary":
            with self.lock:
                self.remaining = 0
                self.reset_at = time.time() + fault.seconds
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
            entries = entries[bisect.bisect_right(entries, cursor, key=_key) :]
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
            "owner": {"login": repo.owner},
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "html_url": f"https://github.com/{repo.full_name}",
            "url": f"{self.url}/repos/{repo.full_name}",
            "has_issues": True,
            "open_issues_count": sum(1 for i in repo.issues.values() if i["state"] == "open"),
        }

    def _issue_json(self, repo: Repo, issue: dict) -> dict:
        api = f"{self.url}/repos/{repo.full_name}"
        kind = "pull" if "pull_request" in issue else "issues"
        data = {
            "url": f"{api}/issues/{issue['number']}",
            "repository_url": api,
            "comments_url": f"{api}/issues/{issue['number']}/comments",
            "html_url": f"https://github.com/{repo.full_name}/{kind}/{issue['number']}",
            "id": issue["id"],
            "node_id": base64.b64encode(f"I_{issue['id']}".encode()).decode(),
            "number": issue["number"],
            "title": issue["title"],
            "user": {"login": issue["user"]["login"], "type": "User"},
            "labels": [{"name": label["name"]} for label in issue["labels"]],
            "state": issue["state"],
            "state_reason": issue.get("state_reason"),
            "locked": False,
            "comments": issue["comments"],
            "created_at": iso(issue["created_at"]),
            "updated_at": iso(issue["updated_at"]),
            "closed_at": iso(issue["closed_at"]),
            "author_association": "NONE",
            "body": issue["body"],
        }
        if "pull_request" in issue:
            data["pull_request"] = {
                "url": f"{api}/pulls/{issue['number']}",
                "html_url": issue["pull_request"]["url"],
            }
        return data

    def _comment_json(self, repo: Repo, comment: dict) -> dict:
        api = f"{self.url}/repos/{repo.full_name}"
        number = comment["issue_number"]
        return {
            "url": f"{api}/issues/comments/{comment['id']}",
            "html_url": f"https://github.com/{repo.full_name}/issues/{number}#issuecomment-"
            f"{comment['id']}",
            "issue_url": f"{api}/issues/{number}",
            "id": comment["id"],
            "user": {"login": comment["user"]["login"], "type": "User"},
            "created_at": iso(comment["created_at"]),
            "updated_at": iso(comment["updated_at"]),
            "author_association": "NONE",
            "body": comment["body"],
        }


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
            status, headers, body = emulator.handle(self.path, self.headers)
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Serve generated GitHub repositories.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--issues", type=int, default=200, help="issues and PRs per repository")
    parser.add_argument("--comments", type=int, default=None, help="comments per repository")
    parser.add_argument("--token", default=None, help="require this token (default: any)")
    parser.add_argument("--quota", type=int, default=5000, help="requests per rate-limit hour")
    parser.add_argument(
        "--repository",
        action="append",
        metavar="OWNER/NAME",
        help="serve this repository (repeatable; default: the demo's repositories)",
    )
    args = parser.parse_args(argv)
    emulator = GitHubEmulator(token=args.token, port=args.port, quota=args.quota)
    names = [r.split("/", 1) for r in args.repository or []]
    for owner, name in names or [(o, n) for o, n, _group, _meta in DEMO_REPOSITORIES]:
        emulator.add_repository(owner, name, issues=args.issues, comments=args.comments)
    emulator.start()
    print(
        f"GitHub API emulator on {emulator.url} serving {len(emulator.repos)} repositories",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
