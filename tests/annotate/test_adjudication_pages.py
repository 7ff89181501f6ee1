"""The lead's pages: queue, conflict view and decision, discussion, history, review."""

import pytest
from django.urls import reverse

from annotate.adjudication.decisions import decide_item, parse_records
from annotate.models import FinalLabel, Item
from tests.builders import (
    ASSERTION,
    DEVICE,
    OOM,
    category,
    in_conflict,
    record,
    wire,
)

MANAGER_ONLY = {"owner": 200, "lead": 200, "annotator_a": 403, "outsider": 404}


@pytest.fixture
def conflict(project, cast):
    return in_conflict(project, cast, [record(OOM)], [record(DEVICE)])


def _pages(project, item):
    kwargs = {"slug": project.slug, "item_id": item.pk}
    return [
        reverse("conflict-queue", kwargs={"slug": project.slug}),
        reverse("conflict-detail", kwargs=kwargs),
        reverse("item-history", kwargs=kwargs),
        reverse("codebook-review", kwargs={"slug": project.slug}),
        reverse("codebook-edit", kwargs={"slug": project.slug}),
    ]


@pytest.mark.parametrize("who", list(MANAGER_ONLY))
def test_lead_pages_for_the_whole_cast(client_for, cast, project, conflict, who):
    client = client_for(cast[who])
    for url in _pages(project, conflict):
        assert client.get(url).status_code == MANAGER_ONLY[who], url


def test_anonymous_visitors_are_sent_to_log_in(client_for, project, conflict):
    response = client_for(None).get(reverse("conflict-queue", kwargs={"slug": project.slug}))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["annotator_a", "outsider"])
def test_annotators_cannot_post_decisions_or_actions(client_for, cast, project, conflict, who):
    kwargs = {"slug": project.slug, "item_id": conflict.pk}
    client = client_for(cast[who])
    for name in ["conflict-decide", "conflict-discuss", "item-reopen"]:
        response = client.post(reverse(name, kwargs=kwargs), {"record_count": 0})
        assert response.status_code == MANAGER_ONLY[who]
    assert Item.objects.get(pk=conflict.pk).state == Item.State.CONFLICT


def test_queue_lists_conflicts_with_their_differences_and_filters(
    client_for, cast, project, conflict, django_assert_max_num_queries
):
    for _ in range(4):
        in_conflict(project, cast, [record(OOM)], [record(ASSERTION)])
    client = client_for(cast["lead"])
    url = reverse("conflict-queue", kwargs={"slug": project.slug})
    # Cold (the first request after a change): the facets, then the queue's order, cached.
    with django_assert_max_num_queries(17):
        page = client.get(url).content.decode()
    assert page.count('class="queue-row"') == 5
    assert "symptom L3: Out of Memory ↔ Device Error" in page
    filtered = client.get(url, {"dimension": "stage"}, HTTP_HX_REQUEST="true").content.decode()
    assert "0</strong> matching items" in filtered and "<html" not in filtered


def test_conflict_view_shows_both_sides_with_differences_highlighted(
    client_for, cast, project, conflict, django_assert_max_num_queries
):
    client = client_for(cast["lead"])
    # Cold: the data version, then the queue's order (for "next conflict"), cached; the
    # issue's fix links; the precedents list (issue #19: refresh, own parts, lookup, items,
    # labels).
    with django_assert_max_num_queries(27):
        page = client.get(
            reverse("conflict-detail", kwargs={"slug": project.slug, "item_id": conflict.pk})
        )
    html = page.content.decode()
    assert "annotator_a" in html and "annotator_b" in html
    assert '<span class="level differs" title="level 3">Out of Memory</span>' in html
    assert '<span class="level" title="level 2">CUDA Error</span>' in html
    assert "quote for symptom" in html and "<p>A's note</p>" in html
    assert 'id="decision-form"' in html


def test_hidden_names_stay_hidden_from_the_lead(client_for, cast, project, conflict):
    project.hide_annotator_names = True
    project.save()
    client = client_for(cast["lead"])
    kwargs = {"slug": project.slug, "item_id": conflict.pk}
    html = client.get(reverse("conflict-detail", kwargs=kwargs)).content.decode()
    assert "annotator_a" not in html and "Annotator A" in html
    history = client.get(reverse("item-history", kwargs=kwargs)).content.decode()
    assert "annotator_b" not in history


def _form(project, records, **extra):
    data = {"record_count": len(records)}
    for index, rec in enumerate(records):
        data[f"r{index}-present"] = "1"
        for key, path in rec.items():
            data[f"r{index}-{key}"] = category(project, key, path).pk
    return {**data, **extra}


