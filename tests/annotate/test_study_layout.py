"""`export_dataset --format olf --layout study -o DIR` (issue #20): final labels written back
in the study's layout, one file per model under group folders, so that the study's analysis
scripts run unchanged; a round trip returns the same files byte for byte."""

import filecmp
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotate.models import FinalRecordLabel, Item
from dataset.importing import collect_sources, import_dataset
from mining.models import ProjectRepository
from tests.builders import LabelBuilder, record

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "study_layout"


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json"))


def _export(project, folder: Path) -> str:
    err = StringIO()
    call_command(
        "export_dataset", "--project", project.slug, "--format", "olf",
        "--layout", "study", "-o", str(folder), stderr=err,
    )  # fmt: skip
    return err.getvalue()


def test_a_round_trip_returns_the_same_files_byte_for_byte(project, tmp_path):
    import_dataset(project=project, sources=collect_sources([FIXTURE], "olf"))
    out = tmp_path / "out"
    assert "Wrote 3 files" in _export(project, out)
    assert (
        _files(out)
        == _files(FIXTURE)
        == [
            "Lab/Coder/Lab-Coder.json",
            "Lab/V3 /Lab-V3.json",  # the folder's trailing space kept
            "Other Org/tiny/other-tiny.json",
        ]
    )
    for name in _files(FIXTURE):
        assert filecmp.cmp(FIXTURE / name, out / name, shallow=False), name
    # The double-spaced category came back as the file spelled it, though stored normalised.
    coder = json.loads((out / "Lab/Coder/Lab-Coder.json").read_text())
    assert (
        coder[0]["ROOT CAUSE"] == "Environment Compatibility Issues -  Architecture Compatibility"
    )


def test_items_keep_where_each_record_came_from(project):
    import_dataset(project=project, sources=collect_sources([FIXTURE], "olf"))
    two = Item.objects.get(project=project, issue__number=190)
    assert two.metadata["origin"][0] == ["Lab/V3 /Lab-V3.json", 2]
    assert two.metadata["origin"][1][:2] == ["Lab/V3 /Lab-V3.json", 3]
    assert two.metadata["model"] == "Lab-V3"


def test_a_relabeled_record_is_written_as_labeled_not_as_first_spelled(project, tmp_path):
    import_dataset(project=project, sources=collect_sources([FIXTURE], "olf"))
    item = Item.objects.get(project=project, issue__number=12)
    label = FinalRecordLabel.objects.get(item=item, dimension__key="root_cause")
    builder = LabelBuilder(project)
    label.category = builder.category(
        "root_cause", "Data and Computation Issues > Quantization Compatibility Issues"
    )
    label.save()
    _export(project, tmp_path / "out")
    coder = json.loads((tmp_path / "out/Lab/Coder/Lab-Coder.json").read_text())
    assert coder[0]["number"] == 1
    assert (
        coder[0]["ROOT CAUSE"] == "Data and Computation Issues - Quantization Compatibility Issues"
    )


def test_records_labeled_here_go_to_group_and_model_after_the_numbered_ones(project, tmp_path):
    import_dataset(project=project, sources=collect_sources([FIXTURE], "olf"))
    builder = LabelBuilder(project)
    mined = builder.item()
    builder.settle(mined, [record()])
    ProjectRepository.objects.filter(project=project, repository=mined.issue.repository).update(
        group="Mined"
    )
    _export(project, tmp_path / "out")
    name = mined.issue.repository.name
    written = json.loads((tmp_path / "out" / "Mined" / name / f"{name}.json").read_text())
    assert [r["number"] for r in written] == [1]
    assert written[0]["link"].endswith(f"/issues/{mined.issue.number}")


@pytest.mark.parametrize("origin", ["../../escape.json", "/etc/passwd.json", "a/../b.json", ""])
def test_an_origin_that_would_leave_the_folder_is_not_followed(project, tmp_path, origin):
    import_dataset(project=project, sources=collect_sources([FIXTURE], "olf"))
    item = Item.objects.get(project=project, issue__number=1)
    item.metadata = {**item.metadata, "origin": [[origin, 1]]}
    item.save()
    out = tmp_path / "deep" / "out"
    _export(project, out)
    assert not (tmp_path / "escape.json").exists()
    assert all(not name.startswith("..") for name in _files(out))
    assert "other-org/tiny/tiny.json" in _files(out)  # group/model: a record without origin


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "jsonl", "--layout", "study", "-o", "X"], "use --format olf"),
        (["--format", "olf", "--labels", "all", "--layout", "study", "-o", "X"], "final labels"),
        (["--format", "olf", "--layout", "study"], "name it with -o DIR"),
    ],
)
def test_bad_layout_arguments_are_named(project, tmp_path, args, message):
    args = [str(tmp_path / "x") if a == "X" else a for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("export_dataset", "--project", project.slug, *args)


def test_a_non_empty_folder_is_refused_and_left_alone(project, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not an empty folder"):
        _export(project, tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_files_of_one_name_from_different_folders_stay_apart(project, tmp_path):
    """`import_dataset a/data.json b/data.json`: each file comes back as itself, not both
    merged into one `data.json` with two records numbered 1."""
    tiny = FIXTURE / "Other Org" / "tiny" / "other-tiny.json"
    given = tmp_path / "in"
    for folder, issue in (("a", "1"), ("b", "2")):
        (given / folder).mkdir(parents=True)
        text = tiny.read_text().replace("tiny/issues/1", f"tiny/issues/{issue}")
        (given / folder / "data.json").write_text(text)
    sources = collect_sources([given / "a" / "data.json", given / "b" / "data.json"], "olf")
    import_dataset(project=project, sources=sources)
    out = tmp_path / "out"
    assert "Wrote 2 files" in _export(project, out)
    assert _files(out) == ["a/data.json", "b/data.json"]
    for name in _files(out):
        assert filecmp.cmp(given / name, out / name, shallow=False), name
