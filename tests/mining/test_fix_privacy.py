"""A fix link's own repository and its privacy (issue #20): GraphQL's `isPrivate` of the
repository a linking pull request or commit lives in is fetched in the same batched
queries, stored on the link, and a private repository's links are hidden from every
project that does not read that repository, on the pages, in the exports and in the
distributions' `fixed` and `time_to_fix`. Against the emulator over real HTTP."""

import importlib
import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analysis.distributions import build_crosstab
from analysis.specs import Source, parse_spec
from dataset.exporting import stream_export
from mining import jobs
from mining.client import GraphQLFailed
from mining.fixes_query import commit_link, pull_link
from mining.models import FixLink, Issue, MiningJob, ProjectRepository, Repository
from tests.builders import DEVICE, OOM, in_conflict, label_both, record
from tests.factories import IssueFactory, ItemFactory

OWNER, NAME = "meta-llama", "llama3"
CREATED = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def repository(project, emulator):
    emulator.add_repository(OWNER, NAME, issues=240, comments=0)
    emulator.add_repository("acme", "secret", issues=1, comments=0, private=True)
    return jobs.add_repository(project=project, full_name=f"{OWNER}/{NAME}")


def crawl(project, repository, emulator):
    job = jobs.start_mining_job(
        project=project, repositories=[repository], api_url=emulator.url, dispatch=False, fixes=True
    )
    return jobs.run_job_sync(job=job)


def test_privacy_comes_in_the_same_batched_queries_and_is_stored(
    project, repository, emulator, token
):
    emulator.link_fix(OWNER, NAME, 3, kind="closing", repository="acme/secret", title="Secret fix")
    emulator.link_fix(OWNER, NAME, 4, kind="commit", repository="acme/secret", headline="Hush")
    # A private repository the world (and Faultline) never heard of: GitHub still says so.
    emulator.link_fix(OWNER, NAME, 5, kind="referencing", repository="ghost/vault", private=True)

    job = crawl(project, repository, emulator)

    assert job.status == MiningJob.Status.DONE, job.errors
    issues = [n for n, i in emulator.repo(OWNER, NAME).issues.items() if "pull_request" not in i]
    assert emulator.graphql_queries == math.ceil(len(issues) / 100) == job.graphql_queries
    secret = FixLink.objects.get(title="Secret fix")
    assert (secret.repository_name, secret.repository_private) == ("acme/secret", True)
    commit = FixLink.objects.get(title="Hush")
    assert (commit.repository_name, commit.repository_private) == ("acme/secret", True)
    ghost = FixLink.objects.get(issue__number=5, repository_name="ghost/vault")
    assert ghost.repository_private is True
    own = FixLink.objects.filter(repository_name=f"{OWNER}/{NAME}".lower())
    assert own.count() > 100 and not own.exclude(repository_private=False).exists()
    # Faultline knows nothing of ghost/vault: the link's own flag is all that hides it.
    assert not Repository.objects.filter(owner="ghost").exists()


def test_a_mined_link_of_an_unknown_private_repository_is_not_shown(
    project, repository, emulator, token, cast, client_for
):
    emulator.link_fix(
        OWNER, NAME, 3, kind="referencing", repository="ghost/vault", private=True,
        title="Patch the CVE-2026-0001 exploit in ghost's billing",
    )  # fmt: skip
    emulator.link_fix(OWNER, NAME, 3, kind="referencing", title="Work around the loader")
    assert crawl(project, repository, emulator).status == MiningJob.Status.DONE
    item = ItemFactory(project=project, issue=Issue.objects.get(repository=repository, number=3))
    label_both(item, cast, [record(OOM)], [record(DEVICE)])

    url = reverse("conflict-detail", kwargs={"slug": project.slug, "item_id": item.pk})
    html = client_for(cast["lead"]).get(url).content.decode()

    assert "Work around the loader" in html
    assert "CVE-2026-0001" not in html and "ghost/vault" not in html


# ----- rows as stored: the rule on the pages, in the exports and in the SPECs -------------


def private_link(issue, kind="referencing_pr", *, merged_at=None, private=True, name="ghost/vault"):
    number = 9 if kind != "closing_pr" else 10
    return FixLink.objects.create(
        issue=issue,
        kind=kind,
        ref=f"{name}#{number}",
        number=number,
        url=f"https://github.com/{name}/pull/{number}",
        title=f"Secret title of {name}#{number}",
        state="MERGED" if merged_at else "OPEN",
        merged=merged_at is not None,
        merged_at=merged_at,
        repository_private=private,
    )


def conflict_html(project, cast, client_for, item) -> str:
    url = reverse("conflict-detail", kwargs={"slug": project.slug, "item_id": item.pk})
    return client_for(cast["lead"]).get(url).content.decode()


def test_the_pages_hide_an_unknown_private_repositorys_link(project, cast, client_for):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    private_link(item.issue)
    private_link(item.issue, name="open/lib", private=False)

    html = conflict_html(project, cast, client_for, item)

    assert "Secret title of open/lib#9" in html
    assert "ghost/vault" not in html


def test_a_project_that_reads_the_private_repository_sees_its_links(project, cast, client_for):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    private_link(item.issue)
    vault = Repository.objects.create(owner="Ghost", name="Vault", private=True)
    ProjectRepository.objects.create(project=project, repository=vault, fetched_at=timezone.now())

    assert "Secret title of ghost/vault#9" in conflict_html(project, cast, client_for, item)


