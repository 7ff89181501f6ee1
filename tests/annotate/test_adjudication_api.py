"""The adjudication API: decisions, the conflict queue, annotations, history; the cast."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import AuditEvent, FinalLabel, Item
from tests.builders import (
    DEVICE,
    OOM,
    category,
    in_conflict,
    paths,
    record,
    wire,
)

EXPECTED = {"owner": 200, "lead": 200, "annotator_a": 403, "outsider": 404, None: 401}


@pytest.fixture
def conflict(project, cast):
    return in_conflict(project, cast, [record(OOM)], [record(DEVICE)])


def _urls(project, item):
    kwargs = {"slug": project.slug, "item_id": item.pk}
    return [
        reverse("api-conflicts", kwargs={"slug": project.slug}),
        reverse("api-item-history", kwargs=kwargs),
    ]


def read_annotations(user, project, item):
    """GET the item's annotations through the URL (one view answers GET and POST)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client.get(f"/api/projects/{project.slug}/items/{item.pk}/annotations/")


@pytest.mark.parametrize("who", list(EXPECTED))
def test_read_endpoints_for_the_whole_cast(api_for, cast, project, conflict, who):
    client = api_for(cast[who] if who else None)
    for url in _urls(project, conflict):
        assert client.get(url).status_code == EXPECTED[who], url
    user = cast[who] if who else None
    assert read_annotations(user, project, conflict).status_code == EXPECTED[who]


@pytest.mark.parametrize("who", ["annotator_a", "annotator_b", "outsider", None])
def test_only_leads_and_owners_can_adjudicate(api_for, cast, project, conflict, who):
    url = reverse("api-item-adjudication", kwargs={"slug": project.slug, "item_id": conflict.pk})
    response = api_for(cast[who] if who else None).post(
        url, {"records": [wire(record(OOM))]}, format="json"
    )
    assert response.status_code == {"outsider": 404, None: 401}.get(who, 403)
    assert Item.objects.get(pk=conflict.pk).state == Item.State.CONFLICT


@pytest.mark.parametrize("who", ["owner", "lead"])
def test_lead_or_owner_decides_over_the_api(api_for, cast, project, conflict, who):
    url = reverse("api-item-adjudication", kwargs={"slug": project.slug, "item_id": conflict.pk})
    oom_id = category(project, "symptom", OOM).pk
    body = {
        "records": [wire({**record(), "symptom": oom_id})],
        "error_kind": "slip",
        "codebook_needs_work": True,
    }
    response = api_for(cast[who]).post(url, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["provenance"] == "adjudicated"
    assert paths(data["records"]) == [record(OOM)]
    assert data["records"][0]["labels"][0] == {
        "dimension": "symptom",
        "category": oom_id,
        "path": OOM,
        "evidence": "",
    }
    assert data["decided_by"] == who
    assert data["codebook_needs_work"] is True
    assert api_for(cast["lead"]).get(url).json()["records"] == data["records"]
    again = api_for(cast[who]).post(url, body, format="json")
    assert again.status_code == 400


def test_api_refuses_an_override_without_rationale(api_for, cast, project, conflict):
    url = reverse("api-item-adjudication", kwargs={"slug": project.slug, "item_id": conflict.pk})
    client = api_for(cast["lead"])
    third = [wire(record("Crash > Assertion Failure"))]
    response = client.post(url, {"records": third}, format="json")
    assert response.status_code == 400
    assert "rationale" in response.json()["detail"]
    bad = client.post(url, {"records": [wire(record("Crash > Nope"))]}, format="json")
    assert bad.status_code == 400
    assert client.post(url, {"error_kind": "bogus"}, format="json").status_code == 400
    ok = client.post(url, {"records": third, "rationale": "An assert fires."}, format="json")
    assert ok.status_code == 201
    assert FinalLabel.objects.get(item=conflict).rationale == "An assert fires."


def test_conflict_list_is_filterable_and_counted(api_for, cast, project, conflict):
    other = in_conflict(project, cast, [record(stage="Inference")], [record(stage="Fine-tuning")])
    url = reverse("api-conflicts", kwargs={"slug": project.slug})
    client = api_for(cast["lead"])
    data = client.get(url).json()
    assert data["count"] == 2 and data["total"] == 2
    assert [r["id"] for r in data["results"]] == [conflict.pk, other.pk]
    assert data["by_dimension"] == {"symptom": 1, "stage": 1}
    staged = client.get(url, {"dimension": "stage"}).json()
    assert [r["id"] for r in staged["results"]] == [other.pk]
    diff = staged["results"][0]["differences"][0]
    assert (diff["dimension"], diff["level"]) == ("stage", 1)
    pair = f"{diff['category_b_id']},{diff['category_a_id']}"
    assert [r["id"] for r in client.get(url, {"pair": pair}).json()["results"]] == [other.pk]
    assert client.get(url, {"limit": 1, "offset": 1}).json()["results"][0]["id"] == other.pk


def test_conflict_list_query_count_does_not_grow_with_items(
    api_for, cast, project, django_assert_max_num_queries
):
    for _ in range(6):
        in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    client = api_for(cast["lead"])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("api-conflicts", kwargs={"slug": project.slug}))
    assert len(response.json()["results"]) == 6


def test_annotations_show_both_sides_and_hide_names_when_asked(api_for, cast, project, conflict):
    data = read_annotations(cast["lead"], project, conflict).data
    assert [a["annotator"] for a in data["annotations"]] == ["annotator_a", "annotator_b"]
    symptoms = [a["records"][0]["labels"][0] for a in data["annotations"]]
    assert [(s["dimension"], s["path"]) for s in symptoms] == [
        ("symptom", OOM),
        ("symptom", DEVICE),
    ]
    assert symptoms[0]["evidence"] == "quote for symptom"
    assert data["final"] is None
    project.hide_annotator_names = True
    project.save()
    hidden = read_annotations(cast["lead"], project, conflict).data
    assert [a["annotator"] for a in hidden["annotations"]] == ["A", "B"]


def test_history_lists_every_event_in_order(api_for, cast, project, conflict):
    decide = reverse("api-item-adjudication", kwargs={"slug": project.slug, "item_id": conflict.pk})
    api_for(cast["lead"]).post(decide, {"records": [wire(record(OOM))]}, format="json")
    url = reverse("api-item-history", kwargs={"slug": project.slug, "item_id": conflict.pk})
    events = api_for(cast["owner"]).get(url).json()
    assert [e["kind"] for e in events] == ["conflict", "adjudicated"]
    assert events[1]["actor"] == "lead"
    assert paths(events[1]["payload"]["final"]["records"]) == [record(OOM)]
    assert len(events) == AuditEvent.objects.filter(item=conflict).count()
    AuditEvent.objects.create(
        project=project, item=conflict, actor=cast["annotator_b"], kind="annotation_replaced"
    )
    project.hide_annotator_names = True
    project.save()
    actors = [e["actor"] for e in api_for(cast["lead"]).get(url).json()]
    assert actors == [None, "lead", "Annotator B"]


def test_api_schema_documents_the_adjudication_endpoints(api_for, cast):
    response = api_for(cast["lead"]).get(reverse("api-schema"), {"format": "json"})
    paths = response.json()["paths"]
    assert "post" in paths["/api/projects/{slug}/items/{item_id}/adjudication/"]
    assert "get" in paths["/api/projects/{slug}/conflicts/"]
    assert "get" in paths["/api/projects/{slug}/items/{item_id}/history/"]
