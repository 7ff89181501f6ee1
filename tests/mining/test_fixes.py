"""Issue-to-fix links mined through GraphQL, against the emulator over real HTTP: batching,
long timelines, faults, incremental re-sync."""

import math

import pytest
from django.core.management import call_command

from mining import client as gh
from mining import jobs
from mining.crawl import MustWait
from mining.fixes import issues_to_sync
from mining.models import FixLink, Issue, MiningJob

OWNER, NAME = "meta-llama", "llama3"


def crawl_with_fixes(project, repository, emulator):
    job = jobs.start_mining_job(
        project=project, repositories=[repository], api_url=emulator.url, dispatch=False, fixes=True
    )
    return jobs.run_job_sync(job=job)


def expected_links(emulator, number) -> set[tuple[str, str]]:
    """(kind, ref) of an emulated issue's links, computed from the world directly."""
    fixes = emulator.repo(OWNER, NAME).fixes.get(number, {"closing": [], "timeline": []})
    closing = {f"{p['repository']}#{p['number']}" for p in fixes["closing"]}
    links = {("closing_pr", ref) for ref in closing}
    for event in fixes["timeline"]:
        if event["type"] == "commit":
            links.add(("referencing_commit", event["oid"]))
        elif f"{event['pull']['repository']}#{event['pull']['number']}" not in closing:
            links.add(
                ("referencing_pr", f"{event['pull']['repository']}#{event['pull']['number']}")
            )
    return links


def stored_links(repository, number) -> set[tuple[str, str]]:
    rows = FixLink.objects.filter(issue__repository=repository, issue__number=number)
    return set(rows.values_list("kind", "ref"))


def plain_issues(emulator) -> list[int]:
    return [n for n, i in emulator.repo(OWNER, NAME).issues.items() if "pull_request" not in i]


@pytest.fixture
def repository(project, emulator):
    emulator.add_repository(OWNER, NAME, issues=240, comments=50)
    return jobs.add_repository(project=project, full_name=f"{OWNER}/{NAME}")


def test_links_of_n_issues_take_one_query_per_hundred(project, repository, emulator, token):
    job = crawl_with_fixes(project, repository, emulator)

    assert job.status == MiningJob.Status.DONE, job.errors
    issues = plain_issues(emulator)
    assert emulator.graphql_queries == math.ceil(len(issues) / 100) == job.graphql_queries
    assert job.graphql_points > 0
    assert any("graphql: 1 query, cost" in line for line in job.log), job.log
    for number in issues:
        assert stored_links(repository, number) == expected_links(emulator, number), number
    # Fields as served: a merged closing pull request with its diff size.
    closing = FixLink.objects.filter(issue__repository=repository, kind="closing_pr").first()
    assert closing.merged is True and closing.merged_at is not None
    assert closing.additions is not None and closing.files_changed >= 1
    assert closing.url.startswith("https://github.com/")
    assert FixLink.objects.filter(kind="referencing_commit").exclude(sha="").exists()


def test_a_long_timeline_is_paged_with_follow_up_queries_for_that_issue_only(
    project, repository, emulator, token
):
    emulator.link_fix(OWNER, NAME, 3, kind="referencing", count=230)
    emulator.link_fix(OWNER, NAME, 5, kind="commit", count=120)

    crawl_with_fixes(project, repository, emulator)

    # Batches, plus ⌈timeline/100⌉ - 1 follow-ups for issue 3 (2) and issue 5 (1 or 2).
    timeline = {n: len(emulator.repo(OWNER, NAME).fixes[n]["timeline"]) for n in (3, 5)}
    follow_ups = sum(math.ceil(t / 100) - 1 for t in timeline.values())
    assert emulator.graphql_queries == math.ceil(len(plain_issues(emulator)) / 100) + follow_ups
    assert stored_links(repository, 3) == expected_links(emulator, 3)
    assert len(stored_links(repository, 3)) >= 230
    assert stored_links(repository, 5) == expected_links(emulator, 5)


def test_an_unchanged_resync_sends_no_query_and_a_changed_issue_one(
    project, repository, emulator, token
):
    crawl_with_fixes(project, repository, emulator)
    emulator.reset_counters()

    again = crawl_with_fixes(project, repository, emulator)
    assert again.status == MiningJob.Status.DONE
    assert emulator.graphql_queries == 0 and again.graphql_queries == 0

    emulator.link_fix(OWNER, NAME, 8, kind="closing", title="Fix the loader")
    emulator.link_fix(OWNER, NAME, 9, kind="commit")
    emulator.reset_counters()
    crawl_with_fixes(project, repository, emulator)

    assert emulator.graphql_queries == 1  # the two changed issues, in one batch
    new = FixLink.objects.get(issue__repository=repository, issue__number=8, title="Fix the loader")
    assert new.kind == "closing_pr" and new.merged
    assert stored_links(repository, 8) == expected_links(emulator, 8)
    assert stored_links(repository, 9) == expected_links(emulator, 9)
    assert not issues_to_sync(repository).exists()


