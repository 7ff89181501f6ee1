"""Imports over the API and the upload page run as Celery jobs (issue #12): the request
answers at once with the job, the worker imports all or nothing, the job records progress,
counts or the error naming file, record and field, and the uploaded files are deleted when
it ends. One import per project at a time: duplicates sent at once start one job."""

import json
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotate.models import FinalRecordLabel, ImportJob, Item
from dataset import import_jobs
from dataset.tasks import run_import_task

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "olf"
QWEN = FIXTURES / "QwenLM" / "Qwen 2.5 " / "Qwen2dot5.json"
RECORD = {
    "link": "https://github.com/QwenLM/Qwen/issues/5",
    "status": "closed",
    "SYMPTOM": "Crash - CUDA Error - Out of Memory",
    "ROOT CAUSE": "Hardware and Resource Limitations - GPU Memory Insufficiency",
    "STAGE": "Inference",
}


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post_api(api_for, user, project, *files, **fields):
    url = reverse("api-import", args=[project.slug])
    return api_for(user).post(url, {"files": list(files), **fields}, format="multipart")


def stored_files(import_upload_dir):
    return sorted(p for p in Path(import_upload_dir).rglob("*") if p.is_file())


def test_api_import_queues_a_job_the_worker_task_completes(
    project, cast, api_for, import_upload_dir
):
    response = post_api(api_for, cast["owner"], project, upload("q.json", QWEN.read_bytes()))
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "queued" and job["files"] == [
        {"name": "q.json", "size": QWEN.stat().st_size}
    ]
    assert not Item.objects.exists()
    assert len(stored_files(import_upload_dir)) == 1

    run_import_task(job_id=job["id"])

    done = api_for(cast["owner"]).get(job["url"]).json()
    assert done["status"] == "succeeded" and done["progress"] == 1.0
    assert done["result"]["records"] == 4 and done["result"]["issues"] == 3
    assert done["result"]["changed"] and done["error"] == ""
    assert (
        FinalRecordLabel.objects.filter(item__project=project)
        .values("item", "record")
        .distinct()
        .count()
        == 4
    )  # noqa: E501
    assert stored_files(import_upload_dir) == []
    # Redelivered: the job is not queued any more, nothing runs twice.
    run_import_task(job_id=job["id"])
    assert ImportJob.objects.get(pk=job["id"]).status == "succeeded"


def test_a_failed_job_names_file_record_and_field_and_writes_nothing(
    project, cast, api_for, import_upload_dir
):
    good = upload("good.json", json.dumps([RECORD]).encode())
    bad = upload(
        "bad.json", json.dumps([RECORD, {**RECORD, "SYMPTOM": "Crash - Meltdown"}]).encode()
    )  # noqa: E501
    job = post_api(api_for, cast["owner"], project, good, bad).json()
    run_import_task(job_id=job["id"])
    done = api_for(cast["owner"]).get(job["url"]).json()
    assert done["status"] == "failed" and done["result"] is None
    assert done["error"].startswith(
        "Nothing imported. bad.json, record 2, field 'SYMPTOM': unknown category 'Crash - Meltdown'"
    )
    assert not Item.objects.exists()
    assert stored_files(import_upload_dir) == []


def test_bad_options_are_refused_at_once_and_store_nothing(
    project, cast, api_for, import_upload_dir
):
    file = upload("q.json", QWEN.read_bytes())
    response = post_api(api_for, cast["owner"], project, file, labels="annotator:nobody")
    assert response.status_code == 400
    assert "'nobody' is not a member" in response.json()["fields"]["files"][0]
    assert not ImportJob.objects.exists() and stored_files(import_upload_dir) == []


def test_a_second_import_while_one_is_queued_answers_409(project, cast, api_for):
    first = post_api(api_for, cast["owner"], project, upload("q.json", QWEN.read_bytes()))
    assert first.status_code == 202
    second = post_api(api_for, cast["owner"], project, upload("q.json", QWEN.read_bytes()))
    assert second.status_code == 409
    assert "Another import of this project is queued or running" in second.json()["detail"]
    run_import_task(job_id=first.json()["id"])
    third = post_api(api_for, cast["owner"], project, upload("q.json", QWEN.read_bytes()))
    assert third.status_code == 202


@pytest.mark.django_db(transaction=True)
def test_the_same_import_sent_at_once_starts_one_job(cast_committed, import_upload_dir):
    project, owner = cast_committed
    token = Token.objects.create(user=owner).key
    url = reverse("api-import", args=[project.slug])
    data = QWEN.read_bytes()
    statuses = []
    barrier = threading.Barrier(6)

    def send():
        barrier.wait()
        response = Client().post(
            url, {"files": [upload("q.json", data)]}, HTTP_AUTHORIZATION=f"Token {token}"
        )
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202] + [409] * 5
    assert ImportJob.objects.count() == 1
    assert len(stored_files(import_upload_dir)) == 1


@pytest.fixture
def cast_committed(transactional_db):
    from annotate.projects import services
    from tests.factories import UserFactory

    owner = UserFactory(username="owner")
    project = services.create_project(name="Jobs", slug="jobs", owner=owner)
    return project, owner


