"""Exporting: the study's format round trip, pseudonymised annotator labels, streaming."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate.access import pseudonym
from annotate.models import Item
from dataset.exporting import stream_export
from dataset.formats import join_path, split_path
from dataset.importing import Source, collect_sources, import_dataset
from tests.builders import annotate_symptom

from .test_import import FIXTURES, RECORD, olf

STUDY_FIELDS = ("link", "status", "SYMPTOM", "ROOT CAUSE", "STAGE", "model", "architecture")


def normalised(record):
    row = {k: record[k] for k in STUDY_FIELDS}
    for key in ("SYMPTOM", "ROOT CAUSE", "STAGE"):
        row[key] = join_path(split_path(row[key]))
    return tuple(sorted(row.items()))


def fixture_records():
    records = []
    for path in sorted(FIXTURES.rglob("*.json")):
        records.extend(json.loads(path.read_text()))
    return records


def export(project, fmt="olf", labels="final"):
    return "".join(stream_export(project, fmt, labels))


def test_round_trip_gives_the_same_records(project):
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    exported = json.loads(export(project))
    assert sorted(map(normalised, exported)) == sorted(map(normalised, fixture_records()))
    assert [r["number"] for r in exported] == list(range(1, 8))
    assert {r["provenance"] for r in exported} == {"imported"}
    # And the export imports back into a new project unchanged.
    again = import_dataset(
        project=project, sources=[Source(name="e.json", data=export(project).encode())]
    )
    assert not again.changed


def test_jsonl_and_csv_carry_provenance_and_record_index(project):
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    lines = [json.loads(line) for line in export(project, "jsonl").splitlines()]
    shared = [r for r in lines if r["link"].endswith("Qwen2.5/issues/12")]
    assert [r["record"] for r in shared] == [0, 1]
    assert {r["source"] for r in lines} == {"final"}
    assert shared[0]["repository"] == "QwenLM/Qwen2.5" and shared[0]["group"] == "QwenLM"
    rows = list(csv.DictReader(io.StringIO(export(project, "csv"))))
    assert len(rows) == 7
    assert rows[0]["provenance"] == "imported" and rows[0]["out_of_scope"] == "false"


@pytest.fixture
def labeled(project, cast):
    """Imported final labels, plus an open item both annotators labeled differently."""
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    import_dataset(
        project=project, sources=[Source(name="o.json", data=olf([RECORD]))], labels="none"
    )
    item = Item.objects.get(issue__number=5)
    annotate_symptom(item, cast["annotator_a"], "Crash > CUDA Error > Out of Memory")
    annotate_symptom(item, cast["annotator_b"], "Hang > Generation Process Stuck")
    settled = Item.objects.get(issue__number=101)
    annotate_symptom(settled, cast["annotator_a"], "Hang", out_of_scope=True)
    return item


def test_labels_all_puts_pseudonymous_annotator_labels_beside_final_ones(project, cast, labeled):
    text = export(project, "jsonl", "all")
    assert "annotator_a" not in text and "annotator_b" not in text
    rows = [json.loads(line) for line in text.splitlines()]
    open_rows = [r for r in rows if r["item"] == labeled.pk]
    a = pseudonym(project.pk, cast["annotator_a"].pk)
    b = pseudonym(project.pk, cast["annotator_b"].pk)
    assert {r["source"]: r["SYMPTOM"] for r in open_rows} == {
        a: "Crash - CUDA Error - Out of Memory",
        b: "Hang - Generation Process Stuck",
    }
    assert all(r["provenance"] == "annotation" for r in open_rows)
    out = [r for r in rows if r["out_of_scope"]]
    assert [(r["source"], r["SYMPTOM"]) for r in out] == [(a, None)]
    assert sum(r["source"] == "final" for r in rows) == 7
    assert a.startswith("annotator-") and a == pseudonym(project.pk, cast["annotator_a"].pk)
    assert pseudonym(project.pk + 1, cast["annotator_a"].pk) != a


def test_labels_final_never_shows_annotator_labels(project, labeled):
    text = export(project, "jsonl", "final")
    assert "issues/5" not in text and "annotator-" not in text


def test_export_runs_a_constant_number_of_queries(project):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            for _ in stream_export(project, "jsonl", "all"):
                pass
        return len(captured)

    import_dataset(project=project, sources=[Source(name="o.json", data=olf([RECORD]))])
    small = queries()
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    assert queries() == small == 2  # the codebook's dimensions, then one streamed query


def test_api_export_streams_with_a_constant_query_count(
    project, cast, api_for, django_assert_max_num_queries
):
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    url = reverse("api-export", args=[project.slug])
    client = api_for(cast["owner"])
    with django_assert_max_num_queries(4):
        response = client.get(url, {"format": "csv", "labels": "all"})
        body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="llm-failures-all.csv"' in response["Content-Disposition"]
    assert len(list(csv.DictReader(io.StringIO(body)))) == 7


@pytest.mark.parametrize(
    ("who", "labels", "code"),
    [
        ("owner", "all", 200),
        ("lead", "all", 200),
        ("annotator_a", "final", 200),
        ("annotator_a", "all", 403),
        ("outsider", "final", 404),
        (None, "final", 401),
    ],
)
def test_export_permissions(project, cast, api_for, who, labels, code):
    url = reverse("api-export", args=[project.slug])
    response = api_for(cast[who] if who else None).get(url, {"format": "olf", "labels": labels})
    assert response.status_code == code
    if code == 200:
        assert json.loads(b"".join(response.streaming_content)) == []
    else:
        assert set(response.json()) == {"detail", "code", "fields"}


def test_export_bad_parameters_give_field_messages(project, cast, api_for):
    url = reverse("api-export", args=[project.slug])
    response = api_for(cast["owner"]).get(url, {"format": "xml", "labels": "some"})
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"format", "labels"}
    assert "xml" in fields["format"][0]


def test_export_command_writes_a_file(project, tmp_path):
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    target = tmp_path / "out.json"
    call_command("export_dataset", "--project", project.slug, "--format", "olf", "-o", str(target))
    records = json.loads(target.read_text())
    assert sorted(map(normalised, records)) == sorted(map(normalised, fixture_records()))


def test_export_command_to_stdout_and_unknown_project(project, capsys):
    from django.core.management import CommandError

    call_command("export_dataset", "--project", project.slug, "--format", "csv")
    assert capsys.readouterr().out.startswith("number,link,status,SYMPTOM,ROOT CAUSE,STAGE")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_dataset", "--project", "nope", "--format", "csv")
