"""Migration annotate 0013: the audit trail's stored records, once {dimension key: path},
rewritten into the one record shape and back, on a fixture of stored events."""

import copy
from html import escape
from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse

from annotate.models import AuditEvent
from tests.builders import DEVICE, GPU_MEMORY, OOM, category, in_conflict, record

migration = import_module("annotate.migrations.0014_audit_records_one_shape")

GONE = "Crash > Renamed Since"


@pytest.fixture
def stored(project, cast):
    """Events as the former code wrote them, one already in the new shape, one without
    records."""
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    AuditEvent.objects.filter(item=item).delete()

    def event(kind, payload):
        return AuditEvent.objects.create(project=project, item=item, kind=kind, payload=payload)

    final = {"provenance": "adjudicated", "records": [record(DEVICE)], "rationale": "r"}
    return item, {
        "submitted": event(
            "annotation_submitted",
            {"annotation": 1, "records": [record(OOM), {"symptom": GONE, "stage": "Inference"}]},
        ),
        "adjudicated": event(
            "adjudicated", {"final": final, "replaced": {**final, "records": [record(OOM)]}}
        ),
        "out_of_scope": event("adjudicated", {"final": {"records": [], "out_of_scope": True}}),
        "new": event(
            "settled",
            {"final": {"records": [{"record": 0, "labels": [_label(project, OOM)]}]}},
        ),
        "other": event("codebook_split_reopened", {"category": OOM, "from_state": "settled"}),
    }


def _label(project, path, evidence=""):
    pk = category(project, "symptom", path).pk
    return {"dimension": "symptom", "category": pk, "path": path, "evidence": evidence}


def _payloads(events):
    return {name: AuditEvent.objects.get(pk=e.pk).payload for name, e in events.items()}


def test_forwards_rewrites_every_stored_record_and_backwards_restores_it(project, stored):
    item, events = stored
    before = copy.deepcopy(_payloads(events))
    assert migration.forwards(apps) == 2  # the submission and the decision
    after = _payloads(events)
    first, second = after["submitted"]["records"]
    assert first["record"] == 0 and second["record"] == 1
    assert first["labels"][0] == _label(project, OOM)
    root = first["labels"][1]
    assert root == {
        "dimension": "root_cause",
        "category": category(project, "root_cause", GPU_MEMORY).pk,
        "path": GPU_MEMORY,
        "evidence": "",
    }
    # A path that names no category any more keeps its path; its id is unknown.
    assert second["labels"][0] == {
        "dimension": "symptom",
        "category": None,
        "path": GONE,
        "evidence": "",
    }
    assert after["adjudicated"]["final"]["records"][0]["labels"][0] == _label(project, DEVICE)
    assert after["adjudicated"]["replaced"]["records"][0]["labels"][0] == _label(project, OOM)
    assert after["adjudicated"]["final"]["rationale"] == "r"
    for unchanged in ("out_of_scope", "new", "other"):
        assert after[unchanged] == before[unchanged]
    assert migration.forwards(apps) == 0  # re-run: nothing left in the former shape

    assert migration.backwards(apps) == 3  # the new-shape "settled" too
    back = _payloads(events)
    for name in ("submitted", "adjudicated", "out_of_scope", "other"):
        assert back[name] == before[name]
    assert back["new"]["final"]["records"] == [{"symptom": OOM}]


def test_the_history_reads_migrated_events(project, cast, stored, client_for):
    item, _ = stored
    migration.forwards(apps)
    url = reverse("item-history", kwargs={"slug": project.slug, "item_id": item.pk})
    html = client_for(cast["lead"]).get(url).content.decode()
    assert escape(GONE) in html and escape(DEVICE) in html
