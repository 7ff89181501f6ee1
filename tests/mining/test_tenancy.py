"""Walls between projects (issue #12): what a project says about a repository (group,
metadata, mining) is its own, and synthetic demo data never shares a row with github.com's.
The first three go through the pages, the API and the services only, so they run (and
fail) on the code before the fix too."""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from analysis.distributions import build_crosstab
from analysis.specs import Source, parse_spec
from annotate.demo import seed_demo
from annotate.models import Item
from annotate.projects import services as project_services
from dataset.exporting import iter_records
from dataset.importing import collect_sources, import_dataset
from tests.factories import UserFactory

from .helpers import crawl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "olf"
FIXTURE_LINKS = sorted(
    record["link"]
    for path in FIXTURES.rglob("*.json")
    for record in json.loads(path.read_text(encoding="utf-8"))
)
DEMO_ROOT = "https://demo.faultline.invalid/"
VIEWS = [("group", "dim:symptom@1"), ("meta:model", None), ("meta:family", None), ("repo", None)]


@pytest.fixture
def rival(db):
    """Another project, owned by someone who is no member of `project`."""
    owner = UserFactory(username="rival")
    project = project_services.create_project(name="Rival", slug="rival", owner=owner)
    return owner, project


def _import_study_fixture(project):
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))


def _what_the_project_shows(api, client, project) -> dict:
    """Distributions (by group, metadata and repository), the RQ4 table, the CSV export
    and the issue list's groups, as the project's members get them."""
    shown = {}
    for rows, cols in VIEWS:
        params = {"rows": rows, **({"cols": cols} if cols else {})}
        reply = api.get(reverse("api-distribution", args=[project.slug]), params)
        assert reply.status_code == 200, reply.content
        shown[rows] = {k: reply.json()[k] for k in ("rows", "cols", "counts")}
    rq4 = client.get(f"/projects/{project.slug}/distributions/tables/rq4.csv")
    assert rq4.status_code == 200
    shown["rq4"] = rq4.content.decode()
    export = api.get(reverse("api-export", args=[project.slug]), {"format": "csv"})
    assert export.status_code == 200
    shown["csv"] = b"".join(export.streaming_content).decode()
    issues = api.get(reverse("api-issues", args=[project.slug])).json()["results"]
    shown["issue groups"] = sorted((i["repository"], i["group"]) for i in issues)
    return shown


def test_another_owner_re_adding_a_repository_changes_nothing_for_this_project(
    project, cast, rival, api_for, client_for
):
    _import_study_fixture(project)
    api, client = api_for(cast["owner"]), client_for(cast["owner"])
    before = _what_the_project_shows(api, client, project)
    assert before["group"]["rows"] == ["QwenLM", "meta-llama"]
    assert "QwenLM" in before["csv"] and "Hijacked" not in before["csv"]

    rival_owner, rival_project = rival
    for full_name in ("QwenLM/Qwen2.5", "meta-llama/llama3"):
        reply = api_for(rival_owner).post(
            reverse("api-mining-repositories", args=[rival_project.slug]),
            {"full_name": full_name, "group": "Hijacked", "metadata": {"family": "evil"}},
            format="json",
        )
        assert reply.status_code == 201
        assert reply.json()["group"] == "Hijacked"  # the rival's own view
    # The same through the page form, with model metadata this time.
    page = client_for(rival_owner).post(
        reverse("mining-repositories", args=[rival_project.slug]),
        {"full_name": "QwenLM/Qwen2.5-Math", "group": "Hijacked", "model": "evil"},
    )
    assert page.status_code == 302

    after = _what_the_project_shows(api, client, project)
    assert after == before
    assert "Hijacked" not in json.dumps(after) and "evil" not in json.dumps(after)
    # Filters by group read this project's groups, not the rival's.
    for name in ("api-items", "api-issues"):
        url = reverse(name, args=[project.slug])
        assert api.get(url, {"group": "Hijacked"}).json()["results"] == []
        assert len(api.get(url, {"group": "QwenLM"}).json()["results"]) == 3


