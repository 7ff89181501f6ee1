"""The labeling page's progress line ("You: N today · N in total · N left for you"): the
items left are the ones the queue would still give the caller, counted the same whatever
other annotators did with them."""

import re

import pytest
from django.urls import reverse

from annotate.models import GoldItem, Item, Membership, Role
from annotate.projects import services
from tests.builders import in_conflict
from tests.factories import ItemFactory

pytestmark = pytest.mark.usefixtures("fresh_cache")

LEFT = re.compile(r"<strong>(\d+)</strong> left for you")
OOM = "Crash > CUDA Error > Out of Memory"


def left(client, project) -> int:
    part = client.get(
        reverse("label-progress", args=[project.slug]), headers={"HX-Request": "true"}
    )
    assert part.status_code == 200
    return int(LEFT.search(part.content.decode()).group(1))


def form(project) -> dict:
    from annotate.models import Category

    paths = dict(Category.objects.filter(dimension__project=project).values_list("name", "path"))
    return {
        "record_count": "1",
        "r0-symptom": OOM,
        "r0-root_cause": paths["GPU Memory Insufficiency"],
        "r0-stage": "Inference",
    }


def test_the_item_on_screen_is_still_left_for_the_annotator_until_submitted(
    project, cast, client_for
):
    """Done plus left stays the whole of the caller's work: the item they hold (claimed by
    the page, not submitted yet) is one of those left."""
    first, second, third = ItemFactory.create_batch(3, project=project)
    client = client_for(cast["annotator_a"])
    assert left(client, project) == 3
    client.get(reverse("label-next", args=[project.slug]))  # claims `first`
    assert left(client, project) == 3
    url = reverse("label-item", args=[project.slug, first.pk])
    body = client.post(url, form(project), headers={"HX-Request": "true"}).content.decode()
    assert f'data-item="{second.pk}"' in body  # the next one is claimed and shown
    assert left(client, project) == 2
    for item in (second, third):
        url = reverse("label-item", args=[project.slug, item.pk])
        client.post(url, form(project), headers={"HX-Request": "true"})
    assert left(client, project) == 0


def test_gold_items_a_calibrated_annotator_never_gets_are_not_left_for_them(
    project, cast, client_for
):
    gold = ItemFactory(project=project)
    GoldItem.objects.create(project=project, item=gold, rationale="the lead's reading")
    Membership.objects.filter(project=project, user=cast["annotator_a"]).update(
        calibration=Membership.Calibration.PASSED
    )
    client = client_for(cast["annotator_a"])
    page = client.get(reverse("label-next", args=[project.slug]))
    assert "Nothing left for you to label" in page.content.decode()
    assert left(client, project) == 0


def test_a_calibration_item_going_into_conflict_does_not_change_what_is_left(
    project, cast, client_for
):
    """Everyone labels a calibration item, whatever its state: a third annotator's count
    must not drop when the first two disagree on it (that would tell them of a conflict)."""
    services.add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    item = in_conflict(project, cast, b_records=[{"symptom": "Hang", "stage": "Inference"}])
    assert item.state == Item.State.CONFLICT
    Item.objects.filter(pk=item.pk).update(calibration=True, batch="b1")
    from django.contrib.auth import get_user_model

    client = client_for(get_user_model().objects.get(username="annotator_c"))
    assert left(client, project) == 1
    # The queue gives it to them indeed.
    response = client.get(reverse("label-next", args=[project.slug]))
    assert response["Location"] == reverse("label-item", args=[project.slug, item.pk])
