"""Findings of the rt12 penetration test (each test failed before its fix)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from annotate.projects import pool
from annotate.projects import services as project_services
from mining import jobs as mining_jobs
from mining.models import ProjectRepository
from tests.factories import IssueFactory, RepositoryFactory, UserFactory


@pytest.fixture
def rival(db):
    """Another project, owned by someone who is no member of `project`."""
    owner = UserFactory(username="rival")
    project = project_services.create_project(name="Rival", slug="rival", owner=owner)
    return owner, project


def test_naming_a_repository_another_project_mined_does_not_open_its_issues(
    project, rival, client_for
):
    """Project A mines a private repository with its own GitHub token. The owner of project
    B only names the same OWNER/NAME (no job, no token with access): B's pool builder must
    neither count nor copy A's mined issues into B."""
    repository = RepositoryFactory(owner="victim-org", name="secret-repo")
    ProjectRepository.objects.create(
        project=project, repository=repository, mined=True, last_synced_at=timezone.now()
    )
    IssueFactory.create_batch(3, repository=repository, title="Private: key leaked")
    rival_owner, rival_project = rival
    mining_jobs.add_repository(
        project=rival_project, full_name="victim-org/secret-repo", user=rival_owner
    )
    definition = pool.PoolDefinition()
    assert pool.select_issue_ids(rival_project, definition) == []
    reply = client_for(rival_owner).post(
        reverse("mining-pool", args=[rival_project.slug]), {"commit": "1"}
    )
    assert reply.status_code in (200, 302, 400)
    assert not rival_project.items.exists()
    # The project that mined it still builds its pool from it.
    assert len(pool.select_issue_ids(project, definition)) == 3


@pytest.mark.parametrize("full_name", ["a/..", "a/.", "https://github.com/a/.."])
def test_dot_repository_names_are_refused(project, cast, api_for, full_name):
    """`a/..` would make the crawler ask GitHub for /repos/a/../issues, i.e. another API
    path, with the project's (or the server's) token. GitHub names are never . or .."""
    reply = api_for(cast["owner"]).post(
        reverse("api-mining-repositories", args=[project.slug]), {"full_name": full_name}
    )
    assert reply.status_code == 400, reply.content
    assert not ProjectRepository.objects.filter(project=project).exists()


@pytest.mark.parametrize(
    "link", ["https://github.com/a/../issues/1", "a/.#1", "a/b#99999999999999999999"]
)
def test_crafted_issue_links_are_refused(link):
    from mining.progress import parse_issue_link

    with pytest.raises(ValueError):
        parse_issue_link(link)


@pytest.mark.parametrize(
    "metadata", [{"model\x00": "x"}, {"model": "a\x00b"}, {"model": {"deep": ["\x00"]}}]
)
def test_repository_metadata_with_a_nul_is_a_400_not_a_500(project, cast, api_for, metadata):
    api = api_for(cast["owner"])
    api.raise_request_exception = False
    reply = api.post(
        reverse("api-mining-repositories", args=[project.slug]),
        {"full_name": "acme/widgets", "metadata": metadata},
        format="json",
    )
    assert reply.status_code == 400, reply.content
    assert "metadata" in reply.json()["fields"]


def test_two_projects_adding_a_new_repository_at_once_both_succeed(project, rival, monkeypatch):
    """Two owners add the same new repository concurrently: the one whose INSERT loses the
    race (its lookup ran before the other's commit) must reuse the row, not answer 500."""
    from django.db.models.query import QuerySet

    from mining.models import Repository

    rival_owner, rival_project = rival
    mining_jobs.add_repository(project=rival_project, full_name="acme/fresh")
    real_first, calls = QuerySet.first, []

    def first_misses_once(self):
        if self.model is Repository and not calls:
            calls.append(1)
            return None  # the other request's row was not visible yet
        return real_first(self)

    monkeypatch.setattr(QuerySet, "first", first_misses_once)
    repository = mining_jobs.add_repository(project=project, full_name="acme/fresh")
    assert calls and Repository.objects.filter(owner="acme", name="fresh").count() == 1
    assert ProjectRepository.objects.filter(project=project, repository=repository).exists()


def _codebook_post(client, project, data):
    client.raise_request_exception = False
    return client.post(reverse("codebook-edit", args=[project.slug]), data)


@pytest.mark.parametrize(
    "data",
    [
        {"op": "add", "name": "x" * 5000},
        {"op": "add", "name": "a\x00b"},
        {"op": "add", "name": "fine name", "description": "d\x00"},
    ],
)
def test_codebook_editor_refuses_bad_names_without_a_500(project, cast, client_for, data):
    from annotate.models import Category

    before = Category.objects.filter(dimension__project=project).count()
    reply = _codebook_post(client_for(cast["lead"]), project, {"dimension": "symptom", **data})
    assert reply.status_code < 500
    assert Category.objects.filter(dimension__project=project).count() == before


def test_codebook_rename_and_deep_paths_past_the_column_are_refused(project, cast, client_for):
    from annotate.codebook import services as codebook
    from annotate.models import Category

    client = client_for(cast["lead"])
    leaf = Category.objects.filter(dimension__project=project, parent__isnull=False).first()
    reply = _codebook_post(
        client, project, {"op": "rename", "category": leaf.pk, "name": "y" * 900}
    )
    assert reply.status_code < 500
    leaf.refresh_from_db()
    assert len(leaf.name) < 900
    # A chain of long names: the full path would pass the path column's 1000 characters.
    dimension, parent = leaf.dimension, None
    with pytest.raises(codebook.CodebookError):
        for n in range(6):
            parent = codebook.add_category(
                project=project,
                actor=cast["lead"],
                dimension=dimension,
                parent=parent,
                name=f"{n}" + "z" * 198,
            )


