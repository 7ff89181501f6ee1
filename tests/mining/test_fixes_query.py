"""The fix-link queries and the parsing of their replies (mining/fixes_query.py), without a
database: every reply in another shape than asked is a GraphQLFailed naming what is wrong."""

import pytest

from mining.client import GraphQLFailed
from mining.fixes_query import BATCH, batch_query, issue_links, unique_links

PULL = {
    "number": 7,
    "url": "https://github.com/o/r/pull/7",
    "title": "Fix <b>it</b>",
    "state": "MERGED",
    "merged": True,
    "mergedAt": "2024-01-02T00:00:00Z",
    "changedFiles": 2,
    "additions": 5,
    "deletions": 1,
    "repository": {"nameWithOwner": "o/r", "isPrivate": False},
}


def issue(closing=(), events=(), more=False):
    return {
        "number": 1,
        "closedByPullRequestsReferences": {"nodes": list(closing)},
        "timelineItems": {
            "pageInfo": {"hasNextPage": more, "endCursor": "Y3Vyc29y" if more else None},
            "nodes": list(events),
        },
    }


def test_a_batch_declares_one_variable_and_alias_per_issue():
    query, variables = batch_query([4, 8, 15])
    assert variables == {"n0": 4, "n1": 8, "n2": 15}
    assert "$n2: Int!" in query and "i2: issue(number: $n2)" in query
    assert "rateLimit { cost remaining resetAt }" in query
    with pytest.raises(ValueError, match="1 to 100"):
        batch_query(list(range(BATCH + 1)))


def test_links_of_an_issue_closing_first_then_its_timeline():
    cross = {"__typename": "CrossReferencedEvent", "source": {"__typename": "PullRequest", **PULL}}
    other = {"__typename": "CrossReferencedEvent", "source": {"__typename": "Issue"}}
    commit = {
        "__typename": "ReferencedEvent",
        "commit": {"oid": "a" * 40, "url": "u", "messageHeadline": "m", "additions": 1,
                   "deletions": 0, "changedFilesIfAvailable": None, "committedDate": None,
                   "repository": {"nameWithOwner": "o/r", "isPrivate": True}},
    }  # fmt: skip
    links, cursor = issue_links(issue([PULL], [cross, other, commit], more=True))
    assert cursor == "Y3Vyc29y"
    assert [(x["kind"], x["ref"]) for x in links] == [
        ("closing_pr", "o/r#7"),
        ("referencing_pr", "o/r#7"),
        ("referencing_commit", "a" * 40),
    ]
    rows = unique_links(links)  # the closing pull request is not listed again as referencing
    assert [x["kind"] for x in rows] == ["closing_pr", "referencing_commit"]
    assert rows[0]["title"] == "Fix <b>it</b>" and rows[1]["files_changed"] is None
    assert [(x["repository_name"], x["repository_private"]) for x in rows] == [
        ("o/r", False),
        ("o/r", True),
    ]
    assert issue_links(None) == ([], None)  # an issue GitHub no longer finds


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ("text", "an issue is not an object"),
        ({"closedByPullRequestsReferences": {}}, "closing references without nodes"),
        (issue([{**PULL, "number": "7"}]), "a pull request without its number"),
        ({**issue(), "timelineItems": {"pageInfo": {}, "nodes": None}}, "without nodes"),
        ({**issue(), "timelineItems": {"pageInfo": {"hasNextPage": True}, "nodes": []}},
         "a next page without its cursor"),
        (issue(events=[{"__typename": "ReferencedEvent", "commit": {"oid": ""}}]),
         "a commit without its oid"),
    ],
)  # fmt: skip
def test_a_reply_in_another_shape_is_a_clear_error(node, message):
    with pytest.raises(GraphQLFailed, match=message):
        issue_links(node)
