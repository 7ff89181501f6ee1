"""Imports give their repositories groups by a rule (owner, family, one name, a map), in the
command, the API and the upload page; the Repositories page lists the imported repositories
with their groups, and owners and leads edit a group there, which RQ4 then uses (issue #15,
defect 2). Bad rules and maps are refused by name, and nothing is written."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from analysis.distributions import build_crosstab
from analysis.specs import Source as LabelSource
from analysis.specs import parse_spec
from annotate.models import AuditEvent, FinalLabel, ImportJob, Item, Project, Role
from annotate.projects import services
from dataset.tasks import run_import_task
from mining.models import ProjectRepository, Repository

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "olf_groups"
FILES = sorted(FIXTURES.rglob("*.json"))


def written():
    return {m.__name__: m.objects.count() for m in (Repository, ProjectRepository, Item)} | {
        "FinalLabel": FinalLabel.objects.count(),
        "Project": Project.objects.count(),
    }


def groups(project) -> dict[str, str]:
    views = ProjectRepository.objects.filter(project=project).select_related("repository")
    return {view.repository.full_name: view.group for view in views}


def rq4(project) -> dict[str, dict[str, int]]:
    table = build_crosstab(
        project=project,
        rows=parse_spec("group"),
        cols=parse_spec("dim:symptom@1"),
        source=LabelSource("final"),
    )
    return {
        row: {col: count for col, count in zip(table.cols, counts, strict=True) if count}
        for row, counts in zip(table.rows, table.counts, strict=True)
    }


def run_import(project, *args):
    call_command("import_dataset", str(FIXTURES), "--project", project.slug, *args)


# --- the command ----------------------------------------------------------------------------
def test_the_owner_rule_gives_the_studys_three_groups(project):
    run_import(project, "--group", "owner")

    assert set(groups(project).values()) == {"deepseek-ai", "meta-llama", "QwenLM"}
    table = rq4(project)
    assert sorted(table) == ["QwenLM", "deepseek-ai", "meta-llama"]
    assert sum(sum(row.values()) for row in table.values()) == 11


def test_the_family_rule_names_the_model_families(project):
    run_import(project, "--group", "family")

    assert groups(project) == {
        "deepseek-ai/DeepSeek-Coder": "DeepSeek",
        "deepseek-ai/DeepSeek-V3": "DeepSeek",
        "meta-llama/codellama": "Llama",
        "meta-llama/llama": "Llama",
        "QwenLM/Qwen": "Qwen",
        "QwenLM/Qwen2.5": "Qwen",
    }
    assert sorted(rq4(project)) == ["DeepSeek", "Llama", "Qwen"]


def test_a_map_names_groups_over_the_rule_inline_or_from_a_file(project, tmp_path):
    run_import(project, "--group", "family", "--group-map", "meta-llama/codellama=Code")
    assert groups(project)["meta-llama/codellama"] == "Code"
    assert groups(project)["meta-llama/llama"] == "Llama"

    # Imported again with a file that maps a repository the project has: it moves.
    mapping = tmp_path / "groups.txt"
    mapping.write_text("# by hand\nQwenLM/Qwen2.5 = Qwen 2.5\n", encoding="utf-8")
    run_import(project, "--group-map-file", str(mapping))
    assert groups(project)["QwenLM/Qwen2.5"] == "Qwen 2.5"
    assert groups(project)["meta-llama/codellama"] == "Code"  # the rule leaves it alone
    event = AuditEvent.objects.filter(project=project, kind="import").last()
    assert "mapped: QwenLM/Qwen2.5 → Qwen 2.5" in event.payload["groups"]
    assert "1 repository group changed by the map" in event.payload["summary"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--group", "regex:^Qwen"], "Unknown group rule 'regex:^Qwen'"),
        (["--group-map", "QwenLM/Qwen"], "'QwenLM/Qwen' is not OWNER/NAME=GROUP"),
        (["--group-map", "Qwen=Q"], "'Qwen' is not a repository"),
        (["--group-map", "QwenLM/Qwen=Q,acme/absent=X"], "links to: acme/absent"),
        (["--group-map-file", "/nonexistent/map.txt"], "cannot read the group map"),
    ],
)
def test_bad_rules_and_maps_are_refused_by_name_and_write_nothing(cast, args, message):
    before = written()
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_dataset", str(FIXTURES), "--project", "fresh", "--owner", "owner", *args
        )
    assert message in str(refused.value)
    assert str(refused.value).startswith("Nothing imported.")
    assert written() == before  # not even the project --owner would have created


# --- the API and the upload page --------------------------------------------------------------
def uploads():
    return [
        SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/json")
        for path in FILES
    ]


def test_the_api_stores_the_rule_on_the_job_and_the_worker_applies_it(project, cast, api_for):
    response = api_for(cast["owner"]).post(
        reverse("api-import", args=[project.slug]),
        {"files": uploads(), "group": "family", "group_map": "QwenLM/Qwen=Qwen 1"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["group"] == "family"
    assert response.json()["group_map"] == {"QwenLM/Qwen": "Qwen 1"}
    run_import_task(job_id=response.json()["id"])

    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == "succeeded", job.error
    assert groups(project)["QwenLM/Qwen"] == "Qwen 1"
    assert groups(project)["QwenLM/Qwen2.5"] == "Qwen"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"group": "by:size"}, "group", "Unknown group rule 'by:size'"),
        ({"group_map": "QwenLM/Qwen:Q"}, "group_map", "not OWNER/NAME=GROUP"),
    ],
)
def test_the_api_refuses_a_bad_rule_at_once(project, cast, api_for, data, field, message):
    response = api_for(cast["owner"]).post(
        reverse("api-import", args=[project.slug]), {"files": uploads(), **data}
    )
    assert response.status_code == 400
    assert message in response.json()["fields"][field][0]
    assert not ImportJob.objects.exists() and not Item.objects.exists()


def test_a_map_naming_a_repository_not_in_the_files_fails_the_job_and_writes_nothing(
    project, cast, api_for
):
    response = api_for(cast["owner"]).post(
        reverse("api-import", args=[project.slug]),
        {"files": uploads(), "group_map": "acme/elsewhere=X"},
        format="multipart",
    )
    run_import_task(job_id=response.json()["id"])
    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert "no record of the files links to: acme/elsewhere" in job.error
    assert not Item.objects.exists() and not ProjectRepository.objects.exists()


def test_the_upload_page_takes_a_rule_and_a_map_file(project, cast, client_for):
    client = client_for(cast["owner"])
    url = reverse("dataset-import", args=[project.slug])
    mapping = SimpleUploadedFile("map.json", json.dumps({"meta-llama/llama": "Llama 1"}).encode())
    response = client.post(
        url, {"files": uploads(), "format": "olf", "labels": "final", "group": "family",
              "group_map_file": mapping},
    )  # fmt: skip
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.group, job.group_map) == ("family", {"meta-llama/llama": "Llama 1"})
    run_import_task(job_id=job.pk)
    page = client.get(reverse("dataset-import-job", args=[project.slug, job.pk])).content.decode()
    assert "groups by model family; mapped: meta-llama/llama → Llama 1" in page
    assert groups(project)["meta-llama/llama"] == "Llama 1"


def test_the_upload_page_shows_a_bad_map_beside_its_field(project, cast, client_for):
    response = client_for(cast["owner"]).post(
        reverse("dataset-import", args=[project.slug]),
        {
            "files": uploads(),
            "format": "olf",
            "labels": "final",
            "group_map": "QwenLM/Qwen=A\nqwenlm/qwen=B",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_group_map_error"' in body
    assert "gives qwenlm/qwen two groups: &#x27;A&#x27; and &#x27;B&#x27;" in body
    assert '<main class="page">' in body  # inside the layout
    assert not ImportJob.objects.exists()


# --- the Repositories page ----------------------------------------------------------------------
def repositories_page(client, project) -> str:
    response = client.get(reverse("mining-repositories", args=[project.slug]))
    assert response.status_code == 200
    return response.content.decode()


def group_url(project, full_name):
    owner, name = full_name.split("/")
    repository = Repository.objects.get(owner=owner, name=name)
    return reverse("mining-repository-group", args=[project.slug, repository.pk])


def test_the_page_lists_imported_repositories_with_their_groups(project, cast, client_for):
    run_import(project)
    body = repositories_page(client_for(cast["lead"]), project)
    assert "No repositories yet" not in body
    for full_name in groups(project):
        assert full_name in body
    assert 'aria-label="Group of deepseek-ai/DeepSeek-V3"' in body
    assert '<span class="badge">deepseek-ai</span>' in body


def test_a_lead_edits_a_group_inline_and_rq4_follows(project, cast, client_for):
    run_import(project)
    assert rq4(project)["meta-llama"] == {"Hang": 2, "Incorrect Functionality": 1}
    client = client_for(cast["lead"])

    url = group_url(project, "meta-llama/codellama")
    response = client.post(url, {"group": "  Code  models "}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith("<tr") and 'value="Code models"' in row and "Saved" in row
    assert groups(project)["meta-llama/codellama"] == "Code models"
    assert rq4(project)["meta-llama"] == {"Hang": 2}
    assert rq4(project)["Code models"] == {"Incorrect Functionality": 1}
    event = AuditEvent.objects.get(project=project, kind="repository_group")
    assert event.actor == cast["lead"]
    assert event.payload == {
        "repository": "meta-llama/codellama",
        "from": "meta-llama",
        "to": "Code models",
    }
    # The same group again changes nothing and records nothing.
    client.post(group_url(project, "meta-llama/codellama"), {"group": "Code models"})
    assert AuditEvent.objects.filter(kind="repository_group").count() == 1


def test_a_plain_post_redirects_with_a_message(project, cast, client_for):
    run_import(project)
    client = client_for(cast["owner"])
    response = client.post(group_url(project, "QwenLM/Qwen"), {"group": "Qwen"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("mining-repositories", args=[project.slug])
    assert "QwenLM/Qwen is now in “Qwen”." in response.content.decode()


def test_a_group_over_100_characters_is_refused_in_the_row(project, cast, client_for):
    run_import(project)
    response = client_for(cast["owner"]).post(
        group_url(project, "QwenLM/Qwen"), {"group": "x" * 101}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()
    assert groups(project)["QwenLM/Qwen"] == "QwenLM"
    assert not AuditEvent.objects.filter(kind="repository_group").exists()


def test_annotators_may_not_edit_groups_and_other_projects_do_not_see_them(
    project, cast, client_for
):
    run_import(project)
    other = services.create_project(name="Other", slug="other", owner=cast["outsider"])
    services.add_member(project=other, username="annotator_b", role=Role.LEAD)
    url = group_url(project, "QwenLM/Qwen")

    assert client_for(cast["annotator_a"]).post(url, {"group": "X"}).status_code == 403
    assert client_for(cast["outsider"]).post(url, {"group": "X"}).status_code == 404
    # Another project's URL with this project's repository: not that project's repository.
    theirs = reverse("mining-repository-group", args=[other.slug, url.split("/")[-3]])
    assert client_for(cast["outsider"]).post(theirs, {"group": "X"}).status_code == 404
    assert set(groups(project).values()) == {"deepseek-ai", "meta-llama", "QwenLM"}
    assert not AuditEvent.objects.filter(kind="repository_group").exists()
