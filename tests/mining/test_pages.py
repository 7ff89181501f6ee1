import pytest
from django.urls import reverse

from annotate.models import Item
from mining import jobs
from mining.access import project_repositories
from mining.models import MiningJob, MiningTask

from .helpers import crawl

CAST = ["owner", "lead", "annotator_a", "outsider", None]


@pytest.fixture
def mined(project, emulator, token):
    emulator.add_repository("QwenLM", "Qwen", issues=60, comments=40, pull_request_every=6)
    repo = jobs.add_repository(
        project=project, full_name="QwenLM/Qwen", group="Qwen", metadata={"model": "Qwen"}
    )
    job = crawl(project, [repo], emulator)
    return repo, job


def _expected(role, read=True):
    if role is None:
        return 302
    return {"owner": 200, "lead": 200 if read else 403, "annotator_a": 403, "outsider": 404}[role]


@pytest.mark.parametrize("who", CAST)
def test_pages_are_for_owners_and_visible_to_leads(who, cast, project, mined, client_for):
    repo, job = mined
    client = client_for(cast[who] if who else None)
    for name, kwargs in [
        ("mining-repositories", {}),
        ("mining-jobs", {}),
        ("mining-job", {"job_id": job.pk}),
        ("mining-pool", {}),
    ]:
        response = client.get(reverse(name, kwargs={"slug": project.slug, **kwargs}))
        assert response.status_code == _expected(who), (name, who)


@pytest.mark.parametrize("who", CAST)
def test_only_owners_add_repositories_and_cancel_jobs(who, cast, project, mined, client_for):
    repo, job = mined
    client = client_for(cast[who] if who else None)
    url = reverse("mining-repositories", kwargs={"slug": project.slug})
    response = client.post(url, {"full_name": "meta-llama/llama3", "group": "Llama"})
    assert response.status_code == (302 if who in ("owner", None) else _expected(who, False))
    assert project_repositories(project).filter(name="llama3").exists() == (who == "owner")
    cancel = reverse("mining-job-cancel", kwargs={"slug": project.slug, "job_id": job.pk})
    response = client.post(cancel)
    assert response.status_code == (302 if who in ("owner", None) else _expected(who, False))
    assert MiningJob.objects.get(pk=job.pk).cancel_requested == (who == "owner")


def test_owner_starts_a_job_from_the_page_and_watches_its_progress(
    cast, project, mined, client_for, django_capture_on_commit_callbacks
):
    repo, _ = mined
    project.may_use_server_token = True  # staff allow it (admin); see test_project_token.py
    project.save(update_fields=["may_use_server_token"])
    client = client_for(cast["owner"])
    url = reverse("mining-jobs", kwargs={"slug": project.slug})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, {"kind": "crawl", "repositories": [repo.pk]})
    job = MiningJob.objects.order_by("-pk").first()
    assert response.status_code == 302 and response["Location"].endswith(f"/jobs/{job.pk}/")
    assert len(callbacks) == 1  # one Celery task per repository, sent on commit
    assert job.status == MiningJob.Status.QUEUED and job.tasks.count() == 1

    page = client.get(response["Location"])
    assert b'hx-trigger="every 2s"' in page.content
    assert b"Cancel job" in page.content

    jobs.run_job_sync(job=job)
    partial = client.get(response["Location"], headers={"HX-Request": "true"})
    assert b"<h1>" not in partial.content  # just the progress fragment
    assert b'data-status="done"' in partial.content
    assert b"every 2s" not in partial.content  # polling stops when the job is over
    assert b'aria-valuenow="100"' in partial.content


def test_pool_page_counts_each_filter_then_builds_a_reproducible_sample(
    cast, project, mined, client_for
):
    repo, _ = mined
    client = client_for(cast["owner"])
    url = reverse("mining-pool", kwargs={"slug": project.slug})
    form = {"state": "closed", "min_comments": "1", "sample_size": "5", "seed": "7"}

    counted = client.post(url, {**form, "count": "1"})
    assert counted.status_code == 200
    funnel = dict(counted.context["funnel"])
    assert funnel["mined issues and pull requests"] == 60
    assert funnel["pull requests excluded"] == 50
    assert funnel["state closed"] <= 50 and funnel["at least 1 comments"] <= funnel["state closed"]
    assert not Item.objects.filter(project=project).exists()

    built = client.post(url, {**form, "commit": "1"})
    assert built.status_code == 302
    items = list(Item.objects.filter(project=project).order_by("position"))
    assert len(items) == 5
    assert all(i.metadata == {"model": "Qwen"} and i.snapshot_title == i.issue.title for i in items)
    project.refresh_from_db()
    assert project.sample_definition["seed"] == 7 and project.sample_definition["sample_size"] == 5

    lead = client_for(cast["lead"])
    assert lead.post(url, {**form, "commit": "1"}).status_code == 403


def test_token_never_appears_in_pages_api_or_logs(
    cast, project, emulator, token, client_for, api_for, caplog
):
    emulator.add_repository("QwenLM", "Qwen", issues=30, comments=10)
    repo = jobs.add_repository(project=project, full_name="QwenLM/Qwen")
    emulator.inject("502", times=2)
    emulator.inject("secondary", seconds=1)
    caplog.set_level("DEBUG")
    job = crawl(project, [repo], emulator)
    bad = jobs.add_repository(project=project, full_name="QwenLM/missing")
    failed = crawl(project, [bad], emulator)

    assert failed.errors
    owner, api = client_for(cast["owner"]), api_for(cast["owner"])
    bodies = [
        client.get(reverse(name, kwargs={"slug": project.slug, **kw})).content.decode()
        for client, name, kw in [
            (owner, "mining-job", {"job_id": job.pk}),
            (owner, "mining-job", {"job_id": failed.pk}),
            (owner, "mining-jobs", {}),
            (owner, "mining-repositories", {}),
            (api, "api-mining-jobs", {}),
            (api, "api-mining-repositories", {}),
        ]
    ]
    assert all(token not in body for body in bodies)
    assert any("was not found" in body for body in bodies)
    assert caplog.records and token not in caplog.text
    assert all(token not in str(value) for value in MiningTask.objects.values_list())