FAULTS = [
    ("502", {"times": 2}, "server error 502 (attempt 2)"),
    ("secondary", {"seconds": 1}, "secondary rate limit (403): wait 1.0s"),
    ("primary", {"seconds": 1}, "GraphQL rate limit: wait"),
    ("truncated", {}, "cut or invalid JSON"),
]


@pytest.mark.parametrize("kind,options,logged", FAULTS, ids=[f[0] for f in FAULTS])
def test_graphql_faults_are_survived_with_complete_links(
    kind, options, logged, project, repository, emulator, token, no_sleep
):
    emulator.inject(kind, path_contains="/graphql", after=1, **options)

    job = crawl_with_fixes(project, repository, emulator)

    assert job.status == MiningJob.Status.DONE, job.errors
    assert any(logged in line for line in job.log), job.log
    for number in plain_issues(emulator):
        assert stored_links(repository, number) == expected_links(emulator, number)


def test_a_malformed_reply_fails_clearly_and_leaves_nothing_of_its_batch(
    project, repository, emulator, token
):
    emulator.inject("malformed", path_contains="/graphql", after=1)

    job = crawl_with_fixes(project, repository, emulator)

    assert job.status == MiningJob.Status.FAILED
    assert "malformed GraphQL reply" in " ".join(job.errors), job.errors
    issues = plain_issues(emulator)
    synced = Issue.objects.filter(repository=repository, fixes_synced_at__isnull=False)
    assert synced.count() == 100  # the first batch, stored whole; the second not at all
    second = issues[100:200]
    assert not FixLink.objects.filter(issue__repository=repository, issue__number__in=second)
    # Resumed: only the batches not stored are asked for.
    emulator.reset_counters()
    job = crawl_with_fixes(project, repository, emulator)
    assert job.status == MiningJob.Status.DONE
    assert emulator.graphql_queries == math.ceil(len(issues) / 100) - 1
    for number in issues:
        assert stored_links(repository, number) == expected_links(emulator, number)


def test_a_long_rate_limit_wait_requeues_the_task(project, repository, emulator, token):
    emulator.inject("primary", path_contains="/graphql", seconds=600)
    job = jobs.start_mining_job(
        project=project, repositories=[repository], api_url=emulator.url, dispatch=False, fixes=True
    )
    task = job.tasks.get()
    assert jobs.claim_task(task_id=task.pk, worker="test")

    with pytest.raises(MustWait):
        jobs.run_task(task_id=task.pk)
    task.refresh_from_db()
    assert task.status == MiningJob.Status.WAITING
    assert not FixLink.objects.exists()


def test_a_crawl_without_the_option_sends_no_graphql(project, repository, emulator, token):
    job = jobs.start_mining_job(
        project=project, repositories=[repository], api_url=emulator.url, dispatch=False
    )
    jobs.run_job_sync(job=job)
    assert emulator.graphql_queries == 0 and not FixLink.objects.exists()


def test_the_mine_command_fetches_fix_links_with_its_option(project, emulator, token, capsys):
    emulator.add_repository("QwenLM", "Qwen", issues=30, comments=0)

    call_command("mine", "QwenLM/Qwen", "--project", project.slug, "--fixes", verbosity=1)

    assert "Fix links: 1 GraphQL queries" in capsys.readouterr().out
    assert FixLink.objects.filter(issue__repository__name="Qwen").exists()


def test_a_query_the_emulator_cannot_run_is_a_clear_graphql_error(emulator, client_factory):
    client = client_factory()
    with pytest.raises(gh.GraphQLFailed, match="FixBatch and FixTimeline only"):
        client.graphql("query Other { viewer { login } }", {})


def test_a_resync_keeps_the_rows_of_links_still_there(project, repository, emulator, token):
    """An annotator's evidence span on a fix title names the link's row (`fix-<id>`): a
    re-sync of the issue (any update on GitHub) keeps the rows of links GitHub still lists,
    updated in place, adds the new ones and deletes only the links gone."""
    emulator.link_fix(OWNER, NAME, 8, kind="commit")
    crawl_with_fixes(project, repository, emulator)
    before = dict(
        FixLink.objects.filter(issue__repository=repository, issue__number=8).values_list(
            "ref", "pk"
        )
    )
    assert before

    emulator.link_fix(OWNER, NAME, 8, kind="closing", title="Fix the loader")
    crawl_with_fixes(project, repository, emulator)

    after = dict(
        FixLink.objects.filter(issue__repository=repository, issue__number=8).values_list(
            "ref", "pk"
        )
    )
    assert {ref: after[ref] for ref in before} == before
    assert len(after) == len(before) + 1
    assert stored_links(repository, 8) == expected_links(emulator, 8)
