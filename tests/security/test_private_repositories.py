"""A project reads a mined issue's text only when its repository is known public or the
project's own job fetched from it (mining.access.TextAccess). The first tests failed on the
code before the rule: they are the penetration test's live reproduction."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from annotate.models import ImportJob, Item
from annotate.projects import pool
from annotate.projects import services as project_services
from dataset.tasks import run_import_task
from mining import jobs as mining_jobs
from mining.models import GITHUB_SOURCE, Issue, MiningJob, ProjectRepository, Repository, source_of
from tests.factories import CommentFactory, IssueFactory, ItemFactory, UserFactory

SECRET = "Private: staging key leaked"
SECRET_BODY = "the staging key is hunter2"
SECRET_COMMENT = "rotate hunter2 now"


@pytest.fixture
def rival(db):
    """Another project, owned by someone who is no member of `project`."""
    owner = UserFactory(username="rival")
    project = project_services.create_project(name="Rival", slug="rival", owner=owner)
    return owner, project


@pytest.fixture
def secret_issue(project):
    """victim-org/secret-repo#1, mined by `project` with its own token. The repository's
    privacy is unknown (as for every row mined before the flag), so not known public."""
    repository = Repository.objects.create(
        source=GITHUB_SOURCE, owner="victim-org", name="secret-repo"
    )
    ProjectRepository.objects.create(
        project=project, repository=repository, mined=True, last_synced_at=timezone.now()
    )
    issue = IssueFactory(repository=repository, number=1, title=SECRET, body=SECRET_BODY)
    IssueFactory(repository=repository, number=2, title=SECRET, body=SECRET_BODY)
    CommentFactory(issue=issue, body=SECRET_COMMENT)
    return issue


def _import_link(api, slug, link):
    record = {
        "number": 1,
        "link": link,
        "status": "closed",
        "SYMPTOM": "Crash - CUDA Error - Out of Memory",
        "ROOT CAUSE": "Hardware and Resource Limitations - GPU Memory Insufficiency",
        "STAGE": "Inference",
        "model": "Qwen",
        "architecture": "Dense",
    }
    upload = SimpleUploadedFile("r.json", json.dumps([record]).encode(), "application/json")
    reply = api.post(
        reverse("api-import", args=[slug]), {"files": [upload], "format": "olf"}, format="multipart"
    )
    assert reply.status_code == 202, reply.content
    run_import_task(job_id=reply.json()["id"])
    return ImportJob.objects.get(pk=reply.json()["id"])


def _rival_reads(rival_owner, rival_project, api_for, client_for) -> str:
    """Everything the rival's owner reads about its items: issues API (list, detail,
    comments), items API, the labeling queue (API and page), and its item pages."""
    api, slug = api_for(rival_owner), rival_project.slug
    texts = []
    for name, args in [("api-issues", [slug]), ("api-items", [slug])]:
        reply = api.get(reverse(name, args=args))
        assert reply.status_code == 200
        texts.append(reply.content.decode())
    for issue in Issue.objects.filter(items__project=rival_project):
        for name in ("api-issue", "api-comments"):
            reply = api.get(reverse(name, args=[slug, issue.pk]))
            assert reply.status_code == 200
            texts.append(reply.content.decode())
    texts.append(api.post(reverse("api-queue-next", args=[slug])).content.decode())
    client = client_for(rival_owner)
    for item in Item.objects.filter(project=rival_project):
        for name in ("label-item", "item-history"):
            texts.append(client.get(reverse(name, args=[slug, item.pk])).content.decode())
    texts.append(client.get(reverse("label-next", args=[slug]), follow=True).content.decode())
    texts.append(client.get(reverse("label-mine", args=[slug])).content.decode())
    return "\n".join(texts)


def test_importing_a_link_into_another_projects_private_repository_shows_no_text(
    project, secret_issue, rival, api_for, client_for
):
    """The live reproduction: the rival's owner imports an olf file naming
    victim-org/secret-repo/issues/1, then reads its issues. The item exists (the importer
    named it), but no title, body or comment of the victim's mined row shows."""
    rival_owner, rival_project = rival
    job = _import_link(
        api_for(rival_owner),
        rival_project.slug,
        "https://github.com/victim-org/secret-repo/issues/1",
    )
    assert job.status == "succeeded", job.error
    item = Item.objects.get(project=rival_project)
    assert item.issue_id == secret_issue.pk  # the shared row, as before: nothing is copied

    seen = _rival_reads(rival_owner, rival_project, api_for, client_for)
    assert "victim-org/secret-repo" in seen  # what the importer named itself
    for text in (SECRET, SECRET_BODY, SECRET_COMMENT):
        assert text not in seen
    reply = api_for(rival_owner).get(reverse("api-issue", args=[rival_project.slug, item.issue_id]))
    assert reply.json()["title"] == "" and reply.json()["body"] == ""
    assert reply.json()["number"] == 1 and reply.json()["state"] == "closed"


