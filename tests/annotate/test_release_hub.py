"""Releases others can load (issue #20): the Hugging Face folder loads with `datasets`, and
CITATION.cff and .zenodo.json carry the project's license and authors; `publish_release`
writes the folder and, without a token, prints the upload command instead of uploading."""

import io
import json
import zipfile
from io import StringIO

import pyarrow.parquet as pq
import pytest
import yaml
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotate.access import pseudonym
from annotate.models import Item
from dataset.importing import collect_sources, import_dataset
from tests.builders import annotate_symptom

from .test_import import FIXTURES

PREFIX = "llm-failures-1/"
ORCID = "0000-0002-1825-0097"  # ORCID's own documented example iD (valid check digit)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def archive(project, cast, api_for):
    return released_archive(project, cast, api_for)


def released_archive(project, cast, api_for) -> zipfile.ZipFile:
    """Release 1 of `project` (authors, license, imported records, a settled item), its zip."""
    project.license = "CC0-1.0"
    project.description = "Failures of LLM inference engines <mined from GitHub>."
    project.authors = [
        {"family": "Lovelace", "given": "Ada", "affiliation": "Analytical Engines", "orcid": ORCID},
        {"family": "Hopper", "given": "Grace", "affiliation": "", "orcid": ""},
    ]
    project.save()
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    settled = Item.objects.get(issue__number=101)
    annotate_symptom(settled, cast["annotator_a"], "Hang")
    annotate_symptom(settled, cast["annotator_b"], "Hang")
    owner = api_for(cast["owner"])
    response = owner.post(reverse("api-releases", args=[project.slug]), {}, format="json")
    assert response.status_code == 201, response.content
    download = owner.get(reverse("api-release-download", args=[project.slug, "1"]))
    return zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))


def _jsonl(archive, name):
    return [json.loads(line) for line in archive.read(PREFIX + name).decode().splitlines()]


