"""Pure helpers for the miner: parsing names and links, progress and ETA estimates,
timestamps. Django-free."""

from __future__ import annotations

import re
from datetime import datetime

FULL_NAME = re.compile(r"^([A-Za-z0-9-]{1,39})/([A-Za-z0-9_.-]{1,100})$")
ISSUE_LINK = re.compile(
    r"^(?:https?://github\.com/)?([A-Za-z0-9-]+)/([A-Za-z0-9_.-]+?)"
    r"(?:/(?:issues|pull)/|#)(\d+)/?$"
)
# GitHub's rules: an owner is letters, digits and single hyphens, neither first nor last,
# at most 39 characters; a repository name is letters, digits, '.', '_', '-', at most 100,
# and not '.' or '..' (which would walk up the API's URL: `a/..` became /repos/issues).
OWNER = re.compile(r"^[A-Za-z0-9](?:-?[A-Za-z0-9])*$")
NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
MAX_OWNER, MAX_NAME = 39, 100
NAME_RULES = (
    "an owner is letters, digits and single hyphens (not first or last), at most 39 "
    "characters; a name is letters, digits, '.', '_' and '-', at most 100, not '.' or '..'"
)


def valid_repository_name(owner: str, name: str) -> bool:
    """Whether OWNER/NAME follows GitHub's rules for accounts and repositories."""
    return (
        len(owner) <= MAX_OWNER
        and OWNER.match(owner) is not None
        and len(name) <= MAX_NAME
        and NAME.match(name) is not None
        and name not in (".", "..")
    )


MAX_ISSUE_NUMBER = 2**31 - 1  # issue numbers are stored in an integer column


def parse_full_name(text: str) -> tuple[str, str]:
    """'owner/name' -> (owner, name); ValueError with a readable message otherwise."""
    match = FULL_NAME.match(text.strip().removesuffix(".git").removeprefix("https://github.com/"))
    if not match or not valid_repository_name(match.group(1), match.group(2)):
        raise ValueError(
            f"'{text[:250]}' is not a repository name of the form OWNER/NAME ({NAME_RULES})."
        )
    return match.group(1), match.group(2)


def parse_issue_link(text: str) -> tuple[str, str, int]:
    """An issue link (https://github.com/o/r/issues/7, .../pull/7 or o/r#7) -> (o, r, 7)."""
    match = ISSUE_LINK.match(text.strip())
    if (
        not match
        or not valid_repository_name(match.group(1), match.group(2))
        or int(match.group(3)) > MAX_ISSUE_NUMBER
    ):
        raise ValueError(f"'{text[:250]}' is not a GitHub issue link ({NAME_RULES}).")
    return match.group(1), match.group(2), int(match.group(3))


def parse_timestamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def github_timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def list_fraction(start: datetime | None, current: datetime | None, end: datetime) -> float:
    """How far a list sorted by update time has got: the watermark's place between where
    the sync started and when the job began (lists hold nothing newer than that)."""
    if current is None or start is None or end <= start:
        return 0.0
    return max(0.0, min(1.0, (current - start) / (end - start)))


def eta_seconds(fraction: float, elapsed: float) -> float | None:
    """Seconds left at the rate so far; None before there is anything to go on."""
    if fraction <= 0.0 or elapsed <= 0:
        return None
    if fraction >= 1.0:
        return 0.0
    return elapsed * (1.0 - fraction) / fraction
