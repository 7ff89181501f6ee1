"""GitHub's REST objects at full size (issue #16): the issue, pull-request, comment, user,
label and reactions objects the emulator serves carry every field GitHub's REST API
documents for them ("Issues", "Issue comments"; API version 2022-11-28), so the miner
parses and stores objects as large as the real ones. Ids and colours are derived from the
names, so a world serves the same bytes every time."""

from __future__ import annotations

import base64
import hashlib

from .world import iso

WEB = "https://github.com"


def _number(text: str, digits: int = 8) -> int:
    """A stable positive id for `text` (a login, a label name)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:digits], 16) + 1


def _node_id(prefix: str, number: int) -> str:
    return base64.b64encode(f"{prefix}_{number}".encode()).decode()


def user_object(api: str, login: str, *, kind: str = "User") -> dict:
    """A "simple user" as GitHub embeds it in issues and comments."""
    user_id = _number(login)
    url = f"{api}/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": _node_id("U", user_id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{WEB}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def label_object(repo_api: str, name: str) -> dict:
    label_id = _number(f"label:{name}", 9)
    return {
        "id": label_id,
        "node_id": _node_id("LA", label_id),
        "url": f"{repo_api}/labels/{name.replace(' ', '%20')}",
        "name": name,
        "color": hashlib.sha256(name.encode()).hexdigest()[:6],
        "default": name in {"bug", "enhancement", "question", "documentation"},
        "description": "",
    }


def reactions_object(url: str) -> dict:
    return {
        "url": f"{url}/reactions",
        "total_count": 0,
        "+1": 0,
        "-1": 0,
        "laugh": 0,
        "hooray": 0,
        "confused": 0,
        "heart": 0,
        "rocket": 0,
        "eyes": 0,
    }


def issue_object(api: str, full_name: str, issue: dict) -> dict:
    """An issue (or a pull request, as the issues endpoints list it) at full size, as the
    lists serve it: without `closed_by`, which only a single issue's GET carries."""
    repo_api = f"{api}/repos/{full_name}"
    number = issue["number"]
    url = f"{repo_api}/issues/{number}"
    pull = "pull_request" in issue
    data = {
        "url": url,
        "repository_url": repo_api,
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{WEB}/{full_name}/{'pull' if pull else 'issues'}/{number}",
        "id": issue["id"],
        "node_id": _node_id("PR" if pull else "I", issue["id"]),
        "number": number,
        "title": issue["title"],
        "user": user_object(api, issue["user"]["login"]),
        "labels": [label_object(repo_api, label["name"]) for label in issue["labels"]],
        "state": issue["state"],
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": issue["comments"],
        "created_at": iso(issue["created_at"]),
        "updated_at": iso(issue["updated_at"]),
        "closed_at": iso(issue["closed_at"]),
        "author_association": "NONE",
        "type": None,
        "active_lock_reason": None,
        "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
        "body": issue["body"],
        "reactions": reactions_object(url),
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None,
        "state_reason": issue.get("state_reason"),
    }
    if pull:
        pull_url = f"{repo_api}/pulls/{number}"
        html = issue["pull_request"]["url"]
        data["draft"] = False
        data["pull_request"] = {
            "url": pull_url,
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "merged_at": None,
        }
    return data


def comment_object(api: str, full_name: str, comment: dict) -> dict:
    """An issue comment at full size."""
    repo_api = f"{api}/repos/{full_name}"
    number = comment["issue_number"]
    url = f"{repo_api}/issues/comments/{comment['id']}"
    return {
        "url": url,
        "html_url": f"{WEB}/{full_name}/issues/{number}#issuecomment-{comment['id']}",
        "issue_url": f"{repo_api}/issues/{number}",
        "id": comment["id"],
        "node_id": _node_id("IC", comment["id"]),
        "user": user_object(api, comment["user"]["login"]),
        "created_at": iso(comment["created_at"]),
        "updated_at": iso(comment["updated_at"]),
        "author_association": "NONE",
        "body": comment["body"],
        "reactions": reactions_object(url),
        "performed_via_github_app": None,
    }
