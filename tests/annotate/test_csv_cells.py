"""CSV formula injection (issue #12): every CSV download guards text cells that a
spreadsheet would run as a formula, numbers stay numbers, and the dataset CSV imports back
to the same labels."""

import csv
import io
import json

import pytest

from annotate.csv_cells import guard, unguard
from annotate.models import FinalRecordLabel, Role
from annotate.projects import services
from dataset.exporting import stream_export
from dataset.importing import Source, import_dataset

FORMULAS = ["=1+1", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=x", '=HYPERLINK("http://e")']


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_gets_one_quote_and_comes_back(text):
    assert guard(text) == "'" + text
    assert unguard(guard(text)) == text


@pytest.mark.parametrize(
    "value", [3, -1, 0.5, -1.5, "-1.5", "+2", "-3e-2", "1.5", "", "Crash", "a=b", "x-y"]
)
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert guard(value) == value
    assert unguard(value) == value if isinstance(value, str) else True


@pytest.mark.parametrize("text", ["'=x", "''@y", "'plain", "'-1.5", "'"])
def test_quotes_already_there_survive_the_round_trip(text):
    assert unguard(guard(text)) == text


def test_analysis_table_csv_guards_text_cells_and_keeps_numbers():
    from analysis.exports import to_csv

    text = to_csv(["name", "kappa", "n"], [["=cmd|'/C calc'!A0", -0.25, 3], ["@x", None, -4]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=cmd|'/C calc'!A0", "-0.250000", "3"]
    assert rows[2] == ["'@x", "", "-4"]


def test_distribution_table_download_guards_a_formula_category(project, cast, client_for):
    from annotate.models import Category
    from tests.builders import bulk_final_records

    symptom = project.dimensions.get(key="symptom")
    Category.objects.create(dimension=symptom, name="=2+5", path="=2+5", depth=1, order=90)
    bulk_final_records(
        project,
        [
            {
                "link": "https://github.com/o/r/issues/1", "status": "closed", "SYMPTOM": "=2+5",
                "ROOT CAUSE": "Configuration and Parameter Setting Errors - "
                "Inference Configuration Error", "STAGE": "Inference", "model": "m",
                "architecture": "Dense",
            }
        ],
    )  # fmt: skip
    response = client_for(cast["lead"]).get(
        f"/projects/{project.slug}/distributions/tables/rq1.csv"
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    # The guarded name, then numbers left as numbers (the count, its share, the share's CI).
    (row,) = [r for r in rows if r[0].endswith("=2+5")]
    assert row[:3] == ["'=2+5", "1", "100.000000"]
    assert all(not cell.startswith("'") for cell in row[1:])


HOSTILE = [
    {
        "link": "https://github.com/o/r/issues/1", "status": "closed",
        "SYMPTOM": "=HYPERLINK(\"http://evil\") - @child", "ROOT CAUSE": "+cause",
        "STAGE": "-stage", "model": "=cmd|' /C calc'!A0", "architecture": "-Dense",
    },
    {
        "link": "https://github.com/o/r/issues/2", "status": "open",
        "SYMPTOM": "'=already quoted", "ROOT CAUSE": "-1.5", "STAGE": "Inference",
        "model": "@model", "architecture": "'plain",
    },
]  # fmt: skip


def _final(project):
    return sorted(
        (label.item.issue.number, label.record, label.dimension.key, label.category.path)
        for label in FinalRecordLabel.objects.filter(item__project=project).select_related(
            "item__issue", "dimension", "category"
        )
    )


def test_dataset_csv_guards_formulas_and_imports_back_to_the_same_labels(project, cast, api_for):
    data = json.dumps(HOSTILE).encode()
    import_dataset(project=project, sources=[Source(name="h.json", data=data)], add_categories=True)
    exported = "".join(stream_export(project, "csv", "final"))
    rows = list(csv.DictReader(io.StringIO(exported)))
    first, second = rows
    assert first["SYMPTOM"] == '\'=HYPERLINK("http://evil") - @child'
    assert first["ROOT CAUSE"] == "'+cause" and first["STAGE"] == "'-stage"
    assert first["model"] == "'=cmd|' /C calc'!A0" and first["architecture"] == "'-Dense"
    assert second["SYMPTOM"] == "''=already quoted" and second["ROOT CAUSE"] == "-1.5"
    assert second["model"] == "'@model" and second["architecture"] == "'plain"
    assert first["record"] == "0" and first["number"] == "1" and first["item"].isdigit()
    for row in rows:
        for value in row.values():
            assert (
                not value or value[0] not in "=+@\t\r" and not (value[0] == "-" and value != "-1.5")
            )
    # The API's CSV is the same bytes.
    body = b"".join(
        api_for(cast["owner"])
        .get(f"/api/projects/{project.slug}/export/", {"format": "csv"})
        .streaming_content
    ).decode()
    assert body == exported
    # It imports back unchanged into this project and to the same labels in another one.
    again = import_dataset(
        project=project, sources=[Source(name="e.csv", data=exported.encode())], fmt="csv"
    )
    assert not again.changed
    other = services.create_project(name="Other", slug="other", owner=cast["owner"])
    services.add_member(project=other, username="lead", role=Role.LEAD)
    import_dataset(
        project=other,
        sources=[Source(name="e.csv", data=exported.encode())],
        fmt="csv",
        add_categories=True,
    )
    assert _final(other) == _final(project)
    from annotate.models import Item

    assert sorted(
        Item.objects.filter(project=other).values_list("metadata", flat=True), key=str
    ) == sorted(Item.objects.filter(project=project).values_list("metadata", flat=True), key=str)


def test_a_header_from_a_dimension_key_is_guarded_and_read_back():
    from dataset.formats import _read_csv, write_csv

    text = "".join(write_csv([{"link": "x", "-RISK": "=1"}], ["link", "-RISK"]))
    assert text.splitlines()[0] == "link,'-RISK"
    assert list(_read_csv(io.StringIO(text, newline=""), "t.csv")) == [{"link": "x", "-RISK": "=1"}]
