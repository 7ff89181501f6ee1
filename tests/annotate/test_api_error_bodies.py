"""The labeling and adjudication API answer every error with the one body of
annotate.api.base's exception handler, {"detail", "code", "fields"}, and the status code
each error always had (issue #14)."""

import pytest
from django.urls import reverse

from annotate.models import Category, FinalLabel, Item
from tests.builders import DEVICE, OOM, in_conflict, record, wire
from tests.factories import ItemFactory

ERROR_KEYS = {"detail", "code", "fields"}


@pytest.fixture
def payload(project):
    """A valid submission (one failure record), or one with `records` replaced."""
    root_cause = Category.objects.get(
        dimension__project=project, path__endswith="GPU Memory Insufficiency"
    ).path

    def make(**extra):
        labels = [
            {"dimension": "symptom", "category": OOM},
            {"dimension": "root_cause", "category": root_cause},
            {"dimension": "stage", "category": "Inference"},
        ]
        return {"records": [{"labels": labels}], **extra}

    return make


def submit_url(project, item):
    return reverse("api-annotation-submit", args=[project.slug, item.pk])


def held_item(api, project) -> Item:
    response = api.post(reverse("api-queue-next", args=[project.slug]))
    assert response.status_code == 200, response.content
    return Item.objects.get(pk=response.json()["id"])


@pytest.fixture
def holder(project, cast, api_for):
    """annotator_a's API client and the item the queue gave them."""
    ItemFactory(project=project)
    api = api_for(cast["annotator_a"])
    return api, held_item(api, project)