def test_outsiders_see_no_watermarks_or_last_sync_of_a_shared_repository(
    project, cast, rival, emulator, token, api_for, client_for
):
    emulator.add_repository("QwenLM", "Qwen2.5", issues=30, comments=20)
    api = api_for(cast["owner"])
    url = reverse("api-mining-repositories", args=[project.slug])
    added = api.post(url, {"full_name": "QwenLM/Qwen2.5", "group": "Qwen"}, format="json")
    assert added.status_code == 201
    repository_id = added.json()["id"]
    from mining.models import Repository

    job = crawl(project, [Repository.objects.get(pk=repository_id)], emulator)
    assert job.status == "done"
    mine = api.get(url).json()[0]
    assert mine["issues_watermark"] and mine["comments_watermark"] and mine["last_synced_at"]
    synced = Repository.objects.get(pk=repository_id)
    secrets = [
        synced.issues_watermark.isoformat(),
        synced.comments_watermark.isoformat(),
        synced.last_synced_at.isoformat(),
    ]

    rival_owner, rival_project = rival
    rival_url = reverse("api-mining-repositories", args=[rival_project.slug])
    reply = api_for(rival_owner).post(rival_url, {"full_name": "QwenLM/Qwen2.5"}, format="json")
    assert reply.status_code == 201
    for shown in (reply.json(), api_for(rival_owner).get(rival_url).json()[0]):
        assert shown["issues_watermark"] is None
        assert shown["comments_watermark"] is None
        assert shown["last_synced_at"] is None
        assert not any(secret in json.dumps(shown) for secret in secrets)
    page = client_for(rival_owner).get(reverse("mining-repositories", args=[rival_project.slug]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "never" in text
    for moment in (synced.issues_watermark, synced.last_synced_at):
        assert str(moment.year) not in text.split("<h2>Add a repository")[0].split("<tbody>")[1]


def test_demo_then_study_import_gives_the_studys_links_groups_and_counts(project, db):
    demo = seed_demo(password="pw-demo-123", per_repository=12).project
    demo_issue_ids = set(Item.objects.filter(project=demo).values_list("issue_id", flat=True))

    _import_study_fixture(project)

    items = Item.objects.filter(project=project)
    assert items.count() == 6
    # No study item sits on a synthetic (mined-from-the-demo) issue.
    assert not items.filter(issue_id__in=demo_issue_ids).exists()
    assert not items.filter(issue__fetched=True).exists()
    assert not any(item.issue.title for item in items.select_related("issue"))
    links = sorted(record["link"] for record in iter_records(project))
    assert links == FIXTURE_LINKS
    crosstab = build_crosstab(
        project=project,
        rows=parse_spec("group"),
        cols=parse_spec("dim:symptom@1"),
        source=Source("final"),
    )
    assert crosstab.rows == ["QwenLM", "meta-llama"]
    assert crosstab.total == 7
    # The demo's own links name its own source, never github.com.
    demo_links = [record["link"] for record in iter_records(demo, labels="all")]
    assert demo_links and all(link.startswith(DEMO_ROOT) for link in demo_links)
    demo_items = Item.objects.filter(project=demo).select_related("issue__repository")
    assert all(item.issue.html_url.startswith(DEMO_ROOT) for item in demo_items)
    # And the import changes none of the demo's groups.
    alice = UserFactory(username="alice")
    demo_table = build_crosstab(
        project=demo,
        rows=parse_spec("group"),
        cols=None,
        source=Source("annotator", "alice"),
        user=alice,
    )
    assert demo_table.rows and set(demo_table.rows) <= {"DeepSeek", "Llama", "Qwen"}


def test_the_periodic_reconcile_checks_only_the_configured_apis_repositories(project, emulator):
    """The demo's synthetic repositories carry real names: checking them against the
    configured API would mark synthetic issues gone or pull real data into them."""
    from django.utils import timezone

    from mining import jobs, tasks
    from mining.models import DEMO_SOURCE, MiningJob, Repository

    real = jobs.add_repository(project=project, full_name="QwenLM/Qwen2.5")
    demo = jobs.add_repository(project=project, full_name="QwenLM/Qwen2.5", source=DEMO_SOURCE)
    assert real.pk != demo.pk and demo.source == DEMO_SOURCE
    Repository.objects.update(last_synced_at=timezone.now())

    job = MiningJob.objects.get(pk=tasks.reconcile_repositories())

    assert list(job.repositories.all()) == [real]
    assert job.source == real.source != DEMO_SOURCE


@pytest.mark.parametrize(
    ("api_url", "source", "web"),
    [
        ("https://api.github.com", "api.github.com", "https://github.com"),
        ("https://api.github.com/", "api.github.com", "https://github.com"),
        ("https://GHE.example.com/api/v3", "ghe.example.com", "https://ghe.example.com"),
        ("http://127.0.0.1:8765", "127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_a_source_is_the_api_host_and_its_links_are_its_own(api_url, source, web):
    from mining.models import source_of, web_root

    assert source_of(api_url) == source
    assert web_root(source) == web


def test_a_url_without_a_host_is_no_source():
    from mining.models import source_of

    with pytest.raises(ValueError, match="not an API URL"):
        source_of("api.github.com")
