"""One wire shape for a failure record (annotate.records): every API endpoint that reads or
writes records spells the same record the same way, a record read is a record that can be
written back, and the schema names one component for it."""

from html import escape

from django.urls import reverse

from annotate.models import AuditEvent, Item
from tests.builders import DEVICE, GPU_MEMORY, OOM, category, label_both, record, wire
from tests.factories import ItemFactory

RECORD_KEYS = ["record", "labels"]
LABEL_KEYS = ["dimension", "category", "path", "evidence"]


def _submission(project, symptom):
    labels = [
        {"dimension": "symptom", "category": symptom, "evidence": f"saw {symptom}"},
        {"dimension": "root_cause", "category": category(project, "root_cause", GPU_MEMORY).pk},
        {"dimension": "stage", "category": "Inference"},
    ]
    return {"records": [{"labels": labels}]}


def _take_and_submit(api, project, symptom):
    item = api.post(reverse("api-queue-next", args=[project.slug])).json()["id"]
    url = reverse("api-annotation-submit", args=[project.slug, item])
    response = api.post(url, _submission(project, symptom), format="json")
    assert response.status_code == 200, response.content
    return item, response.json()["records"]


def _keys(records):
    return [(list(r), [list(label) for label in r["labels"]]) for r in records]


def test_every_endpoint_spells_the_same_record_the_same_way(project, cast, api_for):
    ItemFactory(project=project)
    a, b, lead = (api_for(cast[who]) for who in ("annotator_a", "annotator_b", "lead"))
    item, submitted = _take_and_submit(a, project, OOM)
    _take_and_submit(b, project, DEVICE)
    assert Item.objects.get(pk=item).state == Item.State.CONFLICT
    assert _keys(submitted) == [(RECORD_KEYS, [LABEL_KEYS] * 3)]
    assert submitted[0]["record"] == 0
    assert submitted[0]["labels"][0] == {
        "dimension": "symptom",
        "category": category(project, "symptom", OOM).pk,
        "path": OOM,
        "evidence": f"saw {OOM}",
    }

    # The lead writes back, as the decision, the record read from annotator A's side.
    annotations_url = reverse("api-annotation-submit", args=[project.slug, item])
    sides = lead.get(annotations_url).json()["annotations"]
    decide = reverse("api-item-adjudication", kwargs={"slug": project.slug, "item_id": item})
    decided = lead.post(decide, {"records": sides[0]["records"]}, format="json")
    assert decided.status_code == 201, decided.content
    final = [
        {**r, "labels": [{**label, "evidence": ""} for label in r["labels"]]} for r in submitted
    ]

    history_url = reverse("api-item-history", kwargs={"slug": project.slug, "item_id": item})
    history = {e["kind"]: e["payload"] for e in lead.get(history_url).json()}
    mine = a.get(reverse("api-annotation-mine", args=[project.slug, item])).json()
    listed = a.get(reverse("api-my-annotations", args=[project.slug])).json()["results"]
    everyone = lead.get(reverse("api-annotations", args=[project.slug])).json()["results"]
    finals = lead.get(reverse("api-final-labels", args=[project.slug])).json()["results"]
    as_annotated = {
        "submit": submitted,
        "mine": mine["records"],
        "my/annotations": listed[0]["records"],
        "annotations": next(x for x in everyone if x["annotator"] == "annotator_a")["records"],
        "item annotations": sides[0]["records"],
        "lead's item annotations": lead.get(annotations_url).json()["annotations"][0]["records"],
    }
    as_decided = {
        "decision": decided.json()["records"],
        "adjudication": lead.get(decide).json()["records"],
        "final-labels": finals[0]["records"],
        "mine's final": mine["final"]["records"],
        "item annotations' final": lead.get(annotations_url).json()["final"]["records"],
        "history": history["adjudicated"]["final"]["records"],
    }
    assert as_annotated == dict.fromkeys(as_annotated, submitted)
    assert as_decided == dict.fromkeys(as_decided, final)
    # The audit trail stores the submission in the same shape.
    stored = AuditEvent.objects.get(
        item_id=item, kind="annotation_submitted", actor=cast["annotator_a"]
    )
    assert stored.payload["records"] == submitted


def _resolve(schema, node, seen=()):
    """Every component name reachable from `node`."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                yield name
                yield from _resolve(schema, schema["components"]["schemas"][name], (*seen, name))
        for value in node.values():
            yield from _resolve(schema, value, seen)
    elif isinstance(node, list):
        for value in node:
            yield from _resolve(schema, value, seen)


def test_the_schema_names_one_component_for_a_record_on_every_endpoint(api_for, cast):
    schema = api_for(cast["lead"]).get(reverse("api-schema"), {"format": "json"}).json()
    components = schema["components"]["schemas"]
    # Wherever a list of records appears, it is a list of the one component.
    lists = {
        name: prop
        for name, component in components.items()
        for key, prop in (component.get("properties") or {}).items()
        if key == "records" and prop.get("type") == "array"
    }
    assert len(lists) >= 8
    for name, prop in lists.items():
        assert prop["items"] == {"$ref": "#/components/schemas/FailureRecord"}, name
    assert "FailureRecordLabel" in set(_resolve(schema, components["FailureRecord"]))
    # And every endpoint that reads or writes records reaches it: requests and responses.
    reach = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {})
            replies = operation.get("responses", {})
            reach[(method, path, "request")] = "FailureRecord" in set(_resolve(schema, body))
            reach[(method, path, "response")] = "FailureRecord" in set(_resolve(schema, replies))
    p = "/api/projects/{slug}/"
    expected = {
        ("post", p + "items/{item_id}/annotations/", "request"),
        ("post", p + "items/{item_id}/annotations/", "response"),
        ("get", p + "items/{item_id}/annotations/", "response"),
        ("get", p + "items/{item_id}/annotations/mine/", "response"),
        ("post", p + "items/{item_id}/adjudication/", "request"),
        ("post", p + "items/{item_id}/adjudication/", "response"),
        ("get", p + "items/{item_id}/adjudication/", "response"),
        ("get", p + "my/annotations/", "response"),
        ("get", p + "annotations/", "response"),
        ("get", p + "final-labels/", "response"),
    }
    assert expected <= {key for key, reached in reach.items() if reached}


def test_the_labeling_pages_show_the_final_records_once_settled(project, cast, client_for, api_for):
    item = ItemFactory(project=project)
    assert label_both(item, cast, [record(OOM)], [record(DEVICE)]) == Item.State.CONFLICT
    decide = reverse("api-item-adjudication", kwargs={"slug": project.slug, "item_id": item.pk})
    decided = api_for(cast["lead"]).post(decide, {"records": [wire(record(OOM))]}, format="json")
    assert decided.status_code == 201, decided.content
    annotator = client_for(cast["annotator_b"])
    for url in (
        reverse("label-mine", args=[project.slug]),
        reverse("label-item", args=[project.slug, item.pk]),
    ):
        html = annotator.get(url).content.decode()
        final = html[html.index("Final label") :]
        assert f'<span class="muted">symptom:</span> {escape(OOM)}' in final, url
        assert f"record 1, symptom: {escape(OOM)} (yours: {escape(DEVICE)})" in final, url
