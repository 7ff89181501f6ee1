"""The item browser's count on a large list (issue #15's speed goal): exact up to
COUNT_CAP, then the planner's estimate shown as "about N" (and said to be one), instead of
counting up to 10,001 rows on every request; a search that may be ranked is still counted
exactly up to RANK_CAP, so whether it is ranked does not rest on an estimate."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.browse import listing
from tests.factories import ItemFactory

from .test_browse import shown, url, weak_and_strong

COUNT = re.compile(r'id="item-count">([^<]+)<')


@pytest.fixture
def lead(client_for, cast):
    return client_for(cast["lead"])


def analyze():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotate_item, mining_issue, mining_issuesearch")


def counts(captured) -> list[str]:
    """The list's counts (not the navigation's inbox badge, which is raw SQL)."""
    return [q["sql"] for q in captured if "COUNT(" in q["sql"] and '"annotate_item"' in q["sql"]]


def test_past_the_cap_the_list_shows_the_planners_estimate_as_about_n(project, lead, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    ItemFactory.create_batch(60, project=project)
    analyze()
    with CaptureQueriesContext(connection) as captured:
        response = lead.get(url(project))
    html = response.content.decode()
    shown_count = COUNT.search(html).group(1)
    assert shown_count.startswith("about "), shown_count
    assert 30 <= int(shown_count.removeprefix("about ")) <= 120  # the planner's, near 60
    assert 'id="count-estimated"' in html and "not counted one by one" in html
    # One count, stopped at the cap; the estimate is an EXPLAIN, which reads no rows.
    [count] = counts(captured)
    assert "LIMIT 6" in count
    assert [q for q in captured if q["sql"].startswith("EXPLAIN (FORMAT JSON)")]
    assert len(shown(response)) == 50


def test_under_the_cap_the_count_is_exact_and_no_estimate_is_asked(project, lead):
    ItemFactory.create_batch(7, project=project)
    with CaptureQueriesContext(connection) as captured:
        html = lead.get(url(project)).content.decode()
    assert COUNT.search(html).group(1) == "7"
    assert 'id="count-estimated"' not in html
    assert not [q for q in captured if q["sql"].startswith("EXPLAIN")]


def test_a_search_the_planner_expects_to_rank_is_counted_exactly_up_to_the_rank_cap(
    project, lead, monkeypatch
):
    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    monkeypatch.setattr(listing, "RANK_CAP", 50)
    weak, strong = weak_and_strong(project, 3)
    analyze()
    with CaptureQueriesContext(connection) as captured:
        response = lead.get(url(project, q="segfault"))
    html = response.content.decode()
    assert COUNT.search(html).group(1) == "4"
    assert "best match first" in html and 'id="unranked"' not in html
    assert shown(response)[-1] == weak.pk and set(shown(response)[:3]) == {s.pk for s in strong}
    first, second = counts(captured)  # up to COUNT_CAP, then (rankable) up to RANK_CAP
    assert "LIMIT 3" in first and "LIMIT 51" in second


@pytest.mark.parametrize("estimate", [1_001, 1_004, 1_049])
def test_an_estimate_that_rounds_to_the_cap_says_more_than_the_cap(
    project, lead, monkeypatch, estimate
):
    """Past the cap more than 1,000 items are known to match: an estimate rounded down to
    1,000 ("about 1000") would say fewer than the list holds."""
    monkeypatch.setattr(listing, "capped_count", lambda items, cap=None: (listing.COUNT_CAP, True))
    monkeypatch.setattr(listing, "planner_estimate", lambda items: estimate)
    ItemFactory.create_batch(2, project=project)
    html = lead.get(url(project)).content.decode()
    assert COUNT.search(html).group(1) == f"more than {listing.COUNT_CAP}"
    assert 'id="count-estimated"' not in html
