"""The GraphQL queries that fetch issues' fix links, and the parsing of their replies into
plain link dicts. Django-free (the emulator serves exactly these queries).

One batch query asks for up to BATCH issues of one repository, one alias per issue
(`i0: issue(number: $n0)`), each with the pull requests that close it
(`closedByPullRequestsReferences`) and the first TIMELINE_PAGE of its timeline's
`CROSS_REFERENCED_EVENT` and `REFERENCED_EVENT` items. An issue whose timeline has more
gets follow-up queries of its own (TIMELINE_QUERY, from the page's end cursor).
"""

from __future__ import annotations

from .client import GraphQLFailed

BATCH = 100  # issues per query
TIMELINE_PAGE = 100  # timeline items per issue and query
CLOSING_PAGE = 25  # closing pull requests per issue (GitHub's lists are short)

RATE = "rateLimit { cost remaining resetAt }"
# The repository a pull request or commit lives in, and whether it is private: nested
# objects cost no points and no request (only connections do), so the batch stays one query.
REPOSITORY = "repository { nameWithOwner isPrivate }"
PULL = "number url title state merged mergedAt changedFiles additions deletions " + REPOSITORY
COMMIT = (
    "oid url messageHeadline additions deletions changedFilesIfAvailable committedDate "
    + REPOSITORY
)
TIMELINE = (
    "pageInfo { hasNextPage endCursor } nodes { __typename "
    "... on CrossReferencedEvent { source { __typename ... on PullRequest { " + PULL + " } } } "
    "... on ReferencedEvent { commit { " + COMMIT + " } } }"
)
TYPES = "itemTypes: [CROSS_REFERENCED_EVENT, REFERENCED_EVENT]"
FRAGMENT = (
    "fragment FixFields on Issue { number "
    f"closedByPullRequestsReferences(first: {CLOSING_PAGE}, includeClosedPrs: true) "
    "{ nodes { " + PULL + " } } "
    f"timelineItems(first: {TIMELINE_PAGE}, {TYPES}) {{ {TIMELINE} }} }}"
)
TIMELINE_QUERY = (
    "query FixTimeline($owner: String!, $name: String!, $number: Int!, $after: String!) { "
    f"{RATE} repository(owner: $owner, name: $name) {{ issue(number: $number) {{ "
    f"timelineItems(first: {TIMELINE_PAGE}, after: $after, {TYPES}) {{ {TIMELINE} }} }} }} }}"
)


def batch_query(numbers: list[int]) -> tuple[str, dict]:
    """The query and variables for one batch of issue numbers (at most BATCH)."""
    if not 0 < len(numbers) <= BATCH:
        raise ValueError(f"a batch holds 1 to {BATCH} issues")
    declared = "".join(f", $n{i}: Int!" for i in range(len(numbers)))
    aliases = " ".join(
        f"i{i}: issue(number: $n{i}) {{ ...FixFields }}" for i in range(len(numbers))
    )
    query = (
        f"query FixBatch($owner: String!, $name: String!{declared}) {{ {RATE} "
        f"repository(owner: $owner, name: $name) {{ {aliases} }} }} {FRAGMENT}"
    )
    return query, {f"n{i}": number for i, number in enumerate(numbers)}


