"""The analysis pages' cache (issue #15): every kind of change shows on the next request,
whichever way it was written; a reader never gets output cached for another's visibility;
a warm page costs a few queries."""

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.cache import data_version
from annotate.adjudication.decisions import decide_item, parse_records
from annotate.codebook.services import rename_category
from annotate.labeling.queue import next_item
from annotate.labeling.submission import submit_annotation
from annotate.models import Item
from dataset.importing import collect_sources, import_dataset
from mining.models import ProjectRepository
from tests.builders import (
    ASSERTION,
    HANG,
    OOM,
    LabelBuilder,
    category,
    in_conflict,
    label_both,
    record,
    wire,
)
from tests.factories import ItemFactory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "olf"


def total(page: str) -> int:
    """The record count the distributions panel states."""
    return int(re.search(r"; (\d+) records\.", page)[1])


def page(client, project, **params):
    reply = client.get(f"/projects/{project.slug}/distributions/", params)
    assert reply.status_code == 200, reply.content[:300]
    return reply.content.decode()


@pytest.fixture
def settled(project, repos):
    """Three settled items, one per repository group plus one more of Qwen's."""
    labels = LabelBuilder(project)
    for repo, symptom in ((repos["Qwen"], OOM), (repos["Llama"], HANG), (repos["Qwen"], OOM)):
        labels.settle(labels.item(repo), [record(symptom=symptom)])
    return labels


def test_a_submitted_label_shows_on_the_next_request(project, cast, settled, client_for):
    lead = client_for(cast["lead"])
    mine = {"source": "annotator:annotator_a"}
    assert "No records yet" in page(lead, project, **mine)
    ItemFactory(project=project)
    item = next_item(project=project, user=cast["annotator_a"])
    labels = [{"dimension": key, "category": path} for key, path in record().items()]
    submit_annotation(project=project, user=cast["annotator_a"], item=item, records=[labels])
    assert total(page(lead, project, **mine)) == 1


def test_a_settled_final_label_shows_on_the_next_request(project, cast, settled, client_for):
    lead = client_for(cast["lead"])
    assert total(page(lead, project)) == 3
    item = in_conflict(project, cast, [record(symptom=OOM)], [record(symptom=HANG)])
    assert total(page(lead, project)) == 3  # a conflict is not a final label
    records = parse_records(project=project, raw_records=[wire(record(symptom=ASSERTION))])
    decide_item(item=item, actor=cast["lead"], records=records, rationale="the log says so")
    rq1 = page(lead, project)
    assert total(rq1) == 4 and "Crash" in rq1


def test_a_renamed_category_shows_on_the_next_request(project, cast, settled, client_for):
    lead = client_for(cast["lead"])
    assert ">Hang<" in page(lead, project)
    hang = category(project, "symptom", "Hang")
    rename_category(project=project, actor=cast["owner"], category=hang, name="Stall")
    rq1 = page(lead, project)
    assert ">Stall<" in rq1 and ">Hang<" not in rq1


def test_a_changed_repository_group_shows_on_the_next_request(
    project, cast, settled, repos, client_for
):
    lead = client_for(cast["lead"])
    assert ">Llama<" in page(lead, project, view="rq4")
    # Any write path (a page, the admin, SQL) moves the version: the trigger sees them all.
    ProjectRepository.objects.filter(repository=repos["Llama"]).update(group="Meta")
    rq4 = page(lead, project, view="rq4")
    assert ">Meta<" in rq4 and ">Llama<" not in rq4


def test_an_import_shows_on_the_next_request(project, cast, settled, client_for):
    lead = client_for(cast["lead"])
    assert total(page(lead, project)) == 3
    result = import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    assert total(page(lead, project)) == 3 + result.records


