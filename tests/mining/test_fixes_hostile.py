"""Hostile values in fix links, served by the emulator over real HTTP: counts beyond
GraphQL's 32-bit Int, pull request numbers no column holds, NUL characters in titles. Each
is stored as unknown or fails the crawl with a clear message, never a database error
(red-team review of issue #20)."""

import pytest

from mining import jobs
from mining.crawl import Tracker
from mining.fixes import sync_fix_links
from mining.models import FixLink, Issue, MiningJob

OWNER, NAME = "meta-llama", "llama3"


@pytest.fixture
def repository(project, emulator):
    emulator.add_repository(OWNER, NAME, issues=30, comments=0)
    return jobs.add_repository(project=project, full_name=f"{OWNER}/{NAME}")


def crawl(project, repository, emulator):
    job = jobs.start_mining_job(
        project=project, repositories=[repository], api_url=emulator.url, dispatch=False, fixes=True
    )
    return jobs.run_job_sync(job=job)


@pytest.mark.parametrize(
    "fields,column",
    [
        ({"additions": 10**12}, "additions"),
        ({"deletions": 2**31}, "deletions"),
        ({"changed_files": 2**40}, "files_changed"),
        ({"additions": True}, "additions"),
    ],
    ids=["additions", "deletions", "files", "boolean"],
)
def test_a_count_no_32_bit_int_holds_is_stored_as_unknown(
    fields, column, project, repository, emulator, token
):
    emulator.link_fix(OWNER, NAME, 3, kind="closing", title="Huge", **fields)

    job = crawl(project, repository, emulator)

    assert job.status == MiningJob.Status.DONE, job.errors
    link = FixLink.objects.get(issue__repository=repository, issue__number=3, title="Huge")
    assert getattr(link, column) is None


def test_a_title_with_nul_characters_is_stored_without_them(project, repository, emulator, token):
    emulator.link_fix(OWNER, NAME, 3, kind="closing", title="Fix\x00 the\x00 loader")
    emulator.link_fix(OWNER, NAME, 4, kind="commit", headline="Commit\x00 message")

    job = crawl(project, repository, emulator)

    assert job.status == MiningJob.Status.DONE, job.errors
    assert FixLink.objects.filter(issue__number=3, title="Fix the loader").exists()
    assert FixLink.objects.filter(issue__number=4, title="Commit message").exists()


def test_a_pull_request_number_out_of_range_fails_clearly_and_stores_nothing(
    project, repository, emulator, token
):
    emulator.link_fix(OWNER, NAME, 3, kind="closing")
    emulator.repo(OWNER, NAME).fixes[3]["closing"][-1]["number"] = 2**33

    job = crawl(project, repository, emulator)

    assert job.status == MiningJob.Status.FAILED
    assert "malformed GraphQL reply" in " ".join(job.errors), job.errors
    assert not FixLink.objects.filter(issue__repository=repository).exists()


def test_a_fault_in_a_follow_up_timeline_page_stores_nothing_of_its_batch_and_resumes(
    project, repository, emulator, token
):
    emulator.link_fix(OWNER, NAME, 3, kind="referencing", count=230)
    emulator.inject("malformed", path_contains="/graphql", after=1)  # the first follow-up

    job = crawl(project, repository, emulator)

    assert job.status == MiningJob.Status.FAILED
    assert "malformed GraphQL reply" in " ".join(job.errors), job.errors
    assert not FixLink.objects.filter(issue__repository=repository).exists()
    assert not repository.issues.filter(fixes_synced_at__isnull=False).exists()

    emulator.reset_counters()
    job = crawl(project, repository, emulator)
    assert job.status == MiningJob.Status.DONE, job.errors
    assert emulator.graphql_queries == 1 + 2  # the batch, then issue 3's two next pages
    stored = FixLink.objects.filter(issue__repository=repository, issue__number=3)
    assert stored.filter(kind="referencing_pr").count() >= 230


def test_an_issue_without_updated_at_is_marked_synced_once(
    project, repository, emulator, token, client_factory
):
    """GitHub's reply may lack an issue's updated_at (the column is nullable): its links,
    once stored, must count as fetched, and an unchanged re-sync must not ask again."""
    crawl(project, repository, emulator)
    Issue.objects.filter(repository=repository, number=3).update(
        updated_at=None, fixes_synced_at=None
    )
    client = client_factory()

    assert sync_fix_links(repository=repository, client=client, tracker=Tracker(client)) == 1
    issue = Issue.objects.get(repository=repository, number=3)
    assert issue.fixes_synced_at is not None
    before = client.graphql_queries
    assert sync_fix_links(repository=repository, client=client, tracker=Tracker(client)) == 0
    assert client.graphql_queries == before


@pytest.mark.parametrize(
    "kind,options", [("429", {"seconds": 1}), ("slow", {"seconds": 2})], ids=["429", "slow"]
)
def test_a_429_or_a_timeout_mid_crawl_is_survived_with_complete_links(
    kind, options, project, repository, emulator, token, no_sleep
):
    emulator.link_fix(OWNER, NAME, 3, kind="referencing", count=150)
    emulator.inject(kind, path_contains="/graphql", after=1, **options)  # the follow-up page

    job = crawl(project, repository, emulator)

    assert job.status == MiningJob.Status.DONE, job.errors
    stored = FixLink.objects.filter(issue__repository=repository, issue__number=3)
    assert stored.filter(kind="referencing_pr").count() >= 150
    assert not repository.issues.filter(is_pull_request=False, fixes_synced_at__isnull=True)