def _object(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise GraphQLFailed(f"malformed GraphQL reply: {what} is not an object")
    return value


# GraphQL's Int is a signed 32-bit integer, as are the columns that hold these counts: a
# larger (or negative, or boolean) count is not GitHub's and is kept as unknown, not
# stored as a number the database refuses.
INT_MAX = 2**31 - 1


def _count(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= INT_MAX else None


def _text(value, limit: int | None = None) -> str:
    """GitHub's text as a string PostgreSQL can hold (no U+0000), cut to `limit`."""
    text = str(value or "").replace("\x00", "")
    return text[:limit] if limit is not None else text


def _repository(node: dict, what: str) -> tuple[str, bool]:
    """(nameWithOwner, isPrivate) of a pull request's or commit's repository."""
    repo = _object(node.get("repository"), f"{what}'s repository")
    name, private = repo.get("nameWithOwner"), repo.get("isPrivate")
    if not isinstance(name, str) or not name:
        raise GraphQLFailed(f"malformed GraphQL reply: {what} without its repository's name")
    if not isinstance(private, bool):
        raise GraphQLFailed(f"malformed GraphQL reply: {what}'s repository without isPrivate")
    return name, private


def pull_link(node: dict, kind: str) -> dict:
    """A link row from a PullRequest node."""
    node = _object(node, "a pull request")
    full_name, private = _repository(node, "a pull request")
    number = node.get("number")
    if not isinstance(number, int):
        raise GraphQLFailed("malformed GraphQL reply: a pull request without its number")
    if isinstance(number, bool) or not 0 < number <= INT_MAX:
        raise GraphQLFailed(f"malformed GraphQL reply: {number!r} is not a pull request number")
    return {
        "kind": kind,
        "ref": _text(f"{full_name}#{number}", 250),
        "number": number,
        "sha": "",
        "url": _text(node.get("url"), 500),
        "title": _text(node.get("title")),
        "state": _text(node.get("state"), 10),
        "merged": bool(node.get("merged")),
        "merged_at": node.get("mergedAt"),
        "files_changed": _count(node.get("changedFiles")),
        "additions": _count(node.get("additions")),
        "deletions": _count(node.get("deletions")),
        "repository_name": _text(full_name.lower(), 250),
        "repository_private": private,
    }


def commit_link(node: dict) -> dict:
    """A link row from a Commit node."""
    node = _object(node, "a commit")
    sha = node.get("oid")
    if not isinstance(sha, str) or not sha:
        raise GraphQLFailed("malformed GraphQL reply: a commit without its oid")
    sha = _text(sha, 40)
    full_name, private = _repository(node, "a commit")
    return {
        "kind": "referencing_commit",
        "ref": sha,
        "number": None,
        "sha": sha,
        "url": _text(node.get("url"), 500),
        "title": _text(node.get("messageHeadline")),
        "state": "",
        "merged": None,
        "merged_at": node.get("committedDate"),
        "files_changed": _count(node.get("changedFilesIfAvailable")),
        "additions": _count(node.get("additions")),
        "deletions": _count(node.get("deletions")),
        "repository_name": _text(full_name.lower(), 250),
        "repository_private": private,
    }


def timeline_links(timeline: dict) -> tuple[list[dict], str | None]:
    """The links of one timeline page, and the cursor of the next page (None: last)."""
    timeline = _object(timeline, "timelineItems")
    info = _object(timeline.get("pageInfo"), "pageInfo")
    nodes = timeline.get("nodes")
    if not isinstance(nodes, list):
        raise GraphQLFailed("malformed GraphQL reply: timelineItems without nodes")
    links = []
    for node in nodes:
        node = _object(node, "a timeline item")
        if node.get("__typename") == "CrossReferencedEvent":
            source = _object(node.get("source"), "a cross-reference's source")
            if source.get("__typename") == "PullRequest":
                links.append(pull_link(source, "referencing_pr"))
        elif node.get("__typename") == "ReferencedEvent" and node.get("commit") is not None:
            links.append(commit_link(node["commit"]))
    more = info.get("hasNextPage") is True
    cursor = info.get("endCursor")
    if more and not isinstance(cursor, str):
        raise GraphQLFailed("malformed GraphQL reply: a next page without its cursor")
    return links, cursor if more else None


def issue_links(node: dict | None) -> tuple[list[dict], str | None]:
    """An issue alias's links (closing pull requests, then its timeline's first page) and
    its timeline's next cursor. None (an issue GitHub no longer finds): no links."""
    if node is None:
        return [], None
    node = _object(node, "an issue")
    closing = _object(node.get("closedByPullRequestsReferences"), "closing references")
    if not isinstance(closing.get("nodes"), list):
        raise GraphQLFailed("malformed GraphQL reply: closing references without nodes")
    links = [pull_link(pull, "closing_pr") for pull in closing["nodes"]]
    more, cursor = timeline_links(node.get("timelineItems"))
    return links + more, cursor


def unique_links(links: list[dict]) -> list[dict]:
    """One row per (kind, ref); a pull request that closes the issue is not listed again as
    merely referencing it (its timeline cross-references it too)."""
    closing = {link["ref"] for link in links if link["kind"] == "closing_pr"}
    seen, rows = set(), []
    for link in links:
        key = (link["kind"], link["ref"])
        if key in seen or (link["kind"] == "referencing_pr" and link["ref"] in closing):
            continue
        seen.add(key)
        rows.append(link)
    return rows