def test_codebook_concurrent_adds_of_one_name_are_a_message(project, cast, client_for, monkeypatch):
    """Two leads add the same category at once: both pass the name check; the second
    insert must come back as a message, not a 500."""
    from annotate.codebook import services as codebook

    client = client_for(cast["lead"])
    data = {"op": "add", "dimension": "symptom", "name": "Brand new"}
    assert _codebook_post(client, project, data).status_code == 302
    monkeypatch.setattr(codebook, "_check_name", lambda dimension, parent, name, exclude=None: name)
    reply = _codebook_post(client, project, data)
    assert reply.status_code < 500
    assert b"already exists" in reply.content


@pytest.mark.parametrize("offset", ["99999999999999999999999", str(2**63)])
def test_conflict_list_huge_offset_is_a_400(project, cast, api_for, offset):
    api = api_for(cast["lead"])
    api.raise_request_exception = False
    reply = api.get(reverse("api-conflicts", args=[project.slug]), {"offset": offset})
    assert reply.status_code == 400, reply.content
    assert "offset" in reply.json()["fields"]


def test_a_single_issue_job_cannot_mark_another_projects_private_issues_gone(
    project, rival, emulator
):
    """Project A mined victim-org/secret-repo (private, A's own token). The owner of
    project B runs a single-issue job on its links with a token that cannot see the
    repository: GitHub answers 404 for every issue. That says nothing about the issues, so
    nothing is recorded on the shared rows: A's issues stay in A's pool."""
    from mining.models import Issue, MiningJob, source_of

    source = source_of(emulator.url)
    repository = RepositoryFactory(source=source, owner="victim-org", name="secret-repo")
    ProjectRepository.objects.create(
        project=project, repository=repository, mined=True, last_synced_at=timezone.now()
    )
    issues = IssueFactory.create_batch(3, repository=repository)
    rival_owner, rival_project = rival
    rival_project.may_use_server_token = True
    rival_project.save()
    job = mining_jobs.start_mining_job(
        project=rival_project,
        links=[f"victim-org/secret-repo#{issue.number}" for issue in issues] + ["x/y#1"],
        kind=MiningJob.Kind.SINGLE,
        user=rival_owner,
        api_url=emulator.url,
        dispatch=False,
    )
    mining_jobs.run_job_sync(job=job)
    assert set(Issue.objects.filter(repository=repository).values_list("gone", flat=True)) == {""}
    assert len(pool.select_issue_ids(project, pool.PoolDefinition())) == 3
    assert not Issue.objects.filter(repository__owner="x").exists()  # no such repository


def _held(project, user):
    from annotate.labeling.queue import next_item

    item = next_item(project=project, user=user)
    assert item is not None
    return item


def test_form_posts_with_a_nul_are_a_400_page_not_a_500(project, cast, items, client_for):
    """Page forms pass text straight to the services; U+0000 reached PostgreSQL (500)."""
    client = client_for(cast["annotator_a"])
    client.raise_request_exception = False
    item = _held(project, cast["annotator_a"])
    label = reverse("label-item", args=[project.slug, item.pk])
    posts = [
        (label, {"out_of_scope": "on", "out_of_scope_reason": "a\x00b"}),
        (reverse("label-skip", args=[project.slug, item.pk]), {"reason": "x\x00"}),
    ]
    for url, data in posts:
        reply = client.post(url, data)
        assert reply.status_code == 400, (url, reply.status_code)
        assert b"null character" in reply.content
    lead = client_for(cast["lead"])
    lead.raise_request_exception = False
    for name, data in [
        ("conflict-decide", {"out_of_scope": "1", "rationale": "r\x00"}),
        ("conflict-discuss", {"note": "n\x00"}),
        ("item-reopen", {"reason": "r\x00"}),
    ]:
        reply = lead.post(reverse(name, args=[project.slug, item.pk]), data)
        assert reply.status_code == 400, (name, reply.status_code)


def test_a_unicode_digit_confidence_is_no_500(project, cast, items, client_for):
    client = client_for(cast["annotator_a"])
    client.raise_request_exception = False
    item = _held(project, cast["annotator_a"])
    reply = client.post(
        reverse("label-item", args=[project.slug, item.pk]),
        {"out_of_scope": "on", "out_of_scope_reason": "not a failure", "confidence": "²"},
    )
    assert reply.status_code < 500


@pytest.mark.parametrize("regex", ["(?P<n>x)", "x{0,100000}"])
def test_pool_regex_postgres_refuses_is_a_message_not_a_500(project, cast, client_for, regex):
    """Python's re accepts these, PostgreSQL's regex engine does not: the query failed."""
    client = client_for(cast["owner"])
    client.raise_request_exception = False
    reply = client.get(reverse("mining-pool", args=[project.slug]), {"regex": regex})
    assert reply.status_code < 500
    assert b"Invalid regular expression" in reply.content


def test_codebook_merge_that_would_overflow_a_path_is_refused(project, cast):
    """Merging a shallow category with children under a deep one lengthens the children's
    paths past the column (1000 characters): a message, not a database error."""
    from annotate.codebook import services as codebook
    from annotate.models import Category

    lead = cast["lead"]
    dimension = project.dimensions.get(key="symptom")
    deep = None
    for n in range(5):
        deep = codebook.add_category(
            project=project, actor=lead, dimension=dimension, parent=deep, name=f"d{n}" + "x" * 190
        )
    shallow = codebook.add_category(project=project, actor=lead, dimension=dimension, name="s")
    codebook.add_category(
        project=project, actor=lead, dimension=dimension, parent=shallow, name="c" * 190
    )
    with pytest.raises(codebook.CodebookError):
        codebook.merge_categories(project=project, actor=lead, source=shallow, target=deep)
    assert not Category.objects.get(pk=shallow.pk).retired
