"""The emulator's world: generated repositories with their issues and comments, a clock,
the mutations tests and benches apply (edit, comment, delete, transfer) and the faults
they inject into upcoming requests. Thread-safe under `lock`."""

from __future__ import annotations

import random
import threading
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..synthetic import commit_id, generate_fix_links, generate_issues

FAULT_KINDS = {"secondary", "429", "primary", "502", "slow", "truncated", "malformed"}


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
    # number -> {"closing": [pull], "timeline": [event]} (synthetic.generate_fix_links)
    fixes: dict[int, dict] = field(default_factory=dict)
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
            self._sorted[kind] = sorted(
                ((r["updated_at"], r["id"], r) for r in rows), key=entry_key
            )
        return self._sorted[kind]


def entry_key(entry):
    """(updated_at, id): the order lists are served in, and their cursors' position."""
    return entry[0], entry[1]


class World:
    """The repositories and faults of one emulator (GitHubEmulator serves them)."""

    url: str  # the server's (a transfer's 301 names it)

    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self.clock = datetime(2025, 9, 1, tzinfo=UTC)

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
            if "pull_request" not in issue:
                repo.fixes[raw["number"]] = generate_fix_links(owner, name, issue, seed)
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

    def link_fix(
        self, owner: str, name: str, number: int, kind: str = "closing", count: int = 1, **fields
    ) -> None:
        """Link `count` new pull requests (kind "closing" or "referencing") or commits
        ("commit") to an issue, as a pull request or commit mentioning it would on GitHub;
        bumps the issue's updated_at. `fields` override the generated ones (title...);
        `repository="OWNER/NAME"` puts the pull request or commit in another repository,
        `private=True` has GraphQL call that repository private even when the world holds
        no repository of that name (else the world's repository says, public if none)."""
        with self.lock:
            repo = self.repo(owner, name)
            links = repo.fixes.setdefault(number, {"closing": [], "timeline": []})
            for _ in range(count):
                now = self.tick()
                serial = 200_000 + number * 1000 + len(links["timeline"])
                if kind == "commit":
                    event = {"type": "commit", "oid": commit_id(f"{repo.full_name}/{serial}")}
                    event.update(headline=f"Mention #{number}", date=now, changed_files=1)
                    event.update({"additions": 3, "deletions": 1, **fields})
                    links["timeline"].append(event)
                    continue
                pull = {"repository": repo.full_name, "number": serial, "title": f"#{number}"}
                merged = kind == "closing"
                pull.update(state="MERGED" if merged else "OPEN", merged_at=now if merged else None)
                pull.update({"changed_files": 2, "additions": 10, "deletions": 4, **fields})
                if merged:
                    links["closing"].append(pull)
                links["timeline"].append({"type": "pull", "pull": pull})
            repo.issues[number]["updated_at"] = self.tick()
            repo.invalidate()

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

    # ----- faults ---------------------------------------------------------------------
    def inject(self, kind: str, **options) -> Fault:
        """Inject a fault into upcoming requests (whose path contains `path_contains`):
        'secondary' (403 + Retry-After: seconds, or none with retry_after=False), '429',
        'primary' (quota exhausted until `seconds` from now), '502', 'slow' (reply after
        `seconds`), 'truncated' (200 with cut JSON), 'malformed' (GraphQL only: 200 with JSON
        in another shape than asked). `after` skips that many matches first;
        `times` is how many requests it hits."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        fault = Fault(kind=kind, **options)
        if kind == "malformed" and "graphql" not in fault.path_contains:
            raise ValueError("a 'malformed' fault is for GraphQL: path_contains='/graphql'")
        with self.lock:
            self.faults.append(fault)
        return fault

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
