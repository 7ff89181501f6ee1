"""Importing the study's format (and JSONL, CSV): quirks, all-or-nothing, idempotence."""

import json
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from analysis.distributions import build_crosstab
from analysis.specs import Source as LabelSource
from analysis.specs import parse_spec
from annotate.demo import seed_demo
from annotate.models import (
    Annotation,
    AnnotationLabel,
    Assignment,
    Category,
    FinalLabel,
    FinalRecordLabel,
    Item,
    Project,
)
from dataset.exporting import iter_records
from dataset.formats import MAX_FILE_BYTES, parse_link
from dataset.importing import ImportFailed, Source, collect_sources, import_dataset
from mining.models import Issue, ProjectRepository, Repository

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "olf"
STUDY = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "open-llm-failures"
WRITTEN = (Repository, Issue, Item, FinalLabel, FinalRecordLabel, Annotation, Category)


def counts():
    return {model.__name__: model.objects.count() for model in WRITTEN}


def final_records(project):
    return (
        FinalRecordLabel.objects.filter(item__project=project).values("item", "record").distinct()
    )


def import_fixture(project, **options):
    return import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"), **options)


def test_fixture_folders_with_spaces_and_shared_links(project):
    result = import_fixture(project)

    assert result.files == 2 and result.records == 7 and result.issues == 6
    assert final_records(project).count() == 7
    assert Item.objects.filter(project=project, state=Item.State.SETTLED).count() == 6
    views = ProjectRepository.objects.filter(project=project).select_related("repository")
    repos = sorted((v.repository.owner, v.repository.name, v.group) for v in views)
    assert repos == [
        ("QwenLM", "Qwen2.5", "QwenLM"),
        ("QwenLM", "Qwen2.5-Math", "QwenLM"),
        ("meta-llama", "llama3", "meta-llama"),
    ]
    shared = Item.objects.get(issue__number=12, issue__repository__name="Qwen2.5")
    assert shared.issue.state == "open" and not shared.issue.fetched
    assert shared.metadata["model"] == "Qwen2.5" and shared.metadata["architecture"] == "Mixed"
    # Each record's file (inside the folder imported) and number there, for --layout study.
    assert [origin[:2] for origin in shared.metadata["origin"]] == [
        ["QwenLM/Qwen 2.5 /Qwen2dot5.json", 2],
        ["QwenLM/Qwen 2.5 /Qwen2dot5.json", 3],
    ]
    paths = dict(
        FinalRecordLabel.objects.filter(item=shared, dimension__key="symptom").values_list(
            "record", "category__path"
        )
    )
    # "Crash - CUDA Error -  Device Error" (a stray double space) matched the codebook.
    assert paths == {0: "Crash > CUDA Error > Device Error", 1: "Hang > Generation Process Stuck"}
    final = FinalLabel.objects.get(item=shared)
    assert final.provenance == "imported"


def test_reimporting_the_same_files_changes_nothing(project):
    import_fixture(project)
    before = counts()
    again = import_fixture(project)
    assert not again.changed
    assert counts() == before


def test_labels_none_creates_items_only(project):
    import_fixture(project, labels="none")
    assert Item.objects.filter(project=project).count() == 6
    assert not FinalLabel.objects.exists()
    assert not Item.objects.exclude(state=Item.State.OPEN).exists()


def test_labels_annotator_writes_that_members_annotations(project, cast):
    import_fixture(project, labels="annotator:annotator_a")
    annotation = Annotation.objects.get(
        item__issue__number=12, item__issue__repository__name="Qwen2.5"
    )
    assert annotation.annotator == cast["annotator_a"]
    assert AnnotationLabel.objects.filter(annotation=annotation).count() == 6
    assert Assignment.objects.filter(annotator=cast["annotator_a"], state="submitted").count() == 6
    assert not FinalLabel.objects.exists()
    # A second annotator with the same labels settles the items, as in the browser.
    import_fixture(project, labels="annotator:annotator_b")
    assert FinalLabel.objects.filter(provenance="unanimous").count() == 6
    assert Item.objects.filter(project=project, state=Item.State.SETTLED).count() == 6


