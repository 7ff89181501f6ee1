"""The real path: a Celery worker process on Redis runs the crawl; killed with SIGKILL in
the middle, restarted, it resumes to exactly the emulator's data."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from annotate.projects.services import create_project
from mining import jobs
from mining.models import Comment, Issue, MiningJob

from .helpers import assert_same_data

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parents[2]


def _start_worker(token: str, log: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "GITHUB_TOKEN": token,
        "LOG_LEVEL": "DEBUG",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
    command += ["-n", "mining-test@%h", "--without-gossip", "--without-mingle", "-l", "INFO"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _wait_for(condition, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_worker_killed_mid_crawl_resumes_to_the_same_data(transactional_db, emulator, tmp_path):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # this suite's own Redis database
    emulator.add_repository("deepseek-ai", "DeepSeek-V3", issues=900, comments=1300)
    emulator.inject("slow", seconds=0.12, times=100_000)  # slow enough to kill mid-crawl
    project = create_project(name="Worker", slug="worker", preset=False)
    repo = jobs.add_repository(project=project, full_name="deepseek-ai/DeepSeek-V3")
    log = tmp_path / "worker.log"
    worker = _start_worker(emulator.token, log)
    try:
        job = jobs.start_mining_job(project=project, repositories=[repo], api_url=emulator.url)
        assert _wait_for(lambda: MiningJob.objects.get(pk=job.pk).pages >= 4), log.read_text()
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        job.refresh_from_db()
        assert job.status == MiningJob.Status.RUNNING
        stored = Issue.objects.filter(repository=repo).count()
        assert 0 < stored < 900

        worker = _start_worker(emulator.token, log)
        assert _wait_for(
            lambda: MiningJob.objects.get(pk=job.pk).status == MiningJob.Status.DONE, 120
        ), log.read_text()
    finally:
        _stop(worker)

    assert_same_data(emulator, repo)
    assert Issue.objects.filter(repository=repo).count() == 900
    assert Comment.objects.filter(issue__repository=repo).count() == 1300
    task = job.tasks.get()
    assert task.attempts == 2 and task.status == MiningJob.Status.DONE
    assert emulator.token not in log.read_text()