def test_the_agreement_page_and_api_follow_new_labels(project, cast, client_for, api_for):
    api = api_for(cast["lead"])
    url = f"/api/projects/{project.slug}/agreement/"

    def symptom_n():
        rows = api.get(url).json()["rows"]
        return next(r for r in rows if r["dimension"] == "symptom" and r["level"] == 1)["n"]

    label_both(ItemFactory(project=project), cast)
    assert symptom_n() == 1
    lead = client_for(cast["lead"])
    assert lead.get(f"/projects/{project.slug}/agreement/").status_code == 200
    label_both(ItemFactory(project=project), cast, [record()], [record(symptom=HANG)])
    assert symptom_n() == 2
    assert "2 items" in lead.get(f"/projects/{project.slug}/reporting/").content.decode()


def test_the_version_moves_with_data_and_not_with_the_queue(project, cast, settled):
    start = data_version(project)
    ItemFactory(project=project)
    after_item = data_version(project)
    assert after_item > start
    next_item(project=project, user=cast["annotator_a"])  # claims: counters only
    assert data_version(project) == after_item
    Item.objects.filter(project=project).update(calibration=True)
    assert data_version(project) > after_item


def test_an_annotator_never_reads_a_lead_s_cached_output(project, cast, client_for):
    """The lead's view of annotator_a's labels (every item) is cached first; annotator_a
    then sees only settled items, annotator_b none of them, and agreement stays closed."""
    settled_item = ItemFactory(project=project)
    label_both(settled_item, cast)
    assert Item.objects.get(pk=settled_item.pk).state == Item.State.SETTLED
    in_conflict(project, cast, [record(symptom=OOM)], [record(symptom=HANG)])
    lead, a, b = (client_for(cast[n]) for n in ("lead", "annotator_a", "annotator_b"))
    theirs = {"source": "annotator:annotator_a"}
    assert total(page(lead, project, **theirs)) == 2
    assert lead.get(f"/projects/{project.slug}/agreement/").status_code == 200
    assert total(page(a, project, **theirs)) == 1
    base = f"/projects/{project.slug}/distributions/"
    assert b.get(base, theirs).status_code == 403
    chart = {**theirs, "part": "chart", "kind": "bars"}
    assert b.get(base, chart).status_code == 403
    assert a.get(f"/projects/{project.slug}/agreement/").status_code == 403
    assert a.get(f"/projects/{project.slug}/reporting/").status_code == 403
    own_chart = a.get(f"/projects/{project.slug}/distributions/charts/rq1/bars.svg", theirs)
    assert own_chart.status_code == 200


def count_queries(client, url, **params) -> int:
    client.get(url, params)  # warm
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_warm_analysis_pages_take_few_queries(project, cast, settled, client_for):
    lead = client_for(cast["lead"])
    base = f"/projects/{project.slug}/"
    for view in ("rq1", "rq4", "rq6"):
        # 10: the Inbox badge in the project bar is one query (issue #15's inbox).
        assert count_queries(lead, f"{base}distributions/", view=view) <= 10, view
        chart = {"view": view, "part": "chart", "kind": "percent" if view != "rq1" else "bars"}
        assert count_queries(lead, f"{base}distributions/", **chart) <= 6, view
    assert count_queries(lead, f"{base}agreement/") <= 9
    # 6: the machine raters' paragraph reads the ids of their finished runs (one query),
    # part of its cache key: rater runs do not move the data version (issue #18).
    assert count_queries(lead, f"{base}reporting/") <= 6


def test_members_settings_and_deletions_move_the_version(project, cast, settled):
    from annotate.models import Project, Role
    from annotate.projects import services

    seen = [data_version(project)]
    services.add_member(project=project, username="outsider", role=Role.ANNOTATOR)
    seen.append(data_version(project))
    Project.objects.filter(pk=project.pk).update(hide_annotator_names=True)
    seen.append(data_version(project))
    Item.objects.filter(project=project).first().delete()
    seen.append(data_version(project))
    assert seen == sorted(set(seen)), seen  # each step a new, larger version


def test_a_renamed_member_moves_the_data_version(project, cast):
    """Cached pages print members' names: a new name is a new version; a login is not."""
    annotator = cast["annotator_a"]
    before = data_version(project)
    annotator.last_login = annotator.date_joined
    annotator.save(update_fields=["last_login"])
    assert data_version(project) == before
    annotator.first_name = "Renamed"
    annotator.save(update_fields=["first_name"])
    assert data_version(project) > before
