import pytest

from mining import crawl as mining_crawl
from mining import jobs
from mining.models import MiningJob, MiningTask

from .helpers import assert_same_data, crawl


@pytest.fixture
def repository(project, emulator):
    emulator.add_repository("meta-llama", "llama3", issues=230, comments=260)
    return jobs.add_repository(project=project, full_name="meta-llama/llama3")


FAULTS = [
    ("secondary", {"seconds": 1}, "secondary rate limit (403): wait 1.0s"),
    ("429", {"seconds": 1}, "secondary rate limit (429): wait 1.0s"),
    ("primary", {"seconds": 1}, "primary rate limit (403)"),
    ("502", {"times": 2}, "server error 502 (attempt 2)"),
    ("slow", {"seconds": 1.6}, "timeout"),
    ("truncated", {}, "cut or invalid JSON"),
]


@pytest.mark.parametrize("kind,options,logged", FAULTS, ids=[f[0] for f in FAULTS])
def test_each_injected_fault_is_survived_with_complete_data(
    kind, options, logged, project, repository, emulator, client_factory, no_sleep
):
    # Hit the second page of the issues list and the first of the comments list.
    emulator.inject(kind, path_contains="/issues?", after=1, **options)
    emulator.inject(kind, path_contains="/issues/comments", **options)

    job = crawl(project, [repository], emulator)

    assert job.status == MiningJob.Status.DONE, job.errors
    assert_same_data(emulator, repository)
    assert sum(logged in line for line in job.log) >= 2, job.log
    # The faulty replies were retried; nothing else was re-fetched. 1: the repository
    # itself (its `private` flag), fetched once.
    failed = [path for path, status in emulator.log if status != 200]
    retried = len(failed) + (2 if kind in ("slow", "truncated") else 0)
    assert emulator.requests <= 1 + 3 + 3 + 2 + retried


def test_secondary_limit_without_retry_after_waits_sixty_seconds_by_requeueing(
    project, repository, emulator, token
):
    emulator.inject("secondary", retry_after=False)
    job = jobs.start_mining_job(
        project=project, repositories=[repository], api_url=emulator.url, dispatch=False
    )
    task = job.tasks.get()
    assert jobs.claim_task(task_id=task.pk, worker="test")

    with pytest.raises(mining_crawl.MustWait) as wait:
        jobs.run_task(task_id=task.pk)

    assert wait.value.seconds == 60
    task.refresh_from_db()
    job.refresh_from_db()
    assert task.status == MiningJob.Status.WAITING and task.not_before is not None
    assert job.status == MiningJob.Status.WAITING
    # When the countdown is over, the re-queued task claims the work again and finishes.
    assert jobs.claim_task(task_id=task.pk, worker="test")
    jobs.run_task(task_id=task.pk)
    assert MiningTask.objects.get(pk=task.pk).status == MiningJob.Status.DONE
    assert_same_data(emulator, repository)


def test_long_primary_limit_requeues_instead_of_sleeping(project, repository, emulator, token):
    emulator.inject("primary", seconds=600)
    job = jobs.start_mining_job(
        project=project, repositories=[repository], api_url=emulator.url, dispatch=False
    )
    task = job.tasks.get()
    jobs.claim_task(task_id=task.pk, worker="test")

    with pytest.raises(mining_crawl.MustWait) as wait:
        jobs.run_task(task_id=task.pk)

    assert 590 < wait.value.seconds <= 602
    job.refresh_from_db()
    assert job.rate_limit_remaining == 0 and job.rate_limit_reset is not None


def test_shared_budget_makes_a_second_worker_wait_for_the_reset(
    project, repository, emulator, token, client_factory
):
    """Two clients with one token share the Redis budget: once one has seen the quota
    run out, the other waits for the reset without spending a request."""
    emulator.inject("primary", seconds=600)
    first, second = client_factory(), client_factory()
    with pytest.raises(mining_crawl.MustWait):
        mining_crawl.fetch(first, "/repos/meta-llama/llama3")
    before = emulator.requests

    with pytest.raises(mining_crawl.MustWait) as wait:
        mining_crawl.fetch(second, "/repos/meta-llama/llama3")

    assert emulator.requests == before
    assert wait.value.seconds > 500


def test_unknown_repository_and_bad_token_fail_the_job_with_a_clear_message(
    project, emulator, token, settings
):
    missing = jobs.add_repository(project=project, full_name="nobody/nothing")
    job = crawl(project, [missing], emulator)
    assert job.status == MiningJob.Status.FAILED
    assert job.errors == [f"Repository nobody/nothing was not found at {emulator.url} (404)."]

    emulator.add_repository("QwenLM", "Qwen", issues=3)
    settings.GITHUB_TOKEN = "ghp_wrong"
    repo = jobs.add_repository(project=project, full_name="QwenLM/Qwen")
    job = crawl(project, [repo], emulator)
    assert job.status == MiningJob.Status.FAILED
    assert "401 Bad credentials" in job.errors[0]
