"""A project mines with its own GitHub token (stored encrypted, write-only) or, where staff
allow it, with the server's; otherwise an owner cannot start a job. The token never shows
in replies, pages, job records, errors or logs."""

import io
import logging

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotate.models import Project
from annotate.projects import services as annotate_services
from mining import jobs
from mining.models import MiningJob, MiningTask

from .helpers import assert_same_data


@pytest.fixture
def repo(project, emulator):
    emulator.add_repository("QwenLM", "Qwen", issues=12, comments=6)
    return jobs.add_repository(project=project, full_name="QwenLM/Qwen")


@pytest.fixture
def server_token(settings, emulator):
    """The server's token is the emulator's: a job that mines works only with it, unless
    the project's own token is also the emulator's."""
    settings.GITHUB_TOKEN = emulator.token
    settings.GITHUB_API_URL = emulator.url
    return emulator.token


def jobs_url(project):
    return reverse("api-mining-jobs", kwargs={"slug": project.slug})


def test_owner_cannot_start_a_job_without_a_token_the_project_may_use(
    cast, project, repo, server_token, api_for, client_for
):
    api = api_for(cast["owner"])
    refused = api.post(jobs_url(project), {"kind": "crawl", "repositories": [repo.pk]}, "json")
    assert refused.status_code == 400
    assert "no GitHub token of its own" in str(refused.json())
    page = client_for(cast["owner"]).post(
        reverse("mining-jobs", kwargs={"slug": project.slug}),
        {"kind": "crawl", "repositories": [repo.pk]},
    )
    assert page.status_code == 400 and "no GitHub token of its own" in page.content.decode()
    assert not MiningJob.objects.exists()


def test_staff_allow_the_server_token_for_a_project(
    cast, project, repo, emulator, server_token, api_for, django_capture_on_commit_callbacks
):
    Project.objects.filter(pk=project.pk).update(may_use_server_token=True)
    with django_capture_on_commit_callbacks(execute=False):
        started = api_for(cast["owner"]).post(
            jobs_url(project), {"kind": "crawl", "repositories": [repo.pk]}, "json"
        )
    assert started.status_code == 201
    job = MiningJob.objects.get()
    task = job.tasks.get()
    jobs.claim_task(task_id=task.pk, worker="test")
    jobs.run_task(task_id=task.pk)
    assert jobs.finish_job_if_done(job_id=job.pk).status == MiningJob.Status.DONE
    assert_same_data(emulator, repo)


def test_a_job_mines_with_the_projects_own_token(
    cast, project, repo, emulator, settings, api_for, django_capture_on_commit_callbacks
):
    settings.GITHUB_TOKEN = "ghp_server_token_the_emulator_refuses"
    settings.GITHUB_API_URL = emulator.url
    put = api_for(cast["owner"]).put(
        reverse("api-github-token", kwargs={"slug": project.slug}),
        {"token": emulator.token},
        format="json",
    )
    assert put.status_code == 200 and put.json() == {"github_token_set": True}
    with django_capture_on_commit_callbacks(execute=False):
        started = api_for(cast["owner"]).post(
            jobs_url(project), {"kind": "crawl", "repositories": [repo.pk]}, "json"
        )
    assert started.status_code == 201
    task = MiningJob.objects.get().tasks.get()
    jobs.claim_task(task_id=task.pk, worker="test")
    jobs.run_task(task_id=task.pk)
    task.refresh_from_db()
    assert task.status == MiningJob.Status.DONE, task.error
    assert_same_data(emulator, repo)


def test_a_job_fails_clearly_when_staff_withdraw_the_server_token(
    cast, project, repo, server_token
):
    Project.objects.filter(pk=project.pk).update(may_use_server_token=True)
    project.refresh_from_db()
    job = jobs.start_mining_job(
        project=project, repositories=[repo], user=cast["owner"], dispatch=False
    )
    Project.objects.filter(pk=project.pk).update(may_use_server_token=False)
    task = job.tasks.get()
    jobs.claim_task(task_id=task.pk, worker="test")
    jobs.run_task(task_id=task.pk)
    task.refresh_from_db()
    assert task.status == MiningJob.Status.FAILED
    assert "no GitHub token of its own" in task.error
    assert not repo.issues.exists()