def test_decision_form_settles_and_moves_on(client_for, cast, project, conflict):
    nxt = in_conflict(project, cast, [record(OOM)], [record(ASSERTION)])
    url = reverse("conflict-decide", kwargs={"slug": project.slug, "item_id": conflict.pk})
    response = client_for(cast["lead"]).post(url, _form(project, [record(DEVICE)]))
    assert response.status_code == 302
    assert response["Location"].endswith(f"/conflicts/{nxt.pk}/")
    final = FinalLabel.objects.get(item=conflict)
    assert (final.provenance, final.decided_by) == ("adjudicated", cast["lead"])


def test_decision_form_requires_a_rationale_to_override_both(client_for, cast, project, conflict):
    url = reverse("conflict-decide", kwargs={"slug": project.slug, "item_id": conflict.pk})
    client = client_for(cast["lead"])
    response = client.post(url, _form(project, [record(ASSERTION)], error_kind="codebook_gap"))
    # Post/Redirect/Get (issue #15): back on the conflict page, the error shown there with
    # the form as the lead filled it, once.
    detail = reverse("conflict-detail", kwargs={"slug": project.slug, "item_id": conflict.pk})
    assert response.status_code == 302 and response["Location"] == detail
    html = client.get(detail).content.decode()
    assert 'id="decision-error"' in html and "A rationale is required" in html
    assert '<option value="codebook_gap" selected>' in html
    chosen = category(project, "symptom", ASSERTION).pk
    assert f'<option value="{chosen}" selected>' in html
    assert "A rationale is required" not in client.get(detail).content.decode()
    assert not FinalLabel.objects.filter(item=conflict).exists()
    ok = client.post(
        url,
        _form(
            project,
            [record(ASSERTION), record(OOM)],
            rationale="An assert, then OOM.",
            codebook_needs_work="1",
        ),
    )
    assert ok.status_code == 302
    final = FinalLabel.objects.get(item=conflict)
    assert final.labels.count() == 6 and final.codebook_needs_work
    review = client.get(reverse("codebook-review", kwargs={"slug": project.slug}))
    assert "An assert, then OOM." in review.content.decode()


@pytest.mark.parametrize("count", ["x", "1e3", "😀", "2.5", "-"])
def test_a_record_count_that_is_not_a_number_is_refused_not_a_crash(
    client_for, cast, project, conflict, count
):
    url = reverse("conflict-decide", kwargs={"slug": project.slug, "item_id": conflict.pk})
    client = client_for(cast["lead"])
    response = client.post(url, {**_form(project, [record(DEVICE)]), "record_count": count})
    detail = reverse("conflict-detail", kwargs={"slug": project.slug, "item_id": conflict.pk})
    assert response.status_code == 302 and response["Location"] == detail
    assert client.get(detail).status_code == 200
    assert not FinalLabel.objects.filter(item=conflict).exists()


def test_discussion_page_shows_each_other_labels_only_in_discussion(
    client_for, cast, project, conflict
):
    kwargs = {"slug": project.slug, "item_id": conflict.pk}
    url = reverse("item-discussion", kwargs=kwargs)
    annotator = client_for(cast["annotator_a"])
    assert annotator.get(url).status_code == 403
    response = client_for(cast["lead"]).post(reverse("conflict-discuss", kwargs=kwargs))
    assert response.status_code == 302
    queue = client_for(cast["lead"]).get(reverse("conflict-queue", kwargs={"slug": project.slug}))
    assert 'id="in-discussion"' in queue.content.decode()
    html = annotator.get(url).content.decode()
    assert "You" in html and "Device Error" in html and "Out of Memory" in html
    assert "annotator_b" not in html
    assert client_for(cast["outsider"]).get(url).status_code == 404


def test_history_page_shows_provenance_and_every_event(client_for, cast, project, conflict):
    decide_item(
        item=conflict,
        actor=cast["lead"],
        records=parse_records(project=project, raw_records=[wire(record(ASSERTION))]),
        rationale="Neither: an assertion.",
    )
    client = client_for(cast["owner"])
    kwargs = {"slug": project.slug, "item_id": conflict.pk}
    reopen = client.post(reverse("item-reopen", kwargs=kwargs), {"reason": "New evidence"})
    assert reopen.status_code == 302
    html = client.get(reverse("item-history", kwargs=kwargs)).content.decode()
    assert 'id="final-provenance">adjudicated' in html
    assert "Neither: an assertion." in html and "New evidence" in html
    assert html.count('class="event"') == 3
