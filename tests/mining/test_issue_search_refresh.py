"""Search documents are built once per issue when a crawl task ends (mining migration
0006), not once per page of comments that touches the issue: the triggers only note the
issue, and the refresh builds what was noted. A search refreshes first, so it never
misses what is stored, whichever path stored it."""

import pytest
from django.db import connection

from mining import jobs
from mining.models import Issue, IssueSearch
from mining.storage import refresh_issue_search

from .helpers import crawl


def _pending() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT issue_id FROM mining_issuesearch_pending ORDER BY 1")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def repository(project, emulator):
    emulator.add_repository("QwenLM", "Qwen2.5", issues=150, comments=420)
    return jobs.add_repository(project=project, full_name="QwenLM/Qwen2.5", group="Qwen")


def test_a_crawl_leaves_every_issue_searchable_and_nothing_pending(
    project, repository, emulator, token
):
    crawl(project, [repository], emulator)
    stored = set(Issue.objects.filter(repository=repository).values_list("pk", flat=True))
    assert len(stored) == 150
    assert set(IssueSearch.objects.values_list("issue_id", flat=True)) == stored
    assert _pending() == []


def test_each_noted_issue_is_built_once_however_many_comments_noted_it(
    project, repository, emulator, token
):
    crawl(project, [repository], emulator)
    issue = Issue.objects.filter(repository=repository).first()
    with connection.cursor() as cursor:  # three statements touching one issue's comments
        for _ in range(3):
            cursor.execute(
                "UPDATE mining_comment SET body = body || ' zebraword' WHERE issue_id = %s",
                [issue.pk],
            )
    if not issue.comments.exists():
        Issue.objects.filter(pk=issue.pk).update(title="zebraword title")
    assert _pending() == [issue.pk]
    assert not IssueSearch.objects.filter(pk=issue.pk, document="zebraword").exists()
    assert refresh_issue_search() == 1
    assert _pending() == []
    assert IssueSearch.objects.filter(pk=issue.pk, document="zebraword").exists()
    assert refresh_issue_search() == 0  # nothing left to build