def test_the_mine_command_runs_as_an_admin_with_the_server_token(project, emulator, server_token):
    emulator.add_repository("deepseek-ai", "DeepSeek-V3", issues=5, comments=2)
    out = io.StringIO()
    call_command(
        "mine", "deepseek-ai/DeepSeek-V3", "--project", project.slug, "--api-url",
        emulator.url, stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    assert "5 issues" in out.getvalue()
    assert not Project.objects.get(pk=project.pk).may_use_server_token


def test_the_token_is_write_only_and_never_shown_or_logged(
    cast, project, emulator, settings, api_for, client_for, caplog
):
    caplog.set_level(logging.DEBUG)
    settings.GITHUB_TOKEN = ""
    settings.GITHUB_API_URL = emulator.url
    secret = "ghp_" + "s3cr3t" * 6
    annotate_services.set_github_token(project=project, token=secret)
    stored = Project.objects.get(pk=project.pk)
    assert secret not in stored.github_token_sealed and stored.github_token() == secret
    # A job that fails (404) with the project's token: its records and messages.
    missing = jobs.add_repository(project=project, full_name="nobody/missing")
    job = jobs.start_mining_job(
        project=project, repositories=[missing], user=cast["owner"], dispatch=False
    )
    jobs.run_job_sync(job=job)
    job.refresh_from_db()
    assert job.status == MiningJob.Status.FAILED and job.errors
    owner, api = client_for(cast["owner"]), api_for(cast["owner"])
    slug = {"slug": project.slug}
    bodies = [
        owner.get(reverse("project-settings", kwargs=slug)).content.decode(),
        owner.get(reverse("mining-job", kwargs={**slug, "job_id": job.pk})).content.decode(),
        str(api.get(reverse("api-project", kwargs=slug)).json()),
        str(api.get(reverse("api-mining-job", kwargs={**slug, "job_id": job.pk})).json()),
        str(api.put(reverse("api-github-token", kwargs=slug), {"token": secret}, "json").json()),
    ]
    assert all(secret not in body for body in bodies)
    assert "own token (set; never shown)" in bodies[0]
    assert "'github_token_set': True" in bodies[2]
    assert secret not in caplog.text
    assert all(secret not in str(v) for v in MiningTask.objects.values_list())
    assert all(secret not in str(v) for v in MiningJob.objects.values_list())


def test_owners_replace_and_clear_the_token_others_cannot(cast, project, api_for, client_for):
    url = reverse("api-github-token", kwargs={"slug": project.slug})
    assert api_for(cast["lead"]).put(url, {"token": "ghp_x"}, "json").status_code == 403
    assert api_for(cast["outsider"]).put(url, {"token": "ghp_x"}, "json").status_code == 404
    owner = api_for(cast["owner"])
    for hostile in ("", "ghp with spaces", "ghp_\n_newline", "ghp_é", "x" * 256):
        response = owner.put(url, {"token": hostile}, "json")
        assert response.status_code == 400, hostile
    assert not Project.objects.get(pk=project.pk).has_github_token
    assert owner.put(url, {"token": "ghp_first"}, "json").status_code == 200
    assert owner.put(url, {"token": "ghp_second"}, "json").status_code == 200
    assert Project.objects.get(pk=project.pk).github_token() == "ghp_second"
    assert owner.delete(url).json() == {"github_token_set": False}
    assert not Project.objects.get(pk=project.pk).has_github_token
    # The page: save, then clear; the staff-only flag cannot be set by an owner.
    page = client_for(cast["owner"])
    settings_url = reverse("project-settings", kwargs={"slug": project.slug})
    page.post(settings_url, {"save_token": "1", "token": "ghp_page"})
    assert Project.objects.get(pk=project.pk).github_token() == "ghp_page"
    page.post(settings_url, {"save_token": "1", "clear": "on"})
    assert not Project.objects.get(pk=project.pk).has_github_token
    page.post(
        settings_url,
        {
            "save_settings": "1",
            "name": "Renamed",
            "overlap": "2",
            "assignment_timeout_minutes": "60",
            "may_use_server_token": "on",
        },
    )
    assert not Project.objects.get(pk=project.pk).may_use_server_token
