"""Every free text has a documented limit (issue #12; annotate/limits.py): over it, the API
answers 400 naming the field and its limit, the pages refuse with the same message, the
services refuse whoever calls them, and nothing is written (2 MB rationales were stored)."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from annotate.adjudication.decisions import decide_item
from annotate.adjudication.discussion import reopen_item, start_discussion
from annotate.codebook import services as codebook
from annotate.errors import ServiceError
from annotate.labeling.queue import skip_item
from annotate.labeling.submission import submit_annotation
from annotate.limits import TEXT_LIMITS
from annotate.models import Annotation, Category, Dimension, FinalLabel, Item

from .test_bad_input import counts


def post(world, role, path, body):
    token = {"HTTP_AUTHORIZATION": f"Token {world['tokens'][role]}"}
    url = f"/api/projects/{world['paths']['slug']}/{path.format(**world['paths'])}"
    return Client().post(url, json.dumps(body), content_type="application/json", **token)


def over(field):
    return "x" * (TEXT_LIMITS[field] + 1)


@pytest.mark.parametrize(
    ("role", "path", "body", "field", "limit"),
    [
        (
            "annotator",
            "items/{item_id}/annotations/",
            {"out_of_scope": True, "out_of_scope_reason": over("out_of_scope_reason")},
            "out_of_scope_reason",
            2000,
        ),  # noqa: E501
        (
            "annotator",
            "items/{item_id}/annotations/",
            {"records": [], "note": over("note")},
            "note",
            10000,
        ),  # noqa: E501
        (
            "owner",
            "items/{item_id}/adjudication/",
            {"out_of_scope": True, "out_of_scope_reason": over("out_of_scope_reason")},
            "out_of_scope_reason",
            2000,
        ),  # noqa: E501
        (
            "owner",
            "items/{item_id}/adjudication/",
            {"records": [], "rationale": over("rationale")},
            "rationale",
            10000,
        ),  # noqa: E501
        ("annotator", "items/{item_id}/skip/", {"reason": over("reason")}, "reason", 2000),
    ],
)
def test_over_long_texts_answer_400_naming_field_and_limit(world, role, path, body, field, limit):
    before = counts()
    response = post(world, role, path, body)
    assert response.status_code == 400, response.content[:300]
    message = response.json()["fields"][field][0]
    assert f"no more than {limit} characters" in message
    assert counts() == before


def test_category_description_and_examples_over_their_limits_answer_400(world):
    token = {"HTTP_AUTHORIZATION": f"Token {world['tokens']['owner']}"}
    url = f"/api/projects/{world['paths']['slug']}/codebook/categories/{world['paths']['category_id']}/"  # noqa: E501
    for body, field in (
        ({"description": over("description")}, "description"),
        ({"examples": [over("example")]}, "examples"),
        ({"examples": ["e"] * 51}, "examples"),
    ):
        response = Client().patch(url, json.dumps(body), content_type="application/json", **token)
        assert response.status_code == 400, response.content[:300]
        assert field in response.json()["fields"]
    category = Category.objects.get(pk=world["paths"]["category_id"])
    assert len(category.description) <= TEXT_LIMITS["description"]


def test_labeling_page_refuses_an_over_long_note_with_its_limit(world, cast):
    item = Item.objects.get(pk=world["paths"]["item_id"])
    client = Client()
    client.force_login(cast["annotator_a"])
    url = reverse("label-item", args=[world["paths"]["slug"], item.pk])
    before = counts()
    response = client.post(
        url, {"out_of_scope": "1", "out_of_scope_reason": "dup", "note": over("note")}
    )  # noqa: E501
    assert response.status_code == 400
    assert (
        "&#x27;note&#x27; is 10,001 characters long, over its limit of 10,000"
        in response.content.decode()
    )  # noqa: E501
    assert counts() == before


def test_services_refuse_over_long_texts_whoever_calls_them(project, cast, world):
    conflict = Item.objects.filter(project=project, state=Item.State.CONFLICT).first()
    item = Item.objects.get(pk=world["paths"]["item_id"])
    symptom = Dimension.objects.get(project=project, key="symptom")
    calls = [
        lambda: start_discussion(item=conflict, actor=cast["lead"], note=over("discussion_note")),  # noqa: E501
        lambda: decide_item(
            item=conflict, actor=cast["lead"], out_of_scope=True, rationale=over("rationale")
        ),  # noqa: E501
        lambda: skip_item(
            project=project, user=cast["annotator_a"], item=item, reason=over("reason")
        ),  # noqa: E501
        lambda: submit_annotation(
            project=project,
            user=cast["annotator_a"],
            item=item,
            out_of_scope=True,
            out_of_scope_reason=over("out_of_scope_reason"),
        ),  # noqa: E501
        lambda: codebook.add_category(
            project=project,
            actor=cast["owner"],
            dimension=symptom,
            name="New",
            description=over("description"),
        ),  # noqa: E501
        lambda: codebook.add_category(
            project=project, actor=cast["owner"], dimension=symptom, name="New", examples=["e"] * 51
        ),  # noqa: E501
    ]
    before = (counts(), FinalLabel.objects.count(), Annotation.objects.count())
    for call in calls:
        with pytest.raises(ServiceError, match="over its limit"):
            call()
    assert (counts(), FinalLabel.objects.count(), Annotation.objects.count()) == before
    settled = Item.objects.filter(project=project, state=Item.State.SETTLED).first()
    with pytest.raises(ServiceError, match="'reason' is 2,001 characters long"):
        reopen_item(item=settled, actor=cast["lead"], reason=over("reason"))


def test_project_settings_refuse_over_long_guidelines(world, cast, project):
    client = Client()
    client.force_login(cast["owner"])
    url = reverse("project-settings", args=[project.slug])
    response = client.post(
        url,
        {
            "save_settings": "1",
            "name": "P",
            "overlap": "2",
            "assignment_timeout_minutes": "60",
            "guidelines": over("guidelines"),
        },
    )  # noqa: E501
    assert "over its limit of 100,000" in response.content.decode()
    project.refresh_from_db()
    assert len(project.guidelines) <= TEXT_LIMITS["guidelines"]
