"""Blindness: before an item is settled nobody but its annotator sees an annotation, on any
labeling page or endpoint, not even how many annotators already submitted."""

import pytest
from django.urls import reverse

from annotate.labeling.queue import next_item
from annotate.labeling.submission import submit_annotation
from annotate.models import Category, Item
from tests.factories import ItemFactory

SECRET_NOTE = "note-only-annotator-a-wrote"
SECRET_EVIDENCE = "evidence-only-annotator-a-quoted"
A_SYMPTOM = "Hang"
B_SYMPTOM = "Crash > CUDA Error > Out of Memory"
CAST = ["owner", "lead", "annotator_a", "annotator_b", "outsider", None]


pytestmark = pytest.mark.usefixtures("fresh_cache")


def records(project, symptom, evidence=""):
    root = Category.objects.filter(
        dimension__project=project, dimension__key="root_cause", children__isnull=True
    ).first()
    return [
        [
            {"dimension": "symptom", "category": symptom, "evidence": evidence},
            {"dimension": "root_cause", "category": root.pk},
            {"dimension": "stage", "category": "Inference"},
        ]
    ]


@pytest.fixture
def labeled(project, cast):
    """Item `shared`: annotator_a and annotator_b disagree (in conflict, unsettled);
    item `half`: only annotator_a submitted, annotator_b holds it."""
    shared, half = ItemFactory(project=project), ItemFactory(project=project)
    a, b = cast["annotator_a"], cast["annotator_b"]
    for user in (a, b):
        assert next_item(project=project, user=user).pk == shared.pk
    submit_annotation(
        project=project,
        user=a,
        item=shared,
        records=records(project, A_SYMPTOM, SECRET_EVIDENCE),
        note=SECRET_NOTE,
    )
    submit_annotation(project=project, user=b, item=shared, records=records(project, B_SYMPTOM))
    assert next_item(project=project, user=a).pk == half.pk
    submit_annotation(
        project=project,
        user=a,
        item=half,
        records=records(project, A_SYMPTOM, SECRET_EVIDENCE),
        note=SECRET_NOTE,
    )
    assert next_item(project=project, user=b).pk == half.pk
    shared.refresh_from_db()
    assert shared.state == Item.State.CONFLICT
    return {"shared": shared, "half": half}


def exposures(project, labeled):
    """Every labeling page and endpoint that could show an annotation, as (kind, url)."""
    slug = project.slug
    urls = [
        ("page", reverse("label-next", args=[slug])),
        ("page", reverse("label-mine", args=[slug])),
        ("api", reverse("api-labeling-progress", args=[slug])),
    ]
    for item in labeled.values():
        urls += [
            ("page", reverse("label-item", args=[slug, item.pk])),
            ("api", reverse("api-annotation-mine", args=[slug, item.pk])),
        ]
    return urls


@pytest.mark.parametrize("who", CAST)
def test_nobody_but_annotator_a_sees_annotator_as_labels(
    project, cast, labeled, client_for, api_for, who
):
    user = cast[who] if who else None
    client, api = client_for(user), api_for(user)
    for kind, url in exposures(project, labeled):
        response = client.get(url, follow=True) if kind == "page" else api.get(url)
        text = response.content.decode()
        assert response.status_code < 500
        if who != "annotator_a":
            assert SECRET_NOTE not in text, (who, url)
            assert SECRET_EVIDENCE not in text, (who, url)
        assert "submitted_count" not in text and "assigned_count" not in text
    # The queue and the submit reply, too, carry only the caller's own work.
    if who in ("owner", "lead", "annotator_b"):
        reply = api.post(reverse("api-queue-next", args=[project.slug]))
        assert SECRET_NOTE not in reply.content.decode()


def test_annotator_b_sees_neither_as_category_nor_that_a_submitted(
    project, cast, labeled, client_for, api_for
):
    b = cast["annotator_b"]
    half = labeled["half"]
    page = client_for(b).get(reverse("label-item", args=[project.slug, half.pk]))
    text = page.content.decode()
    # The picker lists every category; none is marked as chosen on a fresh item.
    assert ' selected"' not in text
    assert "nothing picked" in text
    mine = api_for(b).get(reverse("api-annotation-mine", args=[project.slug, half.pk]))
    assert mine.status_code == 404
    # Submitting gives back only b's own annotation, and no hint of a's.
    reply = api_for(b).post(
        reverse("api-annotation-submit", args=[project.slug, half.pk]),
        {
            "records": [
                {
                    "labels": [
                        {"dimension": label["dimension"], "category": label["category"]}
                        for label in records(project, B_SYMPTOM)[0]
                    ]
                }
            ]
        },
        format="json",
    )
    assert reply.status_code == 200
    body = reply.content.decode()
    assert A_SYMPTOM not in [r["labels"][0]["path"] for r in reply.json()["records"]]
    assert SECRET_NOTE not in body and SECRET_EVIDENCE not in body
    assert reply.json()["settled"] is False and reply.json()["final"] is None