def test_the_hugging_face_folder_loads_with_datasets_and_equals_the_jsonl_export(
    archive, tmp_path, monkeypatch, project, cast
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    folder = tmp_path / "release"
    archive.extractall(folder)
    from datasets import load_dataset

    hub = folder / PREFIX / "huggingface"
    final = load_dataset(str(hub), "final")["train"]
    expected = _jsonl(archive, "final.jsonl")
    assert final.num_rows == len(expected) == 7
    assert final.to_list() == expected  # every column, every value, in the export's order
    annotations = load_dataset(str(hub), "annotations")["train"]
    assert annotations.num_rows == 2
    assert set(annotations["source"]) == {
        pseudonym(project.pk, cast["annotator_a"].pk),
        pseudonym(project.pk, cast["annotator_b"].pk),
    }
    assert "annotator_a" not in json.dumps(annotations.to_list())


def test_parquet_columns_keep_their_types_when_a_column_is_empty(archive):
    table = pq.read_table(
        io.BytesIO(archive.read(PREFIX + "huggingface/data/final-00000-of-00001.parquet"))
    )
    types = {field.name: str(field.type) for field in table.schema}
    assert types["issue"] == "int64" and types["record"] == "int64"
    assert types["out_of_scope"] == "bool"
    assert types["SYMPTOM"] == "string" and types["model"] == "string"


def test_the_dataset_card_has_the_hubs_metadata(archive):
    card = archive.read(PREFIX + "huggingface/README.md").decode()
    assert card.startswith("---\n")
    metadata = yaml.safe_load(card.split("---\n")[1])
    assert metadata["license"] == "cc0-1.0"
    assert metadata["task_categories"] == ["text-classification"]
    assert metadata["size_categories"] == ["n<1K"]
    assert [c["config_name"] for c in metadata["configs"]] == ["final", "annotations"]
    assert metadata["configs"][0]["default"] is True
    assert "@misc{llm_failures_v1," in card
    assert "author = {Lovelace, Ada and Hopper, Grace}" in card
    assert "`SYMPTOM`: the Symptom category path" in card


def test_citation_cff_names_the_authors_license_and_version(archive):
    cff = yaml.safe_load(archive.read(PREFIX + "CITATION.cff"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    for key in ("message", "title", "authors", "date-released", "version", "license"):
        assert cff[key], key
    assert cff["license"] == "CC0-1.0" and cff["version"] == "1"
    assert cff["authors"][0] == {
        "family-names": "Lovelace",
        "given-names": "Ada",
        "affiliation": "Analytical Engines",
        "orcid": f"https://orcid.org/{ORCID}",
    }
    assert cff["authors"][1] == {"family-names": "Hopper", "given-names": "Grace"}
    assert archive.read(PREFIX + "huggingface/CITATION.cff") == archive.read(
        PREFIX + "CITATION.cff"
    )


def test_zenodo_metadata_escapes_the_description(archive):
    zenodo = json.loads(archive.read(PREFIX + ".zenodo.json"))
    assert zenodo["upload_type"] == "dataset" and zenodo["license"] == "cc0-1.0"
    assert zenodo["creators"][0] == {
        "name": "Lovelace, Ada",
        "affiliation": "Analytical Engines",
        "orcid": ORCID,
    }
    assert "&lt;mined from GitHub&gt;" in zenodo["description"]
    assert zenodo["version"] == "1" and len(zenodo["publication_date"]) == 10


def test_without_authors_the_project_itself_is_the_author(project, cast, api_for):
    response = api_for(cast["owner"]).post(
        reverse("api-releases", args=[project.slug]), {}, format="json"
    )
    assert response.status_code == 201
    download = api_for(cast["owner"]).get(reverse("api-release-download", args=[project.slug, "1"]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert yaml.safe_load(archive.read(PREFIX + "CITATION.cff"))["authors"] == [
        {"name": "LLM failures"}
    ]
    names = {n.removeprefix(PREFIX) for n in archive.namelist()}
    assert "huggingface/data/final-00000-of-00001.parquet" in names
    assert "huggingface/data/annotations-00000-of-00001.parquet" not in names  # none to give


def test_publish_release_writes_the_folder_and_prints_the_upload_command_without_a_token(
    archive, project, tmp_path, monkeypatch
):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    out = StringIO()
    target = tmp_path / "to-hub"
    call_command(
        "publish_release",
        "--project",
        project.slug,
        "--version",
        "1",
        "--to",
        "huggingface",
        "lab/llm-failures",
        "--out",
        str(target),
        stdout=out,
    )
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "CITATION.cff",
        "README.md",
        "data/annotations-00000-of-00001.parquet",
        "data/final-00000-of-00001.parquet",
    ]
    text = out.getvalue()
    assert "nothing was uploaded" in text
    assert f"hf upload lab/llm-failures {target} . --repo-type dataset" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--version", "9", "--to", "huggingface", "lab/x"], "has no release '9'; its releases: 1"),
        (["--version", "1", "--to", "zenodo", "lab/x"], "Unknown target 'zenodo'"),
        (["--version", "1", "--to", "huggingface", "no owner"], "not a Hub repository id"),
        (["--version", "1", "--to", "huggingface", "x"], "has no owner"),
    ],
)
def test_publish_release_refuses_bad_arguments_by_name(archive, project, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "publish_release", "--project", project.slug, "--out", str(tmp_path / "o"), *args
        )
    assert not (tmp_path / "o").exists()


def test_an_unreachable_hub_is_a_clear_error(archive, project, tmp_path, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(CommandError, match=f"Uploading to http://127.0.0.1:{port} failed"):
        call_command(
            "publish_release",
            "--project",
            project.slug,
            "--version",
            "1",
            "--to",
            "huggingface",
            "lab/x",
            "--out",
            str(tmp_path / "o"),
            stdout=StringIO(),
        )


def _bibtex_fields(entry: str) -> dict[str, str]:
    """The fields of one BibTeX entry, read as BibTeX reads them: every brace counts."""
    assert entry.startswith("@misc{")
    body = entry[len("@misc{") :]
    depth, start, name, fields = 0, 0, "", {}
    for index, ch in enumerate(body):
        assert depth >= 0, f"text after the entry closed: {body[index:]!r}"
        if ch == "{":
            depth += 1
            if depth == 1:
                start, name = index + 1, body[:index].rsplit(",", 1)[-1].split("=")[0].strip()
        elif ch == "}":
            depth -= 1
            if depth == 0:
                fields[name] = body[start:index]
    assert depth == -1, "the entry's braces do not balance"
    return fields


def test_hostile_names_cannot_break_the_bibtex_entry():
    from datetime import UTC, datetime

    from annotate.models import Project
    from dataset.hub import _bibtex

    released = datetime(2026, 12, 3, tzinfo=UTC)
    hostile = Project(
        name="Evil} @misc{x, title={pwn % \\ & # _",
        slug="evil",
        authors=[{"family": "O}Brien", "given": "Ann and Bo", "affiliation": "", "orcid": ""}],
    )
    fields = _bibtex_fields(_bibtex(hostile, "1.0", released))
    assert set(fields) == {"title", "author", "year", "note"}
    assert "@misc" in fields["title"] and "pwn" in fields["title"]
    # One author: 'and' inside a name is braced, so BibTeX does not split the list there.
    assert fields["author"].count(" and ") == 0
    # An organisation as the author is one name, braced whole.
    group = Project(name="Smith and Jones Lab", slug="s", authors=[])
    fields = _bibtex_fields(_bibtex(group, "1.0", released))
    assert fields["author"] == "{Smith and Jones Lab}"


def test_a_name_with_line_breaks_stays_one_heading_of_the_dataset_card():
    from datetime import UTC, datetime

    from annotate.models import Project
    from dataset.hub import dataset_card

    project = Project(name="Failures\n---\nlicense: mit", slug="f", description="", authors=[])
    card = dataset_card(
        project, "1", datetime(2026, 12, 3, tzinfo=UTC),
        columns=["number"], dimension_columns={}, rows={"final": 1},
    )  # fmt: skip
    front, body = card.split("\n---\n", 1)
    assert yaml.safe_load(front.removeprefix("---\n"))["pretty_name"] == project.name
    assert "\n# Failures --- license: mit (release 1)\n" in body
    assert "\nlicense: mit" not in body


def test_the_release_methods_section_names_coders_only_by_their_pseudonyms(archive, project, cast):
    """The release's annotations name annotators by pseudonym; its methods section, naming
    the coders, must not publish their usernames beside them."""
    for name in ("methods.md", "methods.tex"):
        text = archive.read(PREFIX + name).decode().replace("\\", "")  # Markdown/TeX escapes
        for role in ("annotator_a", "annotator_b"):
            user = cast[role]
            assert user.username not in text, name
            assert pseudonym(project.pk, user.pk) in text, name
