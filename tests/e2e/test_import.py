"""An owner uploads a file on the import page in Chromium: the job page shows the queued
import with its progress bar, and when a real Celery worker (started after the upload)
has run it, htmx swaps in the result without a reload; then a bad file's error."""

import json

import pytest
import redis
from django.conf import settings

from annotate.models import ImportJob, Item
from tests.annotate.test_import_worker import QWEN, _start_worker

pytestmark = pytest.mark.worker


def test_owner_watches_an_import_job_finish_then_fail(
    page, live_server, login, project, cast, tmp_path, import_upload_dir
):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # this suite's own Redis database
    login(page, "owner")
    page.goto(f"{live_server.url}/projects/{project.slug}/import/")
    page.set_input_files("input[name=files]", str(QWEN))
    page.click("button[type=submit]")
    job = ImportJob.objects.get()
    page.wait_for_url(f"**/projects/{project.slug}/imports/{job.pk}/")
    assert page.locator("#import-job .badge").inner_text() == "queued"
    assert page.locator("#import-job [role=progressbar]").get_attribute("aria-valuenow") == "0"

    log = tmp_path / "worker.log"
    worker = _start_worker(log, import_upload_dir)
    try:
        page.wait_for_selector("#import-result", timeout=60_000)  # swapped in by htmx polling
        assert page.locator("#import-result").inner_text() == "Imported"
        assert "4 records on 3 issues" in page.locator("#import-job").inner_text()
        assert page.locator("#import-job [role=progressbar]").count() == 0
        assert Item.objects.filter(project=project).count() == 3

        bad = tmp_path / "bad.json"
        record = json.loads(QWEN.read_text())[0]
        bad.write_text(json.dumps([{**record, "SYMPTOM": "Crash - Meltdown"}]))
        page.goto(f"{live_server.url}/projects/{project.slug}/import/")
        page.set_input_files("input[name=files]", str(bad))
        page.click("button[type=submit]")
        page.wait_for_selector("#import-error", timeout=60_000)
        error = page.locator("#import-error").inner_text()
        assert "bad.json, record 1, field 'SYMPTOM': unknown category 'Crash - Meltdown'" in error
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert page.dialogs == []
