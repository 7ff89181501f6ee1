"""The consistency report (issue #19): near-duplicate settled items whose final labels
differ, per dimension; a lead confirms a difference or re-opens an item."""

import pytest
from django.urls import reverse

from annotate.models import ConsistencyReview, FinalLabel
from annotate.precedents.consistency import consistency_report
from tests.builders import record

from .precedents_world import build


@pytest.fixture
def world(project, cast):
    return build(project, cast)


def _pair(world, a, b):
    return tuple(sorted((world[a].pk, world[b].pk)))


def test_the_report_names_the_differing_dimension_of_reworded_duplicates(world, project):
    report = consistency_report(project=project, threshold=0.5)
    pairs = {(p.first.pk, p.second.pk): p for p in report.differing}
    hang = pairs[_pair(world, "hang", "hang_reworded")]
    assert set(hang.differences) == {"symptom"}
    assert hang.differences["symptom"][0] != hang.differences["symptom"][1]
    # Duplicates labeled alike (one error message under two titles; the GitHub marker)
    # are pairs, but not differing ones.
    assert _pair(world, "illegal", "illegal_other_title") not in pairs
    assert _pair(world, "template", "template_marked") not in pairs
    assert report.pairs >= 3 and report.by_dimension == {"symptom": 1}


def test_the_report_agrees_with_a_direct_count(world, project):
    """Independent check: every settled pair compared by hand, the same pairs differ."""
    from mining.duplicates import similar_pairs

    settled = [i for i in world.values() if i.state == "settled"]
    scored = similar_pairs([i.issue_id for i in settled], 0.5)
    by_issue = {i.issue_id: i for i in settled}
    expected = set()
    for a, b in scored:
        la = sorted(
            FinalLabel.objects.get(item=by_issue[a]).labels.values_list("category", flat=True)
        )
        lb = sorted(
            FinalLabel.objects.get(item=by_issue[b]).labels.values_list("category", flat=True)
        )
        if la != lb:
            expected.add(tuple(sorted((by_issue[a].pk, by_issue[b].pk))))
    report = consistency_report(project=project, threshold=0.5)
    assert {(p.first.pk, p.second.pk) for p in report.differing} == expected


def test_a_lead_confirms_a_difference_until_a_label_is_decided_again(
    world, project, cast, client_for
):
    lead = client_for(cast["lead"])
    first, second = sorted((world["hang"], world["hang_reworded"]), key=lambda i: i.pk)
    url = reverse("consistency-confirm", args=[project.slug, first.pk])
    assert lead.post(url, {"other": second.pk}).status_code == 302
    report = consistency_report(project=project, threshold=0.5)
    assert report.differing[0].confirmed is not None and report.open_pairs == []
    FinalLabel.objects.get(item=second).save()  # decided again: decided_at moves
    assert consistency_report(project=project, threshold=0.5).open_pairs


def test_the_page_lists_the_pair_for_leads_and_refuses_annotators(world, project, cast, client_for):
    url = reverse("consistency", args=[project.slug])
    response = client_for(cast["lead"]).get(url, {"threshold": "0.5"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-pair="{_pair(world, "hang", "hang_reworded")[0]}-' in html
    assert "symptom" in html
    assert client_for(cast["annotator_a"]).get(url).status_code == 403
    assert client_for(cast["lead"]).get(url, {"threshold": "2"}).status_code == 400


def test_the_api_reports_the_same_figures(world, project, cast, api_for):
    body = (
        api_for(cast["owner"])
        .get(reverse("api-consistency", args=[project.slug]), {"threshold": "0.5"})
        .json()
    )
    assert body["differing"] == 1 and body["by_dimension"] == {"symptom": 1}
    assert body["results"][0]["differences"]["symptom"]["first"]


def test_the_methods_section_reports_the_near_duplicate_check(world, project):
    from analysis.methods import methods_facts
    from analysis.methods_text import methods_latex, methods_markdown

    facts = methods_facts(project)
    consistency = facts["consistency"]
    report = consistency_report(project=project, threshold=consistency["threshold"])
    assert consistency["pairs"] == report.pairs and consistency["differing"] == len(
        report.differing
    )
    text = methods_markdown(facts)
    assert "Near-duplicate check" in text
    assert f"{consistency['differing']} pair" in text
    assert "Near-duplicate check" in methods_latex(facts)


def _confirm(world, project, client, **data):
    first, second = sorted((world["hang"], world["hang_reworded"]), key=lambda i: i.pk)
    url = reverse("consistency-confirm", args=[project.slug, first.pk])
    return client.post(url, {"other": second.pk, **data}, follow=True)


def test_confirming_keeps_the_threshold_the_lead_was_reading(world, project, cast, client_for):
    """At the default 0.6 a pair found at 0.5 may not be listed: the lead would lose it."""
    response = _confirm(world, project, client_for(cast["lead"]), threshold="0.5")
    page = reverse("consistency", args=[project.slug])
    assert response.redirect_chain[-1][0] == f"{page}?threshold=0.5"
    assert response.context["threshold"] == 0.5
    # A threshold that is not one is dropped, not passed on.
    response = _confirm(world, project, client_for(cast["lead"]), threshold="1;x=<b>")
    assert response.redirect_chain[-1][0] == page


def test_an_over_long_note_is_refused_naming_it_and_nothing_is_written(
    world, project, cast, client_for
):
    response = _confirm(world, project, client_for(cast["lead"]), note="x" * 2001)
    assert not ConsistencyReview.objects.exists()
    assert any("note" in str(m).lower() for m in response.context["messages"])
    _confirm(world, project, client_for(cast["lead"]), note="x" * 2000)
    assert ConsistencyReview.objects.get().note == "x" * 2000


def test_the_settled_count_is_of_the_items_compared(world, project, cast):
    """A settled item whose issue the project may not read (a private repository another
    project fetched) takes no part in the pairs, so it is not among the items compared
    that the methods section names ("among the N settled items")."""
    from tests.builders import LabelBuilder
    from tests.factories import IssueFactory, ItemFactory, RepositoryFactory

    hidden = IssueFactory(repository=RepositoryFactory(private=True), title="Tokenizer hangs")
    LabelBuilder(project).settle(ItemFactory(project=project, issue=hidden), [record()])
    report = consistency_report(project=project, threshold=0.5)
    compared = [i for i in world.values() if i.state == "settled"]
    assert report.settled == len(compared)


@pytest.mark.parametrize(
    "a, b, why",
    [("docs", "hang", "near-duplicates"), ("illegal", "illegal_other_title", "do not differ")],
)
def test_only_a_near_duplicate_pair_that_differs_can_be_confirmed(
    world, project, cast, client_for, a, b, why
):
    """A confirmation is a lead's word on a pair the report listed: two unrelated settled
    items, or near-duplicates labeled alike, are refused, naming why, and nothing is kept."""
    first, second = sorted((world[a], world[b]), key=lambda i: i.pk)
    url = reverse("consistency-confirm", args=[project.slug, first.pk])
    response = client_for(cast["lead"]).post(
        url, {"other": second.pk, "threshold": "0.5"}, follow=True
    )
    assert not ConsistencyReview.objects.exists()
    assert any(why in str(m) for m in response.context["messages"])