def assert_error(response, status: int, code: str, words: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == code
    assert words in body["detail"]
    return body


# ----------------------------------------------------------------------------- labeling


def test_a_bad_submission_is_a_400_with_the_message_as_detail(project, holder, payload):
    api, item = holder
    bad = payload(records=[{"labels": [{"dimension": "nope", "category": OOM}]}])
    body = assert_error(
        api.post(submit_url(project, item), bad, format="json"), 400, "invalid", "'nope'"
    )
    assert body["fields"] == {"non_field_errors": [body["detail"]]}


@pytest.mark.parametrize(
    "records, message",
    [
        (51, "At most 50 failure records; 51 sent."),
        ("twice", "Failure record 2: record number 3 is already failure record 1's"),
    ],
)
def test_a_submission_of_too_many_or_doubly_numbered_records_is_a_400_that_writes_nothing(
    project, holder, payload, records, message
):
    api, item = holder
    one = payload()["records"][0]
    many = [one] * records if records == 51 else [{**one, "record": 3}, {**one, "record": 3}]
    body = assert_error(
        api.post(submit_url(project, item), payload(records=many), format="json"),
        400,
        "invalid",
        "Invalid input.",
    )
    assert body["fields"]["records"][0].startswith(message)
    assert not item.annotations.exists()


def test_an_item_the_annotator_does_not_hold_is_a_404(project, cast, api_for, payload):
    item = ItemFactory(project=project)
    response = api_for(cast["annotator_a"]).post(
        submit_url(project, item), payload(), format="json"
    )
    body = assert_error(response, 404, "not_found", "No such item")
    assert body["fields"] == {}


def test_a_lead_submitting_an_item_not_assigned_to_them_is_a_403(project, cast, api_for, payload):
    item = ItemFactory(project=project)
    response = api_for(cast["lead"]).post(submit_url(project, item), payload(), format="json")
    body = assert_error(response, 403, "permission_denied", "not assigned to you")
    assert body["fields"] == {}


def test_submitting_to_an_excluded_item_is_a_409(project, holder, payload):
    api, item = holder
    Item.objects.filter(pk=item.pk).update(state=Item.State.EXCLUDED)
    response = api.post(submit_url(project, item), payload(), format="json")
    body = assert_error(response, 409, "conflict", "excluded")
    assert body["fields"] == {}


def test_skipping_a_submitted_item_is_a_409(project, holder, payload):
    api, item = holder
    assert api.post(submit_url(project, item), payload(), format="json").status_code == 200
    skip = reverse("api-item-skip", args=[project.slug, item.pk])
    response = api.post(skip, {"reason": "changed my mind"}, format="json")
    assert_error(response, 409, "conflict", "already submitted")


def test_my_annotation_of_an_item_not_yet_annotated_is_a_404(project, holder):
    api, item = holder
    mine = reverse("api-annotation-mine", args=[project.slug, item.pk])
    assert_error(api.get(mine), 404, "not_found", "You have not annotated this item.")


# ------------------------------------------------------------------------- adjudication


def decide_url(project, item):
    return reverse("api-item-adjudication", kwargs={"slug": project.slug, "item_id": item.pk})


def test_a_refused_decision_is_a_400_with_the_message_as_detail(project, cast, api_for):
    conflict = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    third = [wire(record("Crash > Assertion Failure"))]
    response = api_for(cast["lead"]).post(
        decide_url(project, conflict), {"records": third}, format="json"
    )
    body = assert_error(response, 400, "invalid", "rationale")
    assert body["fields"] == {"non_field_errors": [body["detail"]]}


@pytest.mark.parametrize(
    "records, message",
    [
        # The former shape of a decision's record: {dimension key: category}.
        ([record(OOM)], 'Failure record 1: each failure record must be {"record"'),
        ([{"labels": record(OOM)}], 'Failure record 1: each failure record must be {"record"'),
        ([wire(record(OOM)), {"record": "one", "labels": []}], "Failure record 2: 'record'"),
        (
            [{"labels": [{"dimension": "symptom", "category": True}]}],
            "Failure record 1, label 1, category: Name a category by its id or its full path.",
        ),
        # A number as evidence or dimension was stored as its digits.
        (
            [{"labels": [{**wire(record(OOM))["labels"][0], "evidence": 5}]}],
            "Failure record 1, label 1, evidence: Not a valid string.",
        ),
        (
            [{"labels": [{"dimension": 1.5, "category": OOM}]}],
            "Failure record 1, label 1, dimension: Not a valid string.",
        ),
        # A huge array was written: 5,000 records became a final label of 5,000 records.
        ([wire(record(OOM))] * 51, "At most 50 failure records; 51 sent."),
        ([{"labels": wire(record(OOM))["labels"] * 17}], "Failure record 1: at most 50 labels"),
        # Two records of one number were silently renumbered 0 and 1.
        (
            [{"record": 0, **wire(record(OOM))}, {"record": 0, **wire(record(DEVICE))}],
            "Failure record 2: record number 0 is already failure record 1's",
        ),
    ],
)
def test_a_record_in_another_shape_is_a_400_naming_the_one_shape(
    project, cast, api_for, records, message
):
    conflict = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    response = api_for(cast["lead"]).post(
        decide_url(project, conflict), {"records": records}, format="json"
    )
    body = assert_error(response, 400, "invalid", "Invalid input.")
    assert list(body["fields"]) == ["records"]
    assert body["fields"]["records"][0].startswith(message)
    assert not FinalLabel.objects.filter(item=conflict).exists()


def test_an_out_of_scope_decision_with_records_is_a_400_that_writes_nothing(project, cast, api_for):
    # The records were dropped without a word and the item settled as out of scope.
    conflict = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    response = api_for(cast["lead"]).post(
        decide_url(project, conflict),
        {"records": [wire(record(OOM))], "out_of_scope": True, "rationale": "Not a failure."},
        format="json",
    )
    body = assert_error(response, 400, "invalid", "Invalid input.")
    assert body["fields"] == {
        "records": ["An out-of-scope decision has no failure records; send none."]
    }
    assert not FinalLabel.objects.filter(item=conflict).exists()


def test_reading_a_final_label_not_yet_written_is_a_404(project, cast, api_for):
    conflict = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    response = api_for(cast["lead"]).get(decide_url(project, conflict))
    body = assert_error(response, 404, "not_found", "No final label yet.")
    assert body["fields"] == {}


def test_an_annotator_deciding_is_a_403(project, cast, api_for):
    conflict = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    response = api_for(cast["annotator_a"]).post(
        decide_url(project, conflict), {"records": [wire(record(OOM))]}, format="json"
    )
    assert_error(response, 403, "permission_denied", "role")


def test_history_of_another_projects_item_is_a_404(project, cast, api_for):
    elsewhere = ItemFactory()
    url = reverse("api-item-history", kwargs={"slug": project.slug, "item_id": elsewhere.pk})
    assert_error(api_for(cast["lead"]).get(url), 404, "not_found", "No such item.")