def test_adding_another_projects_private_repository_shows_neither_text_nor_count(
    project, secret_issue, rival, api_for, client_for
):
    """Naming victim-org/secret-repo on the mining page (no job) opens nothing: not its
    issues (pool, issues API) and not even how many the victim stored (it showed 2)."""
    rival_owner, rival_project = rival
    reply = api_for(rival_owner).post(
        reverse("api-mining-repositories", args=[rival_project.slug]),
        {"full_name": "victim-org/secret-repo"},
    )
    assert reply.status_code == 201, reply.content
    page = client_for(rival_owner).get(reverse("mining-repositories", args=[rival_project.slug]))
    assert page.status_code == 200
    assert "victim-org/secret-repo" in page.content.decode()
    assert '<td class="num">2</td>' not in page.content.decode()
    assert pool.select_issue_ids(rival_project, pool.PoolDefinition()) == []
    assert SECRET not in _rival_reads(rival_owner, rival_project, api_for, client_for)
    # The victim, whose own crawl fetched it, still sees its count.
    ProjectRepository.objects.filter(project=project).update(fetched_at=timezone.now())
    victim = client_for(project.memberships.get(role="owner").user)
    assert (
        '<td class="num">2</td>'
        in victim.get(reverse("mining-repositories", args=[project.slug])).content.decode()
    )


def test_a_known_public_repository_reads_in_every_project(
    project, secret_issue, rival, api_for, client_for
):
    Repository.objects.filter(pk=secret_issue.repository_id).update(private=False)
    rival_owner, rival_project = rival
    _import_link(
        api_for(rival_owner),
        rival_project.slug,
        "https://github.com/victim-org/secret-repo/issues/1",
    )
    seen = _rival_reads(rival_owner, rival_project, api_for, client_for)
    assert SECRET in seen and SECRET_COMMENT in seen


def test_the_project_that_fetched_an_unknown_repository_reads_it(project, secret_issue, cast):
    """Rows mined before the flag: the migration counts a project's finished crawl
    (last_synced_at) as its own fetch; the same row stays closed to everyone else."""
    from mining.access import TextAccess

    ProjectRepository.objects.filter(project=project).update(fetched_at=timezone.now())
    issue = Issue.objects.select_related("repository").get(pk=secret_issue.pk)
    assert TextAccess(project).readable(issue)
    assert TextAccess(project).hide(issue).title == SECRET
    assert list(TextAccess(project).comments(issue).values_list("body", flat=True)) == [
        SECRET_COMMENT
    ]


