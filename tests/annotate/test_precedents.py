"""Precedents on the conflict page and after submitting (issue #19), with their blindness
rules: only settled items, and an annotator only once their own annotation is in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate.models import Item
from tests.builders import LabelBuilder, paths, record, submit
from tests.factories import IssueFactory, ItemFactory

from .precedents_world import RATIONALE, build


@pytest.fixture
def world(project, cast):
    return build(project, cast)


def _page(client_for, user, name, project, item):
    return client_for(user).get(reverse(name, args=[project.slug, item.pk]))


def test_the_conflict_page_lists_the_settled_near_duplicate_with_its_labels_and_rationale(
    world, project, cast, client_for
):
    # Loaded after the page (tests/annotate/test_conflict_page_parts.py).
    response = _page(
        client_for, cast["lead"], "conflict-precedents", project, world["oom_reworded"]
    )
    assert response.status_code == 200
    precedents = response.context["precedents"]
    assert precedents[0].item == world["oom"]
    assert paths(precedents[0].records) == [record()]
    html = response.content.decode()
    assert 'id="precedents"' in html and RATIONALE in html
    assert "Crash &gt; CUDA Error &gt; Out of Memory" in html


def test_an_unsettled_similar_item_is_never_a_precedent(world, project, cast, client_for):
    response = _page(
        client_for, cast["lead"], "conflict-precedents", project, world["oom_reworded"]
    )
    listed = {p.item.pk for p in response.context["precedents"]}
    assert world["oom_same_title"].pk not in listed  # very similar, but not settled
    assert all(p.item.state == Item.State.SETTLED for p in response.context["precedents"])


def test_an_annotator_sees_no_precedents_before_submitting(world, project, cast, client_for):
    item = world["oom_same_title"]  # held by annotator A, not yet labeled by A
    response = _page(client_for, cast["annotator_a"], "label-item", project, item)
    assert response.status_code == 200
    assert response.context["precedents"] is None
    assert 'id="precedents"' not in response.content.decode()
    assert RATIONALE not in response.content.decode()


def test_an_annotator_sees_the_precedents_once_their_annotation_is_in(
    world, project, cast, client_for
):
    item = world["oom_same_title"]
    submit(item, cast["annotator_a"], [record()])
    response = _page(client_for, cast["annotator_a"], "label-item", project, item)
    precedents = response.context["precedents"]
    assert [p.item for p in precedents][:1] == [world["oom"]]
    assert RATIONALE in response.content.decode()
    # The item in conflict (its reworded twin) is unsettled: neither listed nor its labels.
    assert world["oom_reworded"].pk not in {p.item.pk for p in precedents}


def test_the_similar_items_api_keeps_annotators_blind(world, project, cast, api_for):
    item = world["oom_same_title"]
    url = reverse("api-similar", args=[project.slug, item.pk])
    assert api_for(cast["annotator_a"]).get(url).status_code == 403  # not submitted yet
    submit(item, cast["annotator_a"], [record()])
    rows = api_for(cast["annotator_a"]).get(url).json()
    assert rows and all(row["settled"] and row["final_label"] for row in rows)
    assert rows[0]["item"] == world["oom"].pk
    assert rows[0]["final_label"]["rationale"] == RATIONALE


def test_leads_see_unsettled_similar_items_but_never_their_labels(world, project, cast, api_for):
    url = reverse("api-similar", args=[project.slug, world["oom"].pk])
    rows = {row["item"]: row for row in api_for(cast["lead"]).get(url + "?limit=20").json()}
    unsettled = rows[world["oom_same_title"].pk]
    assert unsettled["settled"] is False and unsettled["final_label"] is None
    assert rows[world["oom_reworded"].pk]["same_error"] is True


@pytest.mark.parametrize("limit", ["0", "51", "abc", "１", "-1", "9" * 40])
def test_a_bad_limit_is_a_400_naming_it(world, project, cast, api_for, limit):
    url = reverse("api-similar", args=[project.slug, world["oom"].pk])
    response = api_for(cast["lead"]).get(url, {"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()["fields"]


def test_duplicate_groups_of_the_projects_items(world, project, cast, api_for):
    url = reverse("api-duplicates", args=[project.slug])
    body = api_for(cast["lead"]).get(url, {"threshold": "0.5"}).json()
    groups = [{m["item"] for m in g["members"]} for g in body["groups"]]
    assert {world[k].pk for k in ("oom", "oom_reworded", "oom_same_title")} in groups
    marked = next(g for g in body["groups"] if g["reasons"] == ["GitHub marker"])
    assert marked["representative"] == world["template"].pk


@pytest.mark.parametrize("threshold", ["0", "1.5", "nan", "x", "-0.2", "inf"])
def test_a_bad_threshold_is_a_400_naming_it(world, project, cast, api_for, threshold):
    for name in ("api-duplicates", "api-consistency"):
        response = api_for(cast["lead"]).get(
            reverse(name, args=[project.slug]), {"threshold": threshold}
        )
        assert response.status_code == 400
        assert set(response.json()) == {"detail", "code", "fields"}
        assert "threshold" in response.json()["fields"]


def test_precedents_take_five_queries_and_follow_settling_and_re_opening(
    world, project, cast, django_assert_num_queries
):
    from annotate.adjudication.discussion import reopen_item
    from annotate.precedents.lookup import precedents_for

    item = world["oom_reworded"]
    precedents_for(project=project, item=item)  # the search rows built
    # the deferred refresh, the issue's parts, the doors, the items, their final records
    with django_assert_num_queries(5):
        listed = precedents_for(project=project, item=item)
    assert listed[0].item == world["oom"]
    reopen_item(item=world["oom"], actor=cast["lead"], reason="Check the root cause again.")
    # Its final label stays until decided again, but it is no longer settled: not listed.
    assert world["oom"].pk not in {p.item.pk for p in precedents_for(project=project, item=item)}


def _rows_and_queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(response.json()), len(captured)


def _settled_twins(world, project, names):
    labels = LabelBuilder(project)
    for name in names:
        issue = IssueFactory(
            repository=world["oom"].issue.repository,
            title=f"CUDA out of memory when loading Qwen2.5-72B on {name}",
            body=world["oom"].issue.body,
        )
        labels.settle(ItemFactory(project=project, issue=issue), [record()])


def test_similar_items_cost_the_same_queries_for_few_or_many_settled_rows(
    world, project, cast, api_for
):
    """Each settled row's final records come with the list, not one query per row."""
    url = reverse("api-similar", args=[project.slug, world["oom"].pk]) + "?limit=50"
    lead = api_for(cast["lead"])
    _settled_twins(world, project, ["node a"])
    lead.get(url)
    few_rows, few = _rows_and_queries(lead, url)
    _settled_twins(world, project, [f"node {k}" for k in range(6)])
    lead.get(url)
    many_rows, many = _rows_and_queries(lead, url)
    assert many_rows >= few_rows + 6
    assert many == few
