"""The conflict page answers without its precedents (issue #15's speed goal): the
similarity lookup of issue #19 was most of the page's time on a large project, so the
list arrives after the page, from a part that checks the same access as the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .precedents_world import RATIONALE, build


@pytest.fixture
def world(project, cast):
    return build(project, cast)


def _urls(project, item) -> tuple[str, str]:
    args = [project.slug, item.pk]
    return reverse("conflict-detail", args=args), reverse("conflict-precedents", args=args)


def test_the_conflict_page_runs_no_similarity_lookup_and_loads_the_precedents_after(
    world, project, cast, client_for
):
    page_url, part_url = _urls(project, world["oom_reworded"])
    lead = client_for(cast["lead"])
    with CaptureQueriesContext(connection) as captured:
        html = lead.get(page_url).content.decode()
    assert not [q["sql"] for q in captured if "similarity(" in q["sql"]]
    assert f'hx-get="{part_url}" hx-trigger="load"' in html
    assert RATIONALE not in html

    part = lead.get(part_url, HTTP_HX_REQUEST="true")
    assert part.status_code == 200
    assert part.context["precedents"][0].item == world["oom"]
    body = part.content.decode()
    assert 'id="precedents"' in body and RATIONALE in body and "<html" not in body
    assert "Crash &gt; CUDA Error &gt; Out of Memory" in body


def test_the_page_costs_fewer_queries_than_with_the_lookup(world, project, cast, client_for):
    page_url, _ = _urls(project, world["oom_reworded"])
    lead = client_for(cast["lead"])
    lead.get(page_url)  # the queue's order, cached per data version
    with CaptureQueriesContext(connection) as captured:
        assert lead.get(page_url).status_code == 200
    # 20 before the precedents moved out (test_queue_pages), plus the fix links.
    assert len(captured) <= 21, [q["sql"][:80] for q in captured]


@pytest.mark.parametrize("who, status", [("annotator_a", 403), ("outsider", 404)])
def test_the_precedents_part_is_for_leads_only(world, project, cast, client_for, who, status):
    _, part_url = _urls(project, world["oom_reworded"])
    reply = client_for(cast[who]).get(part_url, HTTP_HX_REQUEST="true")
    assert reply.status_code == status
    assert RATIONALE not in reply.content.decode()
