"""The fix in the exports (dataset/fixes.py): `fixed`, `time_to_fix` and `fixes` in olf, JSONL
and CSV and in the release's Parquet files; unknown when never fetched or unreadable."""

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dataset.exporting import stream_export
from mining.models import FixLink, Issue, Repository
from tests.builders import label_both, record
from tests.factories import IssueFactory, ItemFactory

CREATED = datetime(2024, 1, 1, 12, tzinfo=UTC)


def link(issue, kind, ref, *, merged_at=None, **fields) -> FixLink:
    values = {"title": f"PR {ref}", "url": f"https://github.com/o/r/pull/{ref}", "state": "OPEN"}
    values.update(merged=merged_at is not None if kind != "referencing_commit" else None)
    values.update(additions=10, deletions=2, files_changed=1, **fields)
    if merged_at is not None and kind != "referencing_commit":
        values["state"] = "MERGED"
    return FixLink.objects.create(issue=issue, kind=kind, ref=ref, merged_at=merged_at, **values)


def settled(project, cast, **issue_fields):
    issue = IssueFactory(created_at=CREATED, **issue_fields)
    item = ItemFactory(project=project, issue=issue)
    assert label_both(item, cast, [record()], [record()]) == "settled"
    return issue


@pytest.fixture
def issues(project, cast):
    """Fixed (two merges: the first counts), synced without a fix, never synced."""
    fixed = settled(project, cast, number=1, fixes_synced_at=CREATED)
    link(fixed, "closing_pr", "o/r#7", merged_at=CREATED + timedelta(days=9, hours=6))
    link(fixed, "closing_pr", "o/r#5", merged_at=CREATED + timedelta(days=3))
    link(fixed, "referencing_commit", "a" * 40, merged_at=CREATED + timedelta(days=1))
    unfixed = settled(project, cast, number=2, fixes_synced_at=CREATED)
    link(unfixed, "closing_pr", "o/r#9")  # open, never merged: not a fix
    settled(project, cast, number=3)
    return fixed, unfixed


def jsonl(project) -> dict[int, dict]:
    rows = [json.loads(line) for line in "".join(stream_export(project, "jsonl")).splitlines()]
    return {row["issue"]: row for row in rows}


def test_jsonl_carries_fixed_time_to_fix_and_the_links(project, issues):
    rows = jsonl(project)

    assert rows[1]["fixed"] is True
    # Independent arithmetic: the first merged closing pull request, 3 days after creation.
    assert rows[1]["time_to_fix"] == 3.0
    assert [f["ref"] for f in rows[1]["fixes"]] == ["o/r#5", "o/r#7", "a" * 40]
    first = rows[1]["fixes"][0]
    assert first == {
        "kind": "closing_pr",
        "ref": "o/r#5",
        "url": "https://github.com/o/r/pull/o/r#5",
        "title": "PR o/r#5",
        "state": "MERGED",
        "merged": True,
        "merged_at": "2024-01-04T12:00:00+00:00",
        "files_changed": 1,
        "additions": 10,
        "deletions": 2,
    }
    assert (rows[2]["fixed"], rows[2]["time_to_fix"], len(rows[2]["fixes"])) == (False, None, 1)
    assert (rows[3]["fixed"], rows[3]["time_to_fix"], rows[3]["fixes"]) == (None, None, [])


def test_csv_and_olf_carry_the_fix_columns(project, issues):
    table = list(csv.DictReader(io.StringIO("".join(stream_export(project, "csv")))))
    by_issue = {row["issue"]: row for row in table}
    assert by_issue["1"]["fixed"] == "true" and by_issue["1"]["time_to_fix"] == "3.0"
    assert json.loads(by_issue["1"]["fixes"])[0]["ref"] == "o/r#5"
    assert by_issue["3"]["fixed"] == "" and by_issue["3"]["fixes"] == "[]"

    olf = json.loads("".join(stream_export(project, "olf")))
    assert sorted(r["fixed"] is True for r in olf) == [False, False, True]
    assert all({"fixed", "time_to_fix", "fixes"} <= set(r) for r in olf)


def test_an_unreadable_repository_exports_no_fix(project, issues):
    fixed, _ = issues
    Repository.objects.filter(pk=fixed.repository_id).update(private=None)
    row = jsonl(project)[1]
    assert (row["fixed"], row["time_to_fix"], row["fixes"]) == (None, None, [])


def test_the_export_reads_the_links_in_one_query_per_chunk(project, cast, issues):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            for _ in stream_export(project, "jsonl", "all"):
                pass
        return len(captured)

    few = queries()
    for number in range(10, 30):
        issue = settled(project, cast, number=number, fixes_synced_at=CREATED)
        link(issue, "closing_pr", f"o/r#{number}", merged_at=CREATED + timedelta(days=number))
    # dimensions, the streamed rows, and the chunk's links (the rule on the links' own
    # repositories, mining.access.visible_links_q, is inside that query)
    assert queries() == few == 3


def test_a_release_parquet_types_the_fix_columns(
    project, issues, api_for, cast, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    owner = api_for(cast["owner"])
    assert (
        owner.post(reverse("api-releases", args=[project.slug]), {}, format="json").status_code
        == 201
    )
    download = owner.get(reverse("api-release-download", args=[project.slug, "1"]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    name = next(
        n for n in archive.namelist() if n.endswith("huggingface/data/final-00000-of-00001.parquet")
    )
    table = pq.read_table(io.BytesIO(archive.read(name)))
    types = {field.name: str(field.type) for field in table.schema}
    assert types["fixed"] == "bool" and types["time_to_fix"] == "double"
    assert types["fixes"].startswith("list<element: struct<kind: string")
    rows = {row["issue"]: row for row in table.to_pylist()}
    assert rows[1]["fixed"] is True and rows[1]["time_to_fix"] == 3.0
    assert rows[1]["fixes"][0]["merged"] is True and rows[3]["fixes"] == []
    assert Issue.objects.filter(fixes_synced_at__isnull=False).count() == 2


def test_a_link_of_a_private_repository_the_project_may_not_read_is_not_exported(project, issues):
    fixed, _ = issues
    Repository.objects.create(owner="acme", name="secret", private=True)
    link(fixed, "referencing_pr", "acme/secret#9", title="Patch acme's CVE-2024-0001")
    link(
        fixed,
        "referencing_commit",
        "b" * 40,
        url="https://github.com/acme/secret/commit/" + "b" * 40,
        title="Secret commit headline",
    )

    text = "".join(stream_export(project, "jsonl"))
    assert "CVE-2024-0001" not in text and "Secret commit headline" not in text
    row = jsonl(project)[1]
    assert [f["ref"] for f in row["fixes"]] == ["o/r#5", "o/r#7", "a" * 40]
    assert (row["fixed"], row["time_to_fix"]) == (True, 3.0)