def test_annotator_who_is_not_a_member_is_refused(project, cast):
    with pytest.raises(ImportFailed, match="not a member"):
        import_fixture(project, labels="annotator:outsider")
    assert counts()["Item"] == 0


def test_group_option_names_new_repositories(project):
    import_fixture(project, group="Open LLMs")
    views = ProjectRepository.objects.filter(project=project)
    assert set(views.values_list("group", flat=True)) == {"Open LLMs"}


def olf(records):
    return json.dumps(records).encode()


RECORD = {
    "number": 1,
    "link": "https://github.com/QwenLM/Qwen/issues/5",
    "status": "closed",
    "SYMPTOM": "Crash - CUDA Error - Out of Memory",
    "ROOT CAUSE": "Hardware and Resource Limitations - GPU Memory Insufficiency",
    "STAGE": "Inference",
    "model": "Qwen",
    "architecture": "Dense",
}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"number": 1, "link": ', "bad.json: broken JSON at line 1"),
        (olf([RECORD, {k: v for k, v in RECORD.items() if k != "STAGE"}]),
         "bad.json, record 2, field 'STAGE': missing"),
        (olf([{**RECORD, "SYMPTOM": "Crash - Meltdown"}]),
         "bad.json, record 1, field 'SYMPTOM': unknown category 'Crash - Meltdown'"),
        (olf([{**RECORD, "link": "https://gitlab.com/QwenLM/Qwen/issues/5"}]),
         "bad.json, record 1, field 'link': 'https://gitlab.com/QwenLM/Qwen/issues/5' is not a "
         "GitHub issue URL"),
        (olf([{**RECORD, "link": "https://github.com/QwenLM/Qwen/wiki/5"}]),
         "field 'link'"),
        (olf([{**RECORD, "status": "merged"}]), "field 'status': 'merged' is not one of"),
        (b"", "bad.json: the file is empty"),
        (b"  \n", "bad.json: the file is empty"),
        (b'{"link": "x"}', "bad.json: expected a JSON list of records"),
        (olf([]), "bad.json: the file holds no records"),
    ],
)  # fmt: skip
def test_malformed_input_is_refused_and_nothing_is_written(project, data, message):
    before = counts()
    good = Source(name="good.json", data=olf([{**RECORD, "link": RECORD["link"][:-1] + "9"}]))
    with pytest.raises(ImportFailed) as error:
        import_dataset(project=project, sources=[good, Source(name="bad.json", data=data)])
    assert message in str(error.value)
    assert counts() == before


