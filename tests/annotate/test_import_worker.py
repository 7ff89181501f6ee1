"""The real path of an import job: the API queues it on commit, a Celery worker process on
Redis claims it, imports all or nothing and deletes the uploaded files; a failing job
writes nothing and names the record."""

import json
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
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotate.models import FinalRecordLabel, ImportJob, Item
from annotate.projects import services
from tests.factories import UserFactory

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parents[2]
QWEN = ROOT / "tests" / "fixtures" / "olf" / "QwenLM" / "Qwen 2.5 " / "Qwen2dot5.json"


def _start_worker(log: Path, upload_dir: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "IMPORT_UPLOAD_DIR": str(upload_dir),
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
    command += ["-n", "import-test@%h", "--without-gossip", "--without-mingle", "-l", "INFO"]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _wait_done(job_id: int, log: Path, timeout=90.0) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.done:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish:\n{log.read_text()[-3000:]}")


def test_a_worker_runs_import_jobs_end_to_end(transactional_db, tmp_path, import_upload_dir):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # this suite's own Redis database
    owner = UserFactory(username="owner")
    project = services.create_project(name="Worker import", slug="worker-import", owner=owner)
    token = Token.objects.create(user=owner).key
    client = Client()
    url = reverse("api-import", args=[project.slug])
    log = tmp_path / "worker.log"
    worker = _start_worker(log, import_upload_dir)
    try:
        with QWEN.open("rb") as file:
            response = client.post(url, {"files": [file]}, HTTP_AUTHORIZATION=f"Token {token}")
        assert response.status_code == 202, response.content
        job = _wait_done(response.json()["id"], log)
        assert job.status == "succeeded", job.error
        assert job.result["records"] == 4 and job.started_at and job.finished_at
        assert FinalRecordLabel.objects.filter(item__project=project).count() == 12

        bad = tmp_path / "bad.json"
        record = json.loads(QWEN.read_text())[0]
        bad.write_text(json.dumps([{**record, "link": record["link"][:-1] + "9"},
                                   {**record, "status": "merged"}]))  # fmt: skip
        with bad.open("rb") as file:
            response = client.post(url, {"files": [file]}, HTTP_AUTHORIZATION=f"Token {token}")
        job = _wait_done(response.json()["id"], log)
        assert job.status == "failed"
        assert "bad.json, record 2, field 'status': 'merged' is not one of" in job.error
        assert Item.objects.filter(project=project).count() == 3  # nothing from bad.json
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    assert list(Path(import_upload_dir).rglob("*.*")) == []
    assert not [p for p in Path(import_upload_dir).rglob("*") if p.is_file()]
