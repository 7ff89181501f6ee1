"""The counts a crawl reports (the job's, and so `manage.py mine`'s last line) equal what
it stored: a row updated in the same second as the last row of the page before is new too
(issue #15, defect 10: "3999 comments" where 4,000 were stored)."""

import pytest

from mining import jobs
from mining.models import Comment, Issue

from .helpers import assert_same_data, crawl


def _tie_across_page_boundary(emulator, owner, name, kind):
    """Give the first row of the list's second page the updated_at of the first page's
    last row: two rows in one second, on either side of a page boundary."""
    repo = emulator.repo(owner, name)
    with emulator.lock:
        ordered = repo.ordered(kind)
        last_of_first, first_of_second = ordered[99][2], ordered[100][2]
        first_of_second["updated_at"] = last_of_first["updated_at"]
        if kind == "comments":  # the issue's own updated_at stays its latest comment's
            issue = repo.issues[first_of_second["issue_number"]]
            issue["updated_at"] = max(issue["updated_at"], first_of_second["updated_at"])
        repo.invalidate()


@pytest.fixture
def repository(project, emulator):
    emulator.add_repository("QwenLM", "Qwen2.5", issues=250, comments=430)
    return jobs.add_repository(project=project, full_name="QwenLM/Qwen2.5", group="Qwen")


@pytest.mark.parametrize("kind", ["comments", "issues"])
def test_rows_sharing_a_second_across_a_page_boundary_are_all_counted(
    project, repository, emulator, token, kind
):
    _tie_across_page_boundary(emulator, "QwenLM", "Qwen2.5", kind)

    job = crawl(project, [repository], emulator)

    assert_same_data(emulator, repository)
    assert job.issues == Issue.objects.filter(repository=repository).count() == 250
    assert job.comments == Comment.objects.filter(issue__repository=repository).count() == 430


def test_a_resync_counts_exactly_the_changed_rows(project, repository, emulator, token):
    crawl(project, [repository], emulator)
    emulator.edit_issue("QwenLM", "Qwen2.5", 3, title="New title")
    emulator.edit_issue("QwenLM", "Qwen2.5", 4, state="open")
    emulator.add_comment("QwenLM", "Qwen2.5", 5, "A late comment.")

    job = crawl(project, [repository], emulator)

    # Issues 3, 4 and 5 (a new comment bumps its issue); the rows at the old watermark,
    # which `since=` lists again, were stored before and are not counted.
    assert (job.issues, job.comments) == (3, 1)
