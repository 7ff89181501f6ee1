"""The item browser's item page (issue #15): history with times and names, labels as the
caller may read them, the final label; the walls between annotators and between
projects. The world is built through the real services (tests/security/world.py), so
the history holds the audit events the labeling and adjudication services write."""

import pytest
from django.test import Client
from django.urls import reverse

from annotate.models import Project
from tests.security.world import build_world


@pytest.fixture
def world(cast, project, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world(cast, project)


def page(world, username, key) -> tuple[int, str]:
    client = Client()
    client.force_login(world.users[username])
    response = client.get(reverse("browse-item", args=[world.project.slug, world.items[key].pk]))
    return response.status_code, response.content.decode()


def test_annotator_sees_only_their_own_labels_before_the_item_is_settled(world):
    status, body = page(world, "annotator_a", "conflict")
    assert status == 200
    assert "note_a_conflict" in body and "evidence_a_conflict" in body
    for secret in ("note_b_conflict", "evidence_b_conflict", "annotator_b", "Annotator B"):
        assert secret not in body, secret
    # Nor that the other annotator disagreed: no "conflict" event, the state as shown.
    assert "Conflict found" not in body and "in conflict" not in body
    assert 'id="labels-hidden"' in body and "Not settled yet." in body


def test_the_annotator_whose_submission_found_the_conflict_is_not_told_either(world):
    """The conflict event's actor is the annotator who submitted last: it is still not
    theirs to read, or they would learn that the other annotator disagreed."""
    status, body = page(world, "annotator_b", "conflict")
    assert status == 200 and "note_b_conflict" in body
    assert "note_a_conflict" not in body and "evidence_a_conflict" not in body
    assert "Conflict found" not in body and "in conflict" not in body


def test_annotator_reads_the_lead_s_send_back_but_not_the_other_labels(world):
    status, body = page(world, "annotator_a", "discussion")
    assert status == 200
    assert "Sent back for discussion" in body and "discussion_note" in body
    assert "note_b_discussion" not in body and "evidence_b_discussion" not in body


def test_after_settlement_the_annotator_reads_every_label_by_letter(world):
    status, body = page(world, "annotator_a", "decided")
    assert status == 200
    assert "note_b_decided" in body and "Annotator B" in body
    assert "annotator_b" not in body  # never the other annotator's name
    assert 'id="final-provenance"' in body and "rationale" in body
    assert "Adjudicated" in body and "lead" in body


def test_lead_sees_every_label_the_history_and_names(world):
    status, body = page(world, "owner", "conflict")
    assert status == 200
    for shown in ("note_a_conflict", "note_b_conflict", "annotator_a", "annotator_b"):
        assert shown in body, shown
    for step in ("Assigned", "Labels submitted", "Conflict found"):
        assert step in body, step
    status, body = page(world, "owner", "decided")
    assert "Adjudicated" in body and ">lead<" in body and "rationale" in body


def test_leads_see_letters_while_the_project_hides_names(world):
    Project.objects.filter(pk=world.project.pk).update(hide_annotator_names=True)
    status, body = page(world, "lead", "conflict")
    assert status == 200
    assert "Annotator A" in body and "Annotator B" in body
    assert "annotator_a" not in body and "annotator_b" not in body


def test_items_outside_visible_items_and_other_projects_are_not_found(world):
    # annotator_b never held `held`; other_annotator belongs to another project.
    assert page(world, "annotator_b", "held")[0] == 404
    assert page(world, "other_annotator", "conflict")[0] == 404
    client = Client()
    client.force_login(world.users["lead"])
    other_item = reverse("browse-item", args=[world.project.slug, world.other_item.pk])
    assert client.get(other_item).status_code == 404


def test_the_list_never_shows_an_annotator_another_s_labels(world):
    client = Client()
    client.force_login(world.users["annotator_a"])
    body = client.get(reverse("browse-items", args=[world.project.slug])).content.decode()
    assert "annotator_b" not in body and "note_b" not in body
    # Their held and half items are there; the conflict shows as "submitted by you".
    assert "submitted by you" in body and "in conflict" not in body


def test_a_holder_who_never_submitted_is_not_named_to_an_annotator(world):
    from annotate.models import Assignment, Item

    settled = world.items["settled"]
    Assignment.objects.create(
        item=settled, annotator=world.users["other_annotator"], state=Assignment.State.EXPIRED
    )
    assert Item.objects.get(pk=settled.pk).state == Item.State.SETTLED
    status, body = page(world, "annotator_a", "settled")
    assert status == 200
    assert "other_annotator" not in body and "Annotator C" in body
