"""The conflict queue's pages (issues #15 and #16): keyset pages of a chosen size, read from
the queue's order cached per data version, so a warm page costs the same few queries
whatever its size, its filters or how far into the queue it is."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.adjudication.conflicts import conflict_queue
from annotate.adjudication.decisions import decide_item, parse_records
from tests.builders import (
    ASSERTION,
    CPU_MEMORY,
    DEVICE,
    GPU_MEMORY,
    OOM,
    in_conflict,
    record,
    wire,
)

ROWS = 27  # past one page of the smallest size (25)


@pytest.fixture
def queue(project, cast):
    items = [in_conflict(project, cast, [record(OOM)], [record(DEVICE)]) for _ in range(ROWS - 1)]
    items.append(
        in_conflict(
            project, cast, [record(root_cause=GPU_MEMORY)], [record(root_cause=CPU_MEMORY)]
        )  # fmt: skip
    )
    return items


def url_of(project, query=""):
    return f"/projects/{project.slug}/conflicts/{query}"


def shown(project, html: str) -> list[int]:
    pattern = rf'data-href="/projects/{project.slug}/conflicts/(\d+)/"'
    return [int(pk) for pk in re.findall(pattern, html)]


def next_url(html: str) -> str:
    found = re.search(r'<a href="([^"]+)" id="queue-next"', html)
    assert found is not None, "no next page"
    return unescape(found[1])


def queries(client, url) -> int:
    client.get(url)  # warm: the facets and the order, once per data version
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_warm_page_costs_the_same_queries_whatever_its_size_filters_or_place(
    project, cast, client_for, queue
):
    lead = client_for(cast["lead"])
    first = queries(lead, url_of(project, "?size=25"))
    second_page = next_url(lead.get(url_of(project, "?size=25")).content.decode())
    # session, user, membership, data version, dimensions, the page's rows, their open
    # differences, the Inbox badge: no count and no ordering of the whole queue.
    assert first <= 8, first
    assert queries(lead, second_page) == first
    assert queries(lead, url_of(project, "?size=200")) == first
    assert queries(lead, url_of(project, "?dimension=symptom&size=25")) == first
    assert queries(lead, url_of(project, "?group=Qwen")) == first


def test_the_pages_walk_the_whole_queue_oldest_first_keeping_filters_and_size(
    project, cast, client_for, queue
):
    lead = client_for(cast["lead"])
    page = lead.get(url_of(project, "?dimension=symptom&size=25")).content.decode()
    assert '"queue-count">26<' in page and "1–25 shown" in page
    assert 'id="queue-next">Next 1 item<' in page  # what follows, not the page size
    assert 'id="queue-first"' not in page  # already the first page
    following = next_url(page)
    assert "dimension=symptom" in following and "size=25" in following
    rest = lead.get(following).content.decode()
    assert "26–26 shown" in rest and 'id="queue-next"' not in rest and 'id="queue-first"' in rest
    expected = [item.pk for item in conflict_queue(project, dimension="symptom")]
    assert shown(project, page) + shown(project, rest) == expected
    default = lead.get(url_of(project)).content.decode()
    assert len(shown(project, default)) == ROWS  # 50 a page by default
    assert '<option value="50" selected>' in default


def test_a_page_marker_holds_after_its_item_is_decided(project, cast, client_for, queue):
    lead = client_for(cast["lead"])
    page = lead.get(url_of(project, "?size=25")).content.decode()
    last = shown(project, page)[-1]
    decide_item(
        item=next(item for item in queue if item.pk == last),
        actor=cast["lead"],
        records=parse_records(project=project, raw_records=[wire(record(ASSERTION))]),
        rationale="Neither: an assertion.",
    )
    rest = lead.get(next_url(page)).content.decode()
    assert shown(project, rest) == [item.pk for item in conflict_queue(project)][24:]
    assert last not in shown(project, rest) and '"queue-count">26<' in rest


@pytest.mark.parametrize(
    "query, problem",
    [
        ("?size=7", "'size=7' is not a page size; choose one of 25, 50, 100, 200."),
        ("?size=-1", "'size=-1' is not a page size"),
        # A superscript two is a digit to str.isdigit() but not to int() (was a 500);
        # fullwidth and Arabic-Indic digits were taken as 25.
        ("?size=%C2%B2", "'size=\u00b2' is not a page size"),
        ("?size=2%E2%91%A0", "is not a page size"),
        ("?size=%EF%BC%92%EF%BC%95", "is not a page size"),
        ("?size=%D9%A2%D9%A5", "is not a page size"),
        ("?after=1.2", "'after=1.2' is not a page of this queue"),
        ("?after=99999999999999999999999.1.1", "is not a page of this queue"),
    ],
)
def test_a_bad_page_size_or_marker_is_a_400_that_says_which(
    project, cast, client_for, conflict_item, query, problem
):
    reply = client_for(cast["lead"]).get(url_of(project, query))
    assert reply.status_code == 400
    assert problem in unescape(reply.content.decode())


@pytest.fixture
def conflict_item(project, cast):
    return in_conflict(project, cast, [record(OOM)], [record(DEVICE)])


def test_the_conflict_page_links_the_oldest_other_item_at_the_same_cost_for_2_or_12(
    project, cast, client_for
):
    lead = client_for(cast["lead"])
    first, second = (in_conflict(project, cast, [record(OOM)], [record(DEVICE)]) for _ in "ab")
    url = url_of(project, f"{second.pk}/")
    few = queries(lead, url)
    page = lead.get(url).content.decode()
    assert f'href="/projects/{project.slug}/conflicts/{first.pk}/">next conflict' in page
    for _ in range(10):
        in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    assert queries(lead, url) == few <= 26, few  # 20; the fix links; up to 5 for precedents
    first_page = lead.get(url_of(project, f"{first.pk}/")).content.decode()
    assert f'href="/projects/{project.slug}/conflicts/{second.pk}/">next conflict' in first_page


def test_walking_the_pages_while_items_are_decided_skips_and_repeats_none(
    project, cast, client_for, queue
):
    """Decisions between page loads, on the page just read and on one not yet read: every
    item still in conflict is shown exactly once."""
    lead = client_for(cast["lead"])
    order = [item.pk for item in conflict_queue(project)]
    by_pk = {item.pk: item for item in queue}
    seen, url, decided = [], url_of(project, "?size=25"), set()
    while url:
        page = lead.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        seen += shown(project, html)
        for pk in (seen[0], order[len(seen)] if len(seen) < len(order) else None):
            if pk is None or pk in decided:
                continue
            decide_item(
                item=by_pk[pk],
                actor=cast["lead"],
                records=parse_records(project=project, raw_records=[wire(record(ASSERTION))]),
                rationale="Neither: an assertion.",
            )
            decided.add(pk)
        found = re.search(r'<a href="([^"]+)" id="queue-next"', html)
        url = unescape(found[1]) if found else ""
    assert len(seen) == len(set(seen))
    assert set(seen) | decided == set(order)


def test_a_reopened_unanimous_item_waits_from_its_reopening_at_the_end_of_the_queue(
    project, cast, client_for
):
    from annotate.adjudication.discussion import reopen_item
    from annotate.models import Item
    from tests.builders import label_both
    from tests.factories import ItemFactory

    agreed = ItemFactory(project=project)
    assert label_both(agreed, cast, [record(OOM)], [record(OOM)]) == Item.State.SETTLED
    later = [in_conflict(project, cast, [record(OOM)], [record(DEVICE)]) for _ in range(2)]
    reopen_item(item=Item.objects.get(pk=agreed.pk), actor=cast["lead"], reason="Check again.")
    html = client_for(cast["lead"]).get(url_of(project, "?size=25")).content.decode()
    assert shown(project, html) == [item.pk for item in later] + [agreed.pk]