def test_a_crawl_stores_githubs_private_flag_and_its_project_reads_what_it_fetched(
    project, cast, rival, emulator, api_for
):
    """The victim crawls a private repository (the emulator serves `private: true`): the
    flag is stored with one request, the victim's pool and issues API show the text; the
    rival, naming the same repository and holding an item on it, reads none of it."""
    emulator.add_repository("victim-org", "secret-repo", issues=6, private=True)
    emulator.add_repository("acme", "open", issues=3)
    project.may_use_server_token = True
    project.save()
    secret = mining_jobs.add_repository(project=project, full_name="victim-org/secret-repo")
    public = mining_jobs.add_repository(project=project, full_name="acme/open")
    job = mining_jobs.start_mining_job(
        project=project, repositories=[secret, public], user=cast["owner"], dispatch=False
    )
    mining_jobs.run_job_sync(job=job)
    assert job.__class__.objects.get(pk=job.pk).status == MiningJob.Status.DONE
    secret.refresh_from_db()
    public.refresh_from_db()
    assert (secret.private, public.private) == (True, False)
    assert sum(1 for path, _ in emulator.log if path == "/repos/victim-org/secret-repo") == 1

    pool.build_pool(project=project, definition=pool.PoolDefinition(repositories=[secret.pk]))
    titles = [
        i["title"]
        for i in api_for(cast["owner"])
        .get(reverse("api-issues", args=[project.slug]))
        .json()["results"]
    ]
    assert titles and all(titles)

    rival_owner, rival_project = rival
    mining_jobs.add_repository(project=rival_project, full_name="victim-org/secret-repo")
    stolen = Issue.objects.filter(repository=secret).first()
    ItemFactory(project=rival_project, issue=stolen)
    reply = api_for(rival_owner).get(reverse("api-issue", args=[rival_project.slug, stolen.pk]))
    assert reply.json()["title"] == "" and stolen.title

    # The victim's re-sync of an edited issue fills empty item snapshots only in projects
    # that may read the repository: the rival's item would otherwise hold a copy.
    emulator.edit_issue("victim-org", "secret-repo", stolen.number, title="Edited secret")
    mining_jobs.run_job_sync(
        job=mining_jobs.start_mining_job(
            project=project, repositories=[secret], user=cast["owner"], dispatch=False
        )
    )
    rival_item = Item.objects.get(project=rival_project)
    assert (rival_item.snapshot_title, rival_item.snapshot_body) == ("", "")
    # A copy made before this rule does not show either.
    Item.objects.filter(pk=rival_item.pk).update(snapshot_title="Edited secret")
    reply = api_for(rival_owner).post(reverse("api-queue-next", args=[rival_project.slug]))
    assert "Edited secret" not in reply.content.decode()


def test_a_single_issue_job_with_the_projects_own_token_opens_what_it_fetched(
    project, rival, emulator, api_for
):
    """The rival's own single-issue job fetches victim-org/secret-repo#1 (its token sees
    the repository): the rival may read that repository's text from then on."""
    emulator.add_repository("victim-org", "secret-repo", issues=2, private=True)
    source = source_of(emulator.url)
    repository = Repository.objects.create(
        source=source, owner="victim-org", name="secret-repo", private=True
    )
    rival_owner, rival_project = rival
    rival_project.may_use_server_token = True
    rival_project.save()
    job = mining_jobs.start_mining_job(
        project=rival_project,
        links=["victim-org/secret-repo#1"],
        kind=MiningJob.Kind.SINGLE,
        user=rival_owner,
        dispatch=False,
    )
    mining_jobs.run_job_sync(job=job)
    issue = Issue.objects.get(repository=repository, number=1)
    assert issue.title
    ItemFactory(project=rival_project, issue=issue)
    reply = api_for(rival_owner).get(reverse("api-issue", args=[rival_project.slug, issue.pk]))
    assert reply.json()["title"] == issue.title
    # The victim project, which fetched nothing of it, does not.
    ItemFactory(project=project, issue=issue)
    owner = project.memberships.get(role="owner").user
    assert (
        api_for(owner).get(reverse("api-issue", args=[project.slug, issue.pk])).json()["title"]
        == ""
    )
