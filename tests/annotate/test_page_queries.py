"""Query counts of the lead's and the annotator's busiest pages (issue #15): a warm page
costs the same few queries however many items wait, and the counts over every item are
read once per data version."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.labeling.queue import next_item
from tests.builders import HANG, OOM, in_conflict, record
from tests.factories import ItemFactory


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def conflicts(project, cast, n):
    for _ in range(n):
        in_conflict(project, cast, [record(symptom=OOM)], [record(symptom=HANG)])


def test_the_conflict_queue_costs_the_same_queries_for_2_or_12_items(project, cast, client_for):
    lead = client_for(cast["lead"])
    url = f"/projects/{project.slug}/conflicts/"
    conflicts(project, cast, 2)
    lead.get(url)  # the facets: once per data version
    few = queries(lead, url)
    conflicts(project, cast, 10)
    lead.get(url)
    many = queries(lead, url)
    assert many == few <= 8
    assert queries(lead, f"{url}?dimension=symptom") <= 10  # narrowed: one count more


def test_the_queue_reads_its_facets_again_after_a_change(project, cast, client_for):
    lead = client_for(cast["lead"])
    url = f"/projects/{project.slug}/conflicts/"
    conflicts(project, cast, 1)
    assert ">1 in conflict<" in lead.get(url).content.decode()
    conflicts(project, cast, 1)
    page = lead.get(url).content.decode()
    assert ">2 in conflict<" in page and '"queue-count">2<' in page


def test_the_labeling_page_costs_the_same_queries_for_3_or_30_items(project, cast, client_for):
    annotator = client_for(cast["annotator_a"])
    ItemFactory.create_batch(3, project=project)
    item = next_item(project=project, user=cast["annotator_a"])
    url = f"/projects/{project.slug}/label/{item.pk}/"
    annotator.get(url)
    few = queries(annotator, url)
    ItemFactory.create_batch(27, project=project)
    annotator.get(url)
    assert queries(annotator, url) == few, few
    assert few <= 14, few  # 12, the Inbox badge in the project bar, the fix links


def test_cached_values_are_keyed_by_the_format_of_this_release(project):
    """An upgrade that changes what a cached table or fact holds must not serve the entries
    the code before it wrote (same project, same data version)."""
    from annotate import versioned

    key = versioned._key(project, 7, ("methods",))
    assert key.startswith(f"{versioned.FORMAT}:") and versioned.FORMAT != "v1"