def test_fifty_megabyte_file_is_refused_by_size_before_reading(project, tmp_path):
    big = tmp_path / "huge.json"
    with open(big, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: no 50 MB written to disk
    with pytest.raises(
        ImportFailed, match=r"huge.json: the file is 50.0 MB, over the import limit"
    ):
        collect_sources([big], "olf")
    with pytest.raises(ImportFailed, match="over the import limit"):
        import_dataset(
            project=project, sources=[Source(name="m.json", data=b" " * (MAX_FILE_BYTES + 1))]
        )
    assert counts()["Item"] == 0


def test_contradicting_a_stored_final_label_is_an_error(project, tmp_path):
    import_fixture(project)
    changed = json.loads((FIXTURES / "meta-llama" / "llama 3" / "meta-llama3.json").read_text())
    changed[0]["STAGE"] = "Fine-tuning"
    before = counts()
    with pytest.raises(ImportFailed, match=r"record 1, field 'link': .*llama3/issues/101 already"):
        import_dataset(project=project, sources=[Source(name="c.json", data=olf(changed))])
    assert counts() == before


def test_add_categories_extends_the_codebook(project):
    version = project.codebook_version
    data = olf([{**RECORD, "SYMPTOM": "Crash - Meltdown  -  Core Dump"}])
    result = import_dataset(
        project=project, sources=[Source(name="n.json", data=data)], add_categories=True
    )
    assert result.categories_added == [
        "symptom: Crash > Meltdown",
        "symptom: Crash > Meltdown > Core Dump",
    ]
    leaf = Category.objects.get(path="Crash > Meltdown > Core Dump")
    assert leaf.depth == 3 and leaf.parent.parent.name == "Crash"
    project.refresh_from_db()
    assert project.codebook_version == version + 2


def test_jsonl_and_csv_imports_read_the_same_records(project):
    from dataset.formats import olf_fields, write_csv, write_jsonl

    records = json.loads((FIXTURES / "QwenLM" / "Qwen 2.5 " / "Qwen2dot5.json").read_text())
    fields = olf_fields(["symptom", "root_cause", "stage"], extra=False)
    jsonl = "".join(write_jsonl(records)).encode()
    csv_data = "".join(write_csv(records, fields)).encode()
    import_dataset(project=project, sources=[Source(name="a.jsonl", data=jsonl)], fmt="jsonl")
    before = counts()
    assert final_records(project).count() == 4
    again = import_dataset(
        project=project, sources=[Source(name="a.csv", data=csv_data)], fmt="csv"
    )
    assert not again.changed and counts() == before


# --- the command --------------------------------------------------------------------------


def test_command_imports_folders_and_creates_the_project_for_an_owner(cast, capsys):
    call_command("import_dataset", str(FIXTURES), project="fresh", format="olf", owner="owner")
    out = capsys.readouterr().out
    assert "Imported: 7 records on 6 issues from 2 file(s)" in out
    project = Project.objects.get(slug="fresh")
    assert project.memberships.get().user == cast["owner"]
    assert final_records(project).count() == 7
    call_command("import_dataset", str(FIXTURES / "QwenLM" / "Qwen 2.5 "), project="fresh")
    assert "Already imported, nothing changed" in capsys.readouterr().out


def test_command_without_owner_for_a_missing_project_says_so(db):
    with pytest.raises(CommandError, match="Pass --owner USERNAME"):
        call_command("import_dataset", str(FIXTURES), project="nope")


def test_command_reports_the_failing_record(project, tmp_path):
    bad = tmp_path / "my folder " / "bad.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps([RECORD, {**RECORD, "ROOT CAUSE": "Gremlins - Mischief"}]))
    with pytest.raises(CommandError) as error:
        call_command("import_dataset", str(tmp_path), project=project.slug)
    assert "Nothing imported" in str(error.value)
    assert f"{bad}, record 2, field 'ROOT CAUSE': unknown category 'Gremlins - Mischief'" in str(
        error.value
    )
    assert not Item.objects.exists()


def test_command_rejects_a_bad_labels_option(project):
    with pytest.raises(CommandError, match="--labels must be one of"):
        call_command("import_dataset", str(FIXTURES), project=project.slug, labels="some")


@pytest.mark.skipif(not STUDY.is_dir(), reason="the study's dataset lives in ../shared")
def test_study_dataset_gives_706_records_on_703_issues(project):
    sources = collect_sources([STUDY], "olf")
    assert len(sources) == 14
    import_dataset(project=project, sources=sources)
    assert final_records(project).count() == 706
    items = Item.objects.filter(project=project)
    assert items.count() == 703 and items.filter(state="settled").count() == 703
    repositories = Repository.objects.filter(issues__items__project=project).distinct()
    assert repositories.count() == 14
    views = ProjectRepository.objects.filter(project=project, repository__in=repositories)
    assert set(views.values_list("group", flat=True)) == {
        "deepseek-ai",
        "meta-llama",
        "QwenLM",
    }
    before = counts()
    assert not import_dataset(project=project, sources=sources).changed
    assert counts() == before


@pytest.mark.skipif(not STUDY.is_dir(), reason="the study's dataset lives in ../shared")
def test_study_dataset_next_to_the_demo_keeps_its_links_groups_and_counts(project):
    """The demo's synthetic issues carry the study's repository names: importing the
    study next to the demo must not attach a study item to one of them, rewrite a link,
    or bring the demo's groups into the study's RQ4."""
    demo = seed_demo(password="pw-demo-123").project  # 30 issues per repository
    demo_issues = set(Item.objects.filter(project=demo).values_list("issue_id", flat=True))
    assert len(demo_issues) > 200

    import_dataset(project=project, sources=collect_sources([STUDY], "olf"))

    study_links = sorted(
        parse_link(record["link"]).url
        for path in STUDY.rglob("*.json")
        for record in json.loads(path.read_text(encoding="utf-8"))
    )
    assert len(study_links) == 706
    assert sorted(record["link"] for record in iter_records(project)) == study_links
    assert final_records(project).count() == 706
    items = Item.objects.filter(project=project)
    assert items.count() == 703 and items.filter(state="settled").count() == 703
    assert not items.filter(issue_id__in=demo_issues).exists()
    assert not items.filter(issue__fetched=True).exists()
    rq4 = build_crosstab(
        project=project,
        rows=parse_spec("group"),
        cols=parse_spec("dim:symptom@1"),
        source=LabelSource("final"),
    )
    assert sorted(rq4.rows) == ["QwenLM", "deepseek-ai", "meta-llama"]
    assert rq4.total == 706


# --- the API and the upload page ----------------------------------------------------------


def upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/json")


def run_job(response):
    """The job an import request queued, run as the worker would; its reply after."""
    from annotate.models import ImportJob
    from dataset.tasks import run_import_task

    assert response.status_code == 202, response.content
    run_import_task(job_id=response.json()["id"])
    return ImportJob.objects.get(pk=response.json()["id"])


def test_api_import_by_owner(project, cast, api_for):
    url = reverse("api-import", args=[project.slug])
    data = (FIXTURES / "meta-llama" / "llama 3" / "meta-llama3.json").read_bytes()
    job = run_job(
        api_for(cast["owner"]).post(
            url, {"files": [upload("l.json", data)], "format": "olf"}, format="multipart"
        )
    )
    assert job.result["records"] == 3 and job.result["changed"]
    again = run_job(api_for(cast["owner"]).post(url, {"files": [upload("l.json", data)]}))
    assert again.status == "succeeded" and not again.result["changed"]


def test_api_import_errors_are_the_jobs_and_write_nothing(project, cast, api_for):
    url = reverse("api-import", args=[project.slug])
    job = run_job(
        api_for(cast["owner"]).post(url, {"files": [upload("b.json", b"[{")]}, format="multipart")
    )
    assert job.status == "failed"
    assert "b.json: broken JSON" in job.error
    assert not Item.objects.exists()


def test_api_import_refuses_a_file_over_the_limit(project, cast, api_for):
    url = reverse("api-import", args=[project.slug])
    big = upload("big.json", b" " * (MAX_FILE_BYTES + 1))
    response = api_for(cast["owner"]).post(url, {"files": [big]}, format="multipart")
    assert response.status_code == 400
    assert "over the import limit" in response.json()["fields"]["files"][0]


@pytest.mark.parametrize(
    ("who", "code"), [("lead", 403), ("annotator_a", 403), ("outsider", 404), (None, 401)]
)
def test_api_import_is_for_owners_only(project, cast, api_for, who, code):
    url = reverse("api-import", args=[project.slug])
    client = api_for(cast[who] if who else None)
    response = client.post(url, {"files": [upload("x.json", olf([RECORD]))]}, format="multipart")
    assert response.status_code == code
    assert not Item.objects.exists()


def test_upload_page_refuses_a_bad_labels_option_at_once(project, cast, client_for):
    url = reverse("dataset-import", args=[project.slug])
    response = client_for(cast["owner"]).post(
        url, {"files": [upload("q.json", olf([RECORD]))], "format": "olf", "labels": "all"}
    )
    assert response.status_code == 400
    assert "Enter a valid value" in response.content.decode()
    assert not Item.objects.exists()


@pytest.mark.parametrize(("who", "code"), [("lead", 403), ("annotator_a", 403), ("outsider", 404)])
def test_upload_page_is_for_owners(project, cast, client_for, who, code):
    assert (
        client_for(cast[who]).get(reverse("dataset-import", args=[project.slug])).status_code
        == code
    )


def test_collect_sources_names_a_missing_path(tmp_path):
    with pytest.raises(ImportFailed, match="no such file or folder"):
        collect_sources([tmp_path / "absent"], "olf")
    os.mkdir(tmp_path / "empty dir ")
    with pytest.raises(ImportFailed, match="no .json files"):
        collect_sources([tmp_path / "empty dir "], "olf")