def test_a_link_of_unknown_privacy_keeps_the_rule_of_known_repositories(project, cast, client_for):
    """Rows mined before isPrivate was fetched: shown unless the repository is known here
    and the project may not read it."""
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    private_link(item.issue, private=None)
    private_link(item.issue, name="acme/secret", private=None)
    Repository.objects.create(owner="acme", name="secret", private=True)

    html = conflict_html(project, cast, client_for, item)

    assert "Secret title of ghost/vault#9" in html
    assert "acme/secret" not in html


@pytest.fixture
def fixed_by_a_private_merge(project, cast):
    """An issue whose only merged closing pull request lives in an unknown private
    repository, and one fixed by its own repository three days after it was filed."""
    hidden = IssueFactory(number=1, created_at=CREATED, fixes_synced_at=CREATED)
    private_link(hidden, "closing_pr", merged_at=CREATED + timedelta(days=2))
    seen = IssueFactory(number=2, created_at=CREATED, fixes_synced_at=CREATED)
    FixLink.objects.create(
        issue=seen, kind="closing_pr", ref=f"{seen.repository.full_name}#5", number=5,
        url="https://github.com/x/y/pull/5", merged=True, state="MERGED",
        merged_at=CREATED + timedelta(days=3), repository_private=False,
    )  # fmt: skip
    for issue in (hidden, seen):
        item = ItemFactory(project=project, issue=issue)
        assert label_both(item, cast, [record()], [record()]) == "settled"
    return hidden, seen


def test_the_export_neither_lists_nor_counts_a_hidden_fix(project, fixed_by_a_private_merge):
    text = "".join(stream_export(project, "jsonl"))
    rows = {row["issue"]: row for row in map(json.loads, text.splitlines())}

    assert "ghost/vault" not in text and "Secret title" not in text
    assert (rows[1]["fixed"], rows[1]["time_to_fix"], rows[1]["fixes"]) == (False, None, [])
    assert (rows[2]["fixed"], rows[2]["time_to_fix"]) == (True, 3.0)


def counts(project, spec) -> dict[str, int]:
    spec = parse_spec(spec)
    table = build_crosstab(project=project, rows=spec, cols=None, source=Source("final"))
    return dict(zip(table.rows, map(sum, table.counts), strict=True))


def test_the_distributions_do_not_count_a_hidden_fix(project, fixed_by_a_private_merge):
    assert counts(project, "fixed") == {"fixed": 1, "not fixed": 1}
    assert counts(project, "time_to_fix") == {"1–7 days": 1, "(none)": 1}


def test_a_project_that_reads_the_repository_counts_its_fix(project, fixed_by_a_private_merge):
    vault = Repository.objects.create(owner="ghost", name="vault", private=True)
    ProjectRepository.objects.create(project=project, repository=vault, fetched_at=timezone.now())

    rows = [json.loads(line) for line in "".join(stream_export(project, "jsonl")).splitlines()]
    fixed = {row["issue"]: (row["fixed"], row["time_to_fix"]) for row in rows}
    assert fixed == {1: (True, 2.0), 2: (True, 3.0)}
    assert counts(project, "fixed") == {"fixed": 2}


@pytest.mark.parametrize(
    ("repository", "message"),
    [
        ({"nameWithOwner": "a/b"}, "a pull request's repository without isPrivate"),
        ({"nameWithOwner": "a/b", "isPrivate": "yes"}, "without isPrivate"),
        ({"isPrivate": False}, "a pull request without its repository's name"),
        (None, "a pull request's repository is not an object"),
    ],
    ids=["missing", "not-a-boolean", "no-name", "no-repository"],
)
def test_a_reply_without_the_repositorys_privacy_is_malformed(repository, message):
    """A reply that leaves out what was asked fails the batch (nothing of it stored), rather
    than storing a link whose privacy is unknown and so shown."""
    node = {"number": 7, "title": "Fix", "repository": repository}
    with pytest.raises(GraphQLFailed, match=message):
        pull_link(node, "closing_pr")
    commit = {"oid": "a" * 40, "repository": repository}
    with pytest.raises(GraphQLFailed, match="malformed GraphQL reply: a commit"):
        commit_link(commit)


def test_the_migration_names_the_repository_of_links_mined_before(project, cast, client_for):
    """Rows stored before the name was fetched (bulk_create: no save() to fill it) get it
    from their ref or url, so the rule for repositories known here still finds them."""
    from django.apps import apps

    migration = importlib.import_module("mining.migrations.0009_fix_link_repository")
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    sha = "c" * 40
    FixLink.objects.bulk_create(
        [
            FixLink(
                issue=item.issue, kind="referencing_pr", ref="Acme/Secret#9", title="Hush PR",
            ),
            FixLink(
                issue=item.issue, kind="referencing_commit", ref=sha, sha=sha,
                url=f"https://github.com/acme/secret/commit/{sha}", title="Hush commit",
            ),
            FixLink(
                issue=item.issue, kind="referencing_commit", ref="d" * 40, url="mailto:x",
                title="A commit whose url names no repository",
            ),
        ]
    )  # fmt: skip
    assert set(FixLink.objects.values_list("repository_name", flat=True)) == {""}

    migration.name_old_links(apps, None)

    names = dict(FixLink.objects.values_list("ref", "repository_name"))
    assert names == {"Acme/Secret#9": "acme/secret", sha: "acme/secret", "d" * 40: ""}
    Repository.objects.create(owner="acme", name="secret", private=True)
    html = conflict_html(project, cast, client_for, item)
    assert "Hush" not in html and "A commit whose url names no repository" in html
