import pytest
from django.urls import reverse

from mining import jobs
from mining.models import MiningJob

CAST = ["owner", "lead", "annotator_a", "outsider", None]
READ = {"owner": 200, "lead": 200, "annotator_a": 403, "outsider": 404, None: 401}
WRITE = {"owner": 201, "lead": 403, "annotator_a": 403, "outsider": 404, None: 401}


@pytest.fixture
def job(project):
    repo = jobs.add_repository(project=project, full_name="QwenLM/Qwen", group="Qwen")
    return jobs.start_mining_job(project=project, repositories=[repo], dispatch=False)


@pytest.mark.parametrize("who", CAST)
def test_repositories_and_jobs_api_for_the_whole_cast(who, cast, project, job, api_for):
    api = api_for(cast[who] if who else None)
    slug = project.slug
    for name, kwargs in [
        ("api-mining-repositories", {}),
        ("api-mining-jobs", {}),
        ("api-mining-job", {"job_id": job.pk}),
    ]:
        assert api.get(reverse(name, kwargs={"slug": slug, **kwargs})).status_code == READ[who]
    created = api.post(
        reverse("api-mining-repositories", kwargs={"slug": slug}),
        {"full_name": "meta-llama/llama3", "group": "Llama", "metadata": {"model": "llama3"}},
        format="json",
    )
    assert created.status_code == WRITE[who]
    cancel = api.post(reverse("api-mining-job-cancel", kwargs={"slug": slug, "job_id": job.pk}))
    assert cancel.status_code == {**WRITE, "owner": 200}[who]


def test_owner_creates_starts_watches_and_cancels_a_job(
    cast, project, api_for, django_capture_on_commit_callbacks
):
    project.may_use_server_token = True  # staff allow it (admin); see test_project_token.py
    project.save(update_fields=["may_use_server_token"])
    api = api_for(cast["owner"])
    repo = api.post(
        reverse("api-mining-repositories", kwargs={"slug": project.slug}),
        {"full_name": "QwenLM/Qwen2.5", "group": "Qwen", "metadata": {"architecture": "Mixed"}},
        format="json",
    ).json()
    assert repo["full_name"] == "QwenLM/Qwen2.5" and repo["metadata"] == {"architecture": "Mixed"}

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = api.post(
            reverse("api-mining-jobs", kwargs={"slug": project.slug}),
            {"kind": "crawl", "repositories": [repo["id"]]},
            format="json",
        )
    assert created.status_code == 201 and len(callbacks) == 1
    body = created.json()
    assert body["status"] == "queued" and body["repositories"] == ["QwenLM/Qwen2.5"]
    assert "token" not in str(body).lower()

    detail = reverse("api-mining-job", kwargs={"slug": project.slug, "job_id": body["id"]})
    assert api.get(detail).json()["progress"] == 0.0
    cancelled = api.post(
        reverse("api-mining-job-cancel", kwargs={"slug": project.slug, "job_id": body["id"]})
    )
    assert cancelled.json()["cancel_requested"] is True
    assert MiningJob.objects.get(pk=body["id"]).status == MiningJob.Status.CANCELLED

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        restarted = api.post(
            reverse("api-mining-job-start", kwargs={"slug": project.slug, "job_id": body["id"]})
        )
    assert restarted.json()["status"] == "queued" and len(callbacks) == 1


def test_job_api_rejects_foreign_repositories_and_bad_links(cast, project, api_for):
    other = jobs.add_repository(
        project=jobs.Project.objects.create(name="Other", slug="other"),
        full_name="someone/else",
    )
    api = api_for(cast["owner"])
    url = reverse("api-mining-jobs", kwargs={"slug": project.slug})
    assert api.post(url, {"repositories": [other.pk]}, format="json").status_code == 400
    bad = api.post(url, {"kind": "single", "links": ["not a link"]}, format="json")
    assert bad.status_code == 400 and "not a GitHub issue link" in str(bad.json())
    assert api.post(url, {"kind": "crawl"}, format="json").status_code == 400
