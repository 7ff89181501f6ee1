"""Hostile bodies and text: oversized, deeply nested, invalid UTF-8, huge Markdown and
category names full of HTML. Each gets a 4xx with a clear message or a safe rendering,
never a 500, and a refused request writes nothing."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from annotate.codebook import services as codebook
from annotate.labeling.queue import next_item
from annotate.models import (
    Annotation,
    AnnotationLabel,
    AuditEvent,
    Category,
    Dimension,
    FinalLabel,
    FinalRecordLabel,
    Item,
)
from mining.models import Issue, Repository
from tests.factories import IssueFactory, ItemFactory

WRITTEN = (
    Annotation,
    AnnotationLabel,
    FinalLabel,
    FinalRecordLabel,
    AuditEvent,
    Item,
    Issue,
    Repository,
    Category,
)
# No '>' (the path separator): an unclosed tag is still live HTML if rendered raw.
HOSTILE_NAME = '<img src=x onerror=alert("cat") <script'
ESCAPED_NAME = "&lt;img src=x onerror=alert(&quot;cat&quot;) &lt;script"
DEEP_ARRAY = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in WRITTEN}


@pytest.fixture
def api(world):
    def call(role, method, path, body=b"", content_type="application/json"):
        client = Client()
        token = {"HTTP_AUTHORIZATION": f"Token {world['tokens'][role]}"}
        return getattr(client, method)(path, body, content_type=content_type, **token)

    return call


@pytest.fixture
def targets(world):
    """(role, URL) of the endpoints that write labels."""
    base = f"/api/projects/{world['paths']['slug']}/items/{world['paths']['item_id']}/"
    return [("annotator", base + "annotations/"), ("owner", base + "adjudication/")]


def detail(response) -> str:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()["detail"]


def test_oversized_json_bodies_answer_413_and_write_nothing(api, targets):
    body = json.dumps({"records": [], "note": "x" * 20 * 1024 * 1024})
    before = counts()
    for role, url in targets:
        response = api(role, "post", url, body)
        assert response.status_code == 413, url
        assert "over the limit of 2.5 MB" in detail(response)
    assert counts() == before


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_deeply_nested_json_answers_400_and_writes_nothing(api, targets, body):
    before = counts()
    for role, url in targets:
        response = api(role, "post", url, body)
        assert response.status_code == 400, url
        assert "nested too deeply" in detail(response)
    assert counts() == before


def test_invalid_utf8_in_a_json_body_answers_400(api, targets):
    before = counts()
    for role, url in targets:
        response = api(role, "post", url, b'{"note": "\xff\xfe", "records": []}')
        assert response.status_code == 400, url
        assert "JSON parse error" in detail(response)
    assert counts() == before


@pytest.mark.parametrize("value", ["9" * 30, "\u00b2", "1\x00", -5, 2**70])
def test_impossible_category_ids_are_refused_by_name(api, targets, world, value):
    record = [{"dimension": "symptom", "category": value}]
    before = counts()
    role, url = targets[0]
    response = api(role, "post", url, json.dumps({"records": [record]}))
    assert response.status_code == 400, response.content[:300]
    role, url = targets[1]
    response = api(role, "post", url, json.dumps({"records": [{"symptom": value}]}))
    assert response.status_code == 400, response.content[:300]
    assert counts() == before


def upload(api, world, name, data, fmt="olf"):
    path = f"/api/projects/{world['paths']['slug']}/import/"
    client = Client()
    token = {"HTTP_AUTHORIZATION": f"Token {world['tokens']['owner']}"}
    files = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(path, {"files": [files], "format": fmt}, **token)


@pytest.mark.parametrize(
    ("name", "data", "fmt", "message"),
    [
        ("big.json", b"[" + b" " * (20 * 1024 * 1024) + b"]", "olf", "over the import limit"),
        ("deep.json", DEEP_ARRAY.encode(), "olf", "nested too deeply"),
        ("deep.jsonl", DEEP_OBJECT.encode(), "jsonl", "nested too deeply"),
        ("bad.json", b'[{"link": "\xff\xfe"}]', "olf", "not UTF-8"),
        ("bad.csv", b"link,status\nhttps://github.com/a/b/issues/1,\xc3(\n", "csv", "not UTF-8"),
        (
            "nul.json",
            json.dumps(
                [
                    {
                        "link": "https://github.com/a/b/issues/1",
                        "status": "open",
                        "SYMPTOM": "Crash",
                        "ROOT CAUSE": "Hardware and Resource Limitations",
                        "STAGE": "Inference",
                        "model": "a\x00",
                    }
                ]
            ).encode(),
            "olf",
            "NUL",
        ),
    ],
    ids=["20MB", "deep-olf", "deep-jsonl", "utf8-olf", "utf8-csv", "nul"],
)
def test_hostile_import_files_are_refused_and_import_nothing(api, world, name, data, fmt, message):
    """Oversized files are refused at once (400); the rest fail their import job, which names
    the problem."""
    from annotate.models import ImportJob
    from dataset.tasks import run_import_task

    before = counts()
    response = upload(api, world, name, data, fmt)
    if response.status_code == 400:
        assert message in response.json()["fields"]["files"][0]
    else:
        assert response.status_code == 202, response.content[:300]
        run_import_task(job_id=response.json()["id"])
        job = ImportJob.objects.get(pk=response.json()["id"])
        assert job.status == "failed" and message in job.error
    assert counts() == before


@pytest.fixture
def hostile_item(project, cast):
    """annotator_a's only item: a 3 MB issue body and comments of script payloads, in a
    codebook whose category names are HTML."""
    symptom = Dimension.objects.get(project=project, key="symptom")
    codebook.add_category(
        project=project, actor=cast["owner"], dimension=symptom, name=HOSTILE_NAME
    )
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))\n"
    issue = IssueFactory(title=HOSTILE_NAME, body=payload * 40_000)
    item = ItemFactory(project=project, issue=issue)
    assert next_item(project=project, user=cast["annotator_a"]) == item
    return item


def assert_inert(html: str) -> None:
    assert "<script>alert" not in html and HOSTILE_NAME not in html
    assert "<img src=x onerror" not in html
    assert 'href="javascript:' not in html


def test_huge_markdown_and_html_category_names_render_escaped(client_for, cast, hostile_item):
    client = client_for(cast["annotator_a"])
    url = f"/projects/{hostile_item.project.slug}/label/{hostile_item.pk}/"
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "text cut: too long to show in full" in html
    assert ESCAPED_NAME in html
    assert_inert(html)
    page = client_for(cast["owner"]).get(f"/projects/{hostile_item.project.slug}/codebook/")
    assert page.status_code == 200
    assert ESCAPED_NAME in page.content.decode()
    assert_inert(page.content.decode())


@pytest.mark.parametrize("value", ["9" * 30, "\u00b2"])
def test_labeling_form_with_impossible_ids_answers_400(client_for, cast, hostile_item, value):
    before = counts()
    url = f"/projects/{hostile_item.project.slug}/label/{hostile_item.pk}/"
    response = client_for(cast["annotator_a"]).post(url, {"r0-symptom": value})
    assert response.status_code == 400
    assert counts() == before


@pytest.mark.parametrize("name", ["dimension", "repository", "group", "pair"])
def test_conflict_filters_with_nul_or_huge_values_answer_200(api, client_for, cast, world, name):
    slug = world["paths"]["slug"]
    for value in ("a\x00b", "9" * 30 + "," + "9" * 30, "\u00b2,\u00b3"):
        response = api("lead", "get", f"/api/projects/{slug}/conflicts/?{name}={value}")
        assert response.status_code == 200, (name, value)
        page = client_for(cast["lead"]).get(f"/projects/{slug}/conflicts/", {name: value})
        assert page.status_code == 200, (name, value)