@pytest.mark.parametrize(("who", "code"), [("lead", 403), ("annotator_a", 403), ("outsider", 404)])
def test_jobs_are_for_the_projects_owners(project, cast, api_for, client_for, who, code):
    job = post_api(api_for, cast["owner"], project, upload("q.json", QWEN.read_bytes())).json()
    assert api_for(cast[who]).get(job["url"]).status_code == code
    page = reverse("dataset-import-job", args=[project.slug, job["id"]])
    assert client_for(cast[who]).get(page).status_code == code


def test_another_projects_job_is_not_found(project, cast, api_for):
    from annotate.projects import services

    other = services.create_project(name="Other", slug="other", owner=cast["owner"])
    job = post_api(api_for, cast["owner"], other, upload("q.json", QWEN.read_bytes())).json()
    url = reverse("api-import-job", args=[project.slug, job["id"]])
    assert api_for(cast["owner"]).get(url).status_code == 404


def test_upload_page_redirects_to_the_job_page_that_shows_progress_then_the_result(
    project, cast, client_for
):
    owner = client_for(cast["owner"])
    url = reverse("dataset-import", args=[project.slug])
    response = owner.post(
        url, {"files": [upload("q.json", QWEN.read_bytes())], "format": "olf", "labels": "final"}
    )  # noqa: E501
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("dataset-import-job", args=[project.slug, job.pk])
    page = owner.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'aria-valuenow="0"' in page
    assert import_jobs.claim_import_job(job_id=job.pk)
    from django.core.cache import cache

    cache.set(import_jobs.progress_key(job.pk), 0.42)
    partial = owner.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'aria-valuenow="42"' in partial and "<html" not in partial
    import_jobs.run_import_job(job_id=job.pk)
    done = owner.get(response["Location"]).content.decode()
    assert "4 records on 3 issues" in done and "hx-trigger" not in done
    listing = owner.get(url).content.decode()
    # Listed among recent imports, in the page, not in its <title> (where it once landed).
    title = listing.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "q.json" not in title
    assert "Recent imports" in listing.split("<body", 1)[1] and "q.json" in listing


def test_upload_page_shows_a_failed_jobs_error(project, cast, client_for):
    owner = client_for(cast["owner"])
    url = reverse("dataset-import", args=[project.slug])
    bad = json.dumps([{**RECORD, "SYMPTOM": "Crash - Meltdown"}]).encode()
    response = owner.post(
        url, {"files": [upload("q.json", bad)], "format": "olf", "labels": "final"}
    )  # noqa: E501
    job = ImportJob.objects.get()
    run_import_task(job_id=job.pk)
    page = owner.get(response["Location"]).content.decode()
    assert "Failed: nothing was imported" in page
    assert "q.json, record 1, field &#x27;SYMPTOM&#x27;: unknown category" in page
    assert not Item.objects.exists()


def test_a_job_whose_worker_died_can_be_taken_over(project, cast, api_for):
    from datetime import timedelta

    from django.utils import timezone

    job = post_api(api_for, cast["owner"], project, upload("q.json", QWEN.read_bytes())).json()
    assert import_jobs.claim_import_job(job_id=job["id"])
    assert not import_jobs.claim_import_job(job_id=job["id"])
    ImportJob.objects.filter(pk=job["id"]).update(
        started_at=timezone.now() - import_jobs.STALE_AFTER - timedelta(seconds=1)
    )
    run_import_task(job_id=job["id"])
    assert ImportJob.objects.get(pk=job["id"]).status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_the_same_import_run_at_once_writes_once_without_integrity_errors(cast_committed):
    """The command line (and any caller of import_dataset) has no job to refuse duplicates:
    imports into one project take turns; before, they raced to an IntegrityError."""
    from dataset.importing import Source, import_dataset

    project, owner = cast_committed
    data = QWEN.read_bytes()
    outcomes = []
    barrier = threading.Barrier(4)

    def run():
        barrier.wait()
        try:
            result = import_dataset(project=project, sources=[Source("q.json", data)])
            outcomes.append(result.changed)
        except Exception as error:  # noqa: BLE001 - the test reports whatever happened
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [False, False, False, True]
    assert Item.objects.filter(project=project).count() == 3


def test_a_job_no_worker_took_expires_when_the_next_import_starts(project, cast, api_for):
    from datetime import timedelta

    from django.utils import timezone

    first = post_api(api_for, cast["owner"], project, upload("q.json", QWEN.read_bytes())).json()
    ImportJob.objects.filter(pk=first["id"]).update(
        created_at=timezone.now() - import_jobs.STALE_AFTER - timedelta(seconds=1)
    )
    second = post_api(api_for, cast["owner"], project, upload("q.json", QWEN.read_bytes()))
    assert second.status_code == 202
    expired = ImportJob.objects.get(pk=first["id"])
    assert expired.status == "failed" and "no worker finished this job" in expired.error
    run_import_task(job_id=first["id"])  # its message arrives late: nothing runs
    assert ImportJob.objects.get(pk=first["id"]).status == "failed"
    assert not Item.objects.exists()


def test_upload_page_says_an_import_is_running_with_409(project, cast, client_for):
    owner = client_for(cast["owner"])
    url = reverse("dataset-import", args=[project.slug])
    form = {"format": "olf", "labels": "final"}
    first = owner.post(url, {"files": [upload("q.json", QWEN.read_bytes())], **form})
    assert first.status_code == 302
    second = owner.post(url, {"files": [upload("q.json", QWEN.read_bytes())], **form})
    assert second.status_code == 409
    assert "Another import of this project is queued or running" in second.content.decode()
    assert ImportJob.objects.count() == 1
