"""A real Celery worker crawling the emulator through faults: killed with SIGKILL at random
moments three times, and its Redis (a private redis-server, never the shared one) killed
and restarted mid-crawl. Each time the crawl ends with exactly the emulator's data.

The long versions are in bench/bench_faults.py."""

import random
import signal
import time

import pytest
import redis
from django.conf import settings

from annotate.projects.services import create_project
from config.celery import app
from mining import jobs
from mining.models import Issue, MiningJob
from mining.tasks import run_mining_task

from .conftest import database_url
from .data import emulator_figures, stored_figures
from .support import free_port, start_redis, start_worker, stop, wait_for

pytestmark = pytest.mark.worker


def _job_state(job):
    return MiningJob.objects.values_list("status", "pages").get(pk=job.pk)


def _crawl_setup(emulator, slug, issues, comments):
    emulator.add_repository("deepseek-ai", slug, issues=issues, comments=comments)
    emulator.inject("slow", seconds=0.1, times=100_000)  # slow enough to be caught mid-crawl
    project = create_project(name=slug, slug=slug.lower(), preset=False)
    repo = jobs.add_repository(project=project, full_name=f"deepseek-ai/{slug}")
    return project, repo


def test_worker_killed_three_times_at_random_moments_ends_with_the_emulators_data(
    transactional_db, emulator, tmp_path
):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # this suite's own Redis database
    project, repo = _crawl_setup(emulator, "Kills", issues=1500, comments=1500)
    log = tmp_path / "worker.log"
    rng = random.Random()
    seed = rng.randrange(10**6)
    rng.seed(seed)
    url = database_url()

    def worker():
        return start_worker(
            database_url=url,
            redis_url=settings.REDIS_URL,
            token=emulator.token,
            log=log,
            name="reliability-kills",
        )

    process = worker()
    try:
        job = jobs.start_mining_job(project=project, repositories=[repo], api_url=emulator.url)
        for _ in range(3):
            # A few pages into this life (it resumes where the last one stopped), then
            # anywhere: in a request, in a page's transaction, between pages.
            target = _job_state(job)[1] + rng.randint(1, 4)
            reached = wait_for(lambda t=target: _job_state(job)[1] >= t, timeout=90)
            assert reached, (seed, log.read_text()[-3000:])
            time.sleep(rng.uniform(0, 0.2))
            process.send_signal(signal.SIGKILL)
            process.wait()
            assert _job_state(job)[0] == MiningJob.Status.RUNNING, seed
            process = worker()
        done = wait_for(lambda: _job_state(job)[0] == MiningJob.Status.DONE, timeout=120)
        assert done, (seed, log.read_text()[-3000:])
    finally:
        stop(process)

    figures = stored_figures(repo)
    expected = emulator_figures(emulator.repo("deepseek-ai", "Kills"))
    assert {k: figures[k] for k in expected} == expected, seed
    assert figures["duplicate_issue_ids"] == figures["duplicate_comment_ids"] == 0
    assert figures["duplicate_numbers"] == figures["placeholders"] == 0
    task = job.tasks.get()
    assert task.attempts == 4 and task.status == MiningJob.Status.DONE
    assert emulator.token not in log.read_text()


def test_redis_restarted_mid_crawl_the_crawl_finishes_with_complete_data(
    transactional_db, emulator, tmp_path
):
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis_log, worker_log = tmp_path / "redis.log", tmp_path / "worker.log"
    project, repo = _crawl_setup(emulator, "Outage", issues=1000, comments=1200)
    server = start_redis(port, redis_log)
    process = start_worker(
        database_url=database_url(),
        redis_url=redis_url,
        token=emulator.token,
        log=worker_log,
        name="reliability-redis",
    )
    try:
        job = jobs.start_mining_job(
            project=project, repositories=[repo], api_url=emulator.url, dispatch=False
        )
        with app.connection_for_write(redis_url) as connection:
            run_mining_task.apply_async(
                kwargs={"task_id": job.tasks.get().pk}, connection=connection
            )
        assert wait_for(lambda: _job_state(job)[1] >= 4, timeout=90), worker_log.read_text()
        server.send_signal(signal.SIGKILL)
        server.wait()
        time.sleep(1.0)  # the worker meets a dead Redis: the budget and the broker are gone
        server = start_redis(port, redis_log)
        done = wait_for(lambda: _job_state(job)[0] == MiningJob.Status.DONE, timeout=120)
        assert done, worker_log.read_text()[-4000:]
        # The same worker, reconnected by itself, takes the next job.
        emulator.edit_issue("deepseek-ai", "Outage", 3, title="Edited after the outage")
        again = jobs.start_mining_job(
            project=project, repositories=[repo], api_url=emulator.url, dispatch=False
        )
        with app.connection_for_write(redis_url) as connection:
            run_mining_task.apply_async(
                kwargs={"task_id": again.tasks.get().pk}, connection=connection
            )
        assert wait_for(lambda: _job_state(again)[0] == MiningJob.Status.DONE, timeout=60)
        assert process.poll() is None, worker_log.read_text()[-4000:]
    finally:
        stop(process)
        stop(server)

    figures = stored_figures(repo)
    expected = emulator_figures(emulator.repo("deepseek-ai", "Outage"))
    assert {k: figures[k] for k in expected} == expected
    assert figures["duplicate_issue_ids"] == figures["duplicate_comment_ids"] == 0
    assert Issue.objects.get(repository=repo, number=3).title == "Edited after the outage"