def test_annotators_get_no_state_counts_that_reveal_conflicts(project, cast, labeled, api_for):
    for who in ("annotator_a", "annotator_b"):
        data = api_for(cast[who]).get(reverse("api-labeling-progress", args=[project.slug]))
        assert set(data.json()["project"]) == {"total", "settled", "percent"}
        assert "conflict" not in data.content.decode()


def test_annotators_locked_out_of_a_conflict_see_only_their_own(project, cast, labeled, client_for):
    page = client_for(cast["annotator_b"]).get(
        reverse("label-item", args=[project.slug, labeled["shared"].pk])
    )
    text = page.content.decode()
    assert "Locked" in text
    assert "conflict" not in text.lower().replace("data-", "")
    assert "Hang" not in text.split("Your annotation")[-1]


# ------------------------------------------------ states that would give a conflict away


def item_states(api, project, **query):
    response = api.get(reverse("api-items", args=[project.slug]), query)
    assert response.status_code == 200, response.content
    return {row["id"]: row["state"] for row in response.json()["results"]}


def test_annotators_see_submitted_never_conflict_in_the_items_api(project, cast, labeled, api_for):
    shared, half = labeled["shared"], labeled["half"]
    a, b = api_for(cast["annotator_a"]), api_for(cast["annotator_b"])
    # annotator_a submitted both (one in conflict, one waiting for b): they look alike.
    assert item_states(a, project) == {shared.pk: "submitted", half.pk: "submitted"}
    # annotator_b submitted the conflict item and still holds the other.
    assert item_states(b, project) == {shared.pk: "submitted", half.pk: "open"}
    for api, item, state in ((a, shared, "submitted"), (b, shared, "submitted"), (b, half, "open")):
        response = api.get(reverse("api-item", args=[project.slug, item.pk]))
        assert response.json()["state"] == state
        assert "conflict" not in response.content.decode()
    for api in (a, b):
        assert "conflict" not in api.get(reverse("api-items", args=[project.slug])).content.decode()
    # Leads and owners see the real state.
    for who in ("lead", "owner"):
        assert item_states(api_for(cast[who]), project)[shared.pk] == "conflict"
        detail = api_for(cast[who]).get(reverse("api-item", args=[project.slug, shared.pk]))
        assert detail.json()["state"] == "conflict"


def test_the_state_filter_matches_what_the_caller_sees(project, cast, labeled, api_for):
    shared, half = labeled["shared"], labeled["half"]
    a, b = api_for(cast["annotator_a"]), api_for(cast["annotator_b"])
    assert item_states(a, project, state="conflict") == {}
    assert set(item_states(a, project, state="submitted")) == {shared.pk, half.pk}
    assert set(item_states(b, project, state="open")) == {half.pk}
    assert set(item_states(b, project, state="submitted")) == {shared.pk}
    lead = api_for(cast["lead"])
    assert set(item_states(lead, project, state="conflict")) == {shared.pk}
    assert set(item_states(lead, project, state="open")) == {half.pk}
    bad = a.get(reverse("api-items", args=[project.slug]), {"state": "frozen"})
    assert bad.status_code == 400 and "state" in bad.json()["fields"]


def test_a_settled_item_shows_settled_to_its_annotators(project, cast, api_for):
    item = ItemFactory(project=project)
    for user in (cast["annotator_a"], cast["annotator_b"]):
        next_item(project=project, user=user)
        submit_annotation(
            project=project, user=user, item=item, records=records(project, B_SYMPTOM)
        )
    assert item_states(api_for(cast["annotator_a"]), project) == {item.pk: "settled"}


def test_resubmitting_an_item_in_conflict_does_not_say_so(
    project, cast, labeled, api_for, client_for
):
    shared = labeled["shared"]
    body = {
        "records": [
            {
                "labels": [
                    {"dimension": label["dimension"], "category": label["category"]}
                    for label in records(project, A_SYMPTOM)[0]
                ]
            }
        ]
    }
    url = reverse("api-annotation-submit", args=[project.slug, shared.pk])
    response = api_for(cast["annotator_a"]).post(url, body, format="json")
    assert response.status_code == 409
    detail = response.json()["detail"].lower()
    assert "can no longer change" in detail
    for word in ("adjudicat", "conflict", "disagree", "other annotat"):
        assert word not in detail, detail
    # The page's form says the same.
    page = client_for(cast["annotator_a"]).post(
        reverse("label-item", args=[project.slug, shared.pk]),
        {f"r0-{label['dimension']}": label["category"] for label in body["records"][0]["labels"]},
    )
    text = page.content.decode().lower()
    assert "can no longer change" in text
    assert "adjudicat" not in text and "conflict" not in text.replace("data-", "")
