"""While a project hides annotator names, a lead names annotators by pseudonym only: a real
username answers exactly as a name nobody has, so filters cannot be used to probe who
labeled what."""

import pytest
from django.urls import reverse

from annotate.access import pseudonym
from annotate.models import Item, Project
from tests.builders import annotate_symptom
from tests.factories import AssignmentFactory, ItemFactory


@pytest.fixture
def labeled(project, cast):
    item = ItemFactory(project=project)
    for name, path in (("annotator_a", "Hang"), ("annotator_b", "Crash > CUDA Error")):
        AssignmentFactory(item=item, annotator=cast[name], state="submitted")
        annotate_symptom(item, cast[name], path)
    Item.objects.filter(pk=item.pk).update(state=Item.State.SETTLED)
    return item


def hide(project):
    Project.objects.filter(pk=project.pk).update(hide_annotator_names=True)


def test_lead_cannot_filter_annotations_by_real_name_while_names_are_hidden(
    project, cast, labeled, api_for
):
    hide(project)
    url = reverse("api-annotations", args=[project.slug])
    lead = api_for(cast["lead"])
    by_name = lead.get(url, {"annotator": "annotator_a"})
    nobody = lead.get(url, {"annotator": "no-such-person"})
    assert by_name.status_code == nobody.status_code == 200
    assert by_name.json() == nobody.json()
    assert by_name.json()["results"] == []
    alias = pseudonym(project.pk, cast["annotator_a"].pk)
    by_alias = lead.get(url, {"annotator": alias}).json()["results"]
    assert [a["annotator"] for a in by_alias] == [alias]


def test_names_filter_as_before_when_the_project_shows_them(project, cast, labeled, api_for):
    url = reverse("api-annotations", args=[project.slug])
    rows = api_for(cast["lead"]).get(url, {"annotator": "annotator_a"}).json()["results"]
    assert [a["annotator"] for a in rows] == ["annotator_a"]


def test_lead_cannot_read_a_distribution_by_real_name_while_names_are_hidden(
    project, cast, labeled, api_for
):
    hide(project)
    url = reverse("api-distribution", args=[project.slug])
    lead = api_for(cast["lead"])
    by_name = lead.get(url, {"rows": "dim:symptom@1", "source": "annotator:annotator_a"})
    nobody = lead.get(url, {"rows": "dim:symptom@1", "source": "annotator:ghost"})
    assert by_name.status_code == nobody.status_code == 400
    assert by_name.json()["detail"].replace("annotator_a", "X") == nobody.json()["detail"].replace(
        "ghost", "X"
    )
    alias = pseudonym(project.pk, cast["annotator_a"].pk)
    by_alias = lead.get(url, {"rows": "dim:symptom@1", "source": f"annotator:{alias}"})
    assert by_alias.status_code == 200
    assert by_alias.json()["rows"] == ["Hang"]


def test_distributions_page_refuses_real_names_to_a_lead_while_hidden(
    project, cast, labeled, client_for
):
    hide(project)
    url = reverse("analysis-distributions", args=[project.slug])
    lead = client_for(cast["lead"])
    by_name = lead.get(url, {"source": "annotator:annotator_a"})
    nobody = lead.get(url, {"source": "annotator:ghost"})
    assert by_name.status_code == nobody.status_code == 400
    assert b"no member of this project is named so" in by_name.content
    alias = pseudonym(project.pk, cast["annotator_a"].pk)
    assert lead.get(url, {"source": f"annotator:{alias}"}).status_code == 200


def test_annotator_still_reads_own_labels_by_name_while_hidden(project, cast, labeled, api_for):
    hide(project)
    url = reverse("api-distribution", args=[project.slug])
    own = api_for(cast["annotator_a"]).get(
        url, {"rows": "dim:symptom@1", "source": "annotator:annotator_a"}
    )
    assert own.status_code == 200 and own.json()["rows"] == ["Hang"]
    other = api_for(cast["annotator_a"]).get(
        url, {"rows": "dim:symptom@1", "source": "annotator:annotator_b"}
    )
    assert other.status_code == 403
