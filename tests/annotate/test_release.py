"""Releases: an immutable zip with final and pseudonymous labels, codebook, agreement, README
and a manifest of checksums; listed on a page and downloadable by API."""

import hashlib
import io
import json
import zipfile

import pytest
from django.urls import reverse

from annotate.access import pseudonym
from annotate.models import Item, Release
from dataset.importing import collect_sources, import_dataset
from tests.builders import annotate_symptom

from .test_import import FIXTURES


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Release archives go to a temporary folder, not the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def released(project, cast, api_for):
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    settled = Item.objects.get(issue__number=101)
    annotate_symptom(settled, cast["annotator_a"], "Hang")
    annotate_symptom(settled, cast["annotator_b"], "Hang")
    response = api_for(cast["owner"]).post(
        reverse("api-releases", args=[project.slug]), {"title": "First cut"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def archive_of(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_release_zip_holds_the_dataset_and_a_manifest_of_checksums(
    project, cast, api_for, released
):
    assert released["version"] == "1" and released["counts"]["final_records"] == 7
    url = reverse("api-release-download", args=[project.slug, "1"])
    response = api_for(cast["annotator_a"]).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    assert hashlib.sha256(data).hexdigest() == released["sha256"]
    archive = zipfile.ZipFile(io.BytesIO(data))
    prefix = "llm-failures-1/"
    names = {n.removeprefix(prefix) for n in archive.namelist()}
    assert names == {
        "final.olf.json",
        "final.jsonl",
        "final.csv",
        "annotations.jsonl",
        "codebook.json",
        "agreement.json",
        "methods.md",
        "methods.tex",
        "README.md",
        "manifest.json",
        "CITATION.cff",
        ".zenodo.json",
        "huggingface/README.md",
        "huggingface/CITATION.cff",
        "huggingface/data/final-00000-of-00001.parquet",
        "huggingface/data/annotations-00000-of-00001.parquet",
    }
    manifest = json.loads(archive.read(prefix + "manifest.json"))
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(archive.read(prefix + name)).hexdigest() == digest
    assert len(json.loads(archive.read(prefix + "final.olf.json"))) == 7
    codebook = json.loads(archive.read(prefix + "codebook.json"))
    assert codebook["version"] == project.codebook_version
    assert [d["key"] for d in codebook["dimensions"]] == ["symptom", "root_cause", "stage"]
    annotations = archive.read(prefix + "annotations.jsonl").decode()
    assert "annotator_a" not in annotations
    assert pseudonym(project.pk, cast["annotator_a"].pk) in annotations
    agreement = json.loads(archive.read(prefix + "agreement.json"))
    symptom = [r for r in agreement["rows"] if r["dimension"] == "symptom"]
    assert symptom and symptom[0]["percent_agreement"] == 1.0
    readme = archive.read(prefix + "README.md").decode()
    assert "final failure records: 7" in readme and "First cut" in readme


def test_releases_are_immutable_and_numbered(project, cast, api_for, released):
    client = api_for(cast["owner"])
    url = reverse("api-releases", args=[project.slug])
    again = client.post(url, {"version": "1"}, format="json")
    assert again.status_code == 400 and "cannot be changed" in again.json()["detail"]
    second = client.post(url, {}, format="json").json()
    assert second["version"] == "2"
    named = client.post(url, {"version": "2026.1"}, format="json").json()
    assert named["version"] == "2026.1"
    bad = client.post(url, {"version": "../x"}, format="json")
    assert bad.status_code == 400 and "version" in bad.json()["fields"]
    listed = api_for(cast["annotator_b"]).get(url).json()["results"]
    assert {r["version"] for r in listed} == {"1", "2", "2026.1"}


def test_unsettled_annotations_stay_out_of_releases(project, cast, api_for):
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"), labels="none")
    open_item = Item.objects.get(issue__number=101)
    annotate_symptom(open_item, cast["annotator_a"], "Hang")
    client = api_for(cast["owner"])
    client.post(reverse("api-releases", args=[project.slug]), {}, format="json")
    response = client.get(reverse("api-release-download", args=[project.slug, "1"]))
    archive = archive_of(response)
    assert archive.read("llm-failures-1/annotations.jsonl") == b""


@pytest.mark.parametrize(
    ("who", "code"), [("owner", 200), ("lead", 200), ("annotator_a", 200), ("outsider", 404)]
)
def test_download_permissions(project, cast, api_for, released, who, code):
    url = reverse("api-release-download", args=[project.slug, "1"])
    assert api_for(cast[who]).get(url).status_code == code


def test_releases_page_lists_and_owners_publish(project, cast, client_for):
    url = reverse("releases", args=[project.slug])
    owner = client_for(cast["owner"])
    assert "No release yet" in owner.get(url).content.decode()
    response = owner.post(url, {"version": "", "title": "Pilot"})
    assert response.status_code == 302
    page = owner.get(url).content.decode()
    assert "Pilot" in page and reverse("api-release-download", args=[project.slug, "1"]) in page
    annotator = client_for(cast["annotator_a"])
    assert "Publish a release" not in annotator.get(url).content.decode()
    assert annotator.post(url, {"title": "Mine"}).status_code == 403
    assert client_for(cast["outsider"]).get(url).status_code == 404
    assert Release.objects.count() == 1


def test_dataset_page_links_exports_by_role(project, cast, client_for):
    url = reverse("dataset", args=[project.slug])
    lead = client_for(cast["lead"]).get(url).content.decode()
    annotator = client_for(cast["annotator_a"]).get(url).content.decode()
    assert "labels=all" in lead and "labels=all" not in annotator
    assert "format=olf&amp;labels=final" in annotator
    assert client_for(cast["outsider"]).get(url).status_code == 404
