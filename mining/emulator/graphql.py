"""The emulator's GraphQL side: POST /graphql answering the two queries the miner sends
(mining/fixes_query.py: `FixBatch`, one alias per issue, and `FixTimeline`, a long
timeline's next page), from the world's fix links. The query is parsed only as far as
those need: the operation's name, its aliases and their variables, the page sizes
(`first:`) and the cursor (`after:`). Every pull request and commit names its repository
and whether it is private (`repository { nameWithOwner isPrivate }`). Anything else is
answered as GitHub answers a query it cannot run: 200 with `errors`. Cost in points as
GitHub documents it: the requests needed to fill every connection, divided by 100, at
least 1. Django-free."""

from __future__ import annotations

import base64
import json
import math
import re

from .world import Repo, iso

OPERATION = re.compile(r"^\s*query\s+(\w+)\s*\(")
ALIAS = re.compile(r"(\w+):\s*issue\(number:\s*\$(\w+)\)")
FIRST = {
    "timeline": re.compile(r"timelineItems\(first:\s*(\d+)"),
    "closing": re.compile(r"closedByPullRequestsReferences\(first:\s*(\d+)"),
}


class QueryError(Exception):
    """A query the emulator (like GitHub) cannot run: answered 200 with `errors`."""


def _first(query: str, which: str) -> int:
    found = FIRST[which].search(query)
    if not found or not 1 <= int(found.group(1)) <= 100:
        raise QueryError(f"{which}: `first` must be between 1 and 100")
    return int(found.group(1))


def _privacy(repos: dict):
    """full name -> isPrivate: a link's own `private` when it says, else the world's
    repository of that name (public when the world holds none)."""

    def private(full_name: str, link: dict) -> bool:
        if "private" in link:
            return bool(link["private"])
        repo = repos.get(tuple(full_name.lower().split("/", 1)))
        return bool(repo.private) if repo is not None else False

    return private


def _pull(pull: dict, private) -> dict:
    full_name = pull["repository"]
    return {
        "__typename": "PullRequest",
        "number": pull["number"],
        "url": f"https://github.com/{full_name}/pull/{pull['number']}",
        "title": pull["title"],
        "state": pull["state"],
        "merged": pull["state"] == "MERGED",
        "mergedAt": iso(pull["merged_at"]),
        "changedFiles": pull["changed_files"],
        "additions": pull["additions"],
        "deletions": pull["deletions"],
        "repository": {"nameWithOwner": full_name, "isPrivate": private(full_name, pull)},
    }


def _event(repo: Repo, event: dict, private) -> dict:
    if event["type"] == "pull":
        return {"__typename": "CrossReferencedEvent", "source": _pull(event["pull"], private)}
    full_name = event.get("repository", repo.full_name)  # a commit may live elsewhere
    commit = {
        "oid": event["oid"],
        "url": f"https://github.com/{full_name}/commit/{event['oid']}",
        "messageHeadline": event["headline"],
        "additions": event["additions"],
        "deletions": event["deletions"],
        "changedFilesIfAvailable": event["changed_files"],
        "committedDate": iso(event["date"]),
        "repository": {"nameWithOwner": full_name, "isPrivate": private(full_name, event)},
    }
    return {"__typename": "ReferencedEvent", "commit": commit}


def _cursor(position: int) -> str:
    return base64.b64encode(f"cursor:v2:{position}".encode()).decode()


def _position(cursor) -> int:
    try:
        text = base64.b64decode(str(cursor), validate=True).decode()
        if not text.startswith("cursor:v2:"):
            raise ValueError
        return int(text.rsplit(":", 1)[1])
    except (ValueError, UnicodeDecodeError):
        raise QueryError(f"`{cursor}` does not appear to be a valid cursor.") from None


def _timeline(repo: Repo, number: int, first: int, private, after: int = 0) -> dict:
    events = repo.fixes.get(number, {}).get("timeline", [])
    page = events[after : after + first]
    more = after + first < len(events)
    return {
        "pageInfo": {"hasNextPage": more, "endCursor": _cursor(after + len(page))},
        "nodes": [_event(repo, event, private) for event in page],
    }


def _int_variable(variables: dict, name: str) -> int:
    value = variables.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise QueryError(f"Variable ${name} of type Int! was provided invalid value")
    return value


def answer(repos: dict, body: bytes) -> tuple[dict, int]:
    """The reply payload for one POST body, and the points it costs."""
    try:
        request = json.loads(body or b"{}")
        query, variables = request["query"], request.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return {"message": "Problems parsing JSON"}, 0
    try:
        operation = OPERATION.match(query)
        name = operation.group(1) if operation else ""
        owner, repo_name = variables.get("owner"), variables.get("name")
        repo = repos.get((str(owner).lower(), str(repo_name).lower()))
        private = _privacy(repos)
        if name == "FixBatch":
            data, errors, connections = _batch(repo, query, variables, private)
        elif name == "FixTimeline":
            data, errors, connections = _follow_up(repo, query, variables, private)
        else:
            raise QueryError("The emulator serves the miner's FixBatch and FixTimeline only.")
    except QueryError as error:
        return {"errors": [{"message": str(error)}]}, 1
    cost = max(1, math.ceil(connections / 100))
    reply = {"data": {"rateLimit": None, **data}}
    if errors:
        reply["errors"] = errors
    return reply, cost


def _not_found(repo_name, path: list) -> dict:
    message = f"Could not resolve to a Repository with the name '{repo_name}'."
    return {"type": "NOT_FOUND", "path": path, "message": message}


def _batch(repo: Repo | None, query: str, variables: dict, private):
    aliases = ALIAS.findall(query)
    if not aliases:
        raise QueryError("FixBatch without an issue alias")
    timeline_first, closing_first = _first(query, "timeline"), _first(query, "closing")
    if repo is None:
        return {"repository": None}, [_not_found(variables.get("name"), ["repository"])], 1
    node, errors = {}, []
    for alias, variable in aliases:
        number = _int_variable(variables, variable)
        issue = repo.issues.get(number)
        if issue is None or "pull_request" in issue:
            node[alias] = None
            message = f"Could not resolve to an Issue with the number of {number}."
            errors.append({"type": "NOT_FOUND", "path": ["repository", alias], "message": message})
            continue
        closing = repo.fixes.get(number, {}).get("closing", [])[:closing_first]
        node[alias] = {
            "number": number,
            "closedByPullRequestsReferences": {"nodes": [_pull(p, private) for p in closing]},
            "timelineItems": _timeline(repo, number, timeline_first, private),
        }
    return {"repository": node}, errors, 1 + 2 * len(aliases)


def _follow_up(repo: Repo | None, query: str, variables: dict, private):
    first = _first(query, "timeline")
    number = _int_variable(variables, "number")
    after = _position(variables.get("after"))
    if repo is None:
        return {"repository": None}, [_not_found(variables.get("name"), ["repository"])], 1
    if number not in repo.issues:
        return {"repository": {"issue": None}}, [_not_found(number, ["repository", "issue"])], 2
    issue = {"timelineItems": _timeline(repo, number, first, private, after)}
    return {"repository": {"issue": issue}}, [], 2
