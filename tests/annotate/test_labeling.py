"""Labeling through the API and the pages: submit, replace, skip, validation, permissions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate.labeling.queue import next_item
from annotate.labeling.submission import submit_annotation
from annotate.models import Annotation, AnnotationLabel, AuditEvent, Category, Item
from tests.builders import LabelBuilder
from tests.factories import CommentFactory, IssueFactory, ItemFactory

OOM = "Crash > CUDA Error > Out of Memory"


pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def paths(project):
    """Full path of a category by (dimension key, last part of its name)."""
    rows = Category.objects.filter(dimension__project=project).values_list("dimension__key", "path")
    return {(key, path.split(" > ")[-1]): path for key, path in rows}


@pytest.fixture
def payload(paths):
    def make(root_cause="GPU Memory Insufficiency", symptom=OOM, **extra):
        body = {
            "records": [
                {
                    "labels": [
                        {"dimension": "symptom", "category": symptom, "evidence": "CUDA OOM"},
                        {"dimension": "root_cause", "category": paths[("root_cause", root_cause)]},
                        {"dimension": "stage", "category": "Inference"},
                    ]
                }
            ],
            "note": "looked at the traceback",
            "confidence": 4,
        }
        body.update(extra)
        return body

    return make


def api_url(project, name, item=None):
    args = [project.slug] if item is None else [project.slug, item.pk]
    return reverse(name, args=args)


def take(api, project):
    response = api.post(api_url(project, "api-queue-next"))
    assert response.status_code == 200, response.content
    return Item.objects.get(pk=response.json()["id"])


def test_next_returns_the_item_with_issue_and_where_to_find_the_codebook(project, cast, api_for):
    issue = IssueFactory(title="Original title")
    CommentFactory(issue=issue, body="Try a smaller batch.")
    item = ItemFactory(project=project, issue=issue, snapshot_title="As labeled")
    api = api_for(cast["annotator_a"])
    response = api.post(api_url(project, "api-queue-next"))
    assert response.status_code == 200
    data = response.json()
    assert data["id"] == item.pk
    assert data["title"] == "As labeled"
    assert data["repo"] == issue.repository.full_name and data["group"] == "Qwen"
    assert data["url"].endswith(f"/issues/{issue.number}")
    assert [c["body"] for c in data["comments"]] == ["Try a smaller batch."]
    assert "submitted_count" not in response.content.decode()
    assert "assigned_count" not in response.content.decode()
    # The codebook is not repeated on every item: its version, and where to fetch it.
    assert "codebook" not in data and "categories" not in response.content.decode()
    assert data["codebook_version"] == project.codebook_version
    codebook = api.get(data["codebook_url"])
    assert codebook.status_code == 200
    assert codebook.json()["version"] == data["codebook_version"]
    keys = [d["key"] for d in codebook.json()["dimensions"]]
    assert keys == ["symptom", "root_cause", "stage"]


def test_next_names_the_new_codebook_version_after_a_change(project, cast, api_for):
    from annotate.codebook import services as codebook

    ItemFactory.create_batch(2, project=project)
    api = api_for(cast["annotator_a"])
    before = api.post(api_url(project, "api-queue-next")).json()["codebook_version"]
    hang = Category.objects.get(dimension__project=project, path="Hang")
    codebook.rename_category(project=project, actor=cast["owner"], category=hang, name="Stall")
    after = api.post(api_url(project, "api-queue-next")).json()
    assert after["codebook_version"] == before + 1
    paths = {
        node["path"]
        for dimension in api.get(after["codebook_url"]).json()["dimensions"]
        for node in dimension["categories"]
    }
    assert "Stall" in paths and "Hang" not in paths


def test_the_submit_reply_is_what_mine_returns(project, cast, api_for, payload):
    """The reply is built from what the submission wrote; it must equal a fresh read, for
    a first submission, a replacement, and the submission that settles the item."""
    item = ItemFactory(project=project)
    submit = api_url(project, "api-annotation-submit", item)
    mine = api_url(project, "api-annotation-mine", item)
    a, b = api_for(cast["annotator_a"]), api_for(cast["annotator_b"])
    take(a, project)
    first = a.post(submit, payload(root_cause="CPU Memory Limitation"), format="json")
    assert first.json() == a.get(mine).json()
    replaced = a.post(submit, payload(), format="json")
    assert replaced.json() == a.get(mine).json()
    assert replaced.json()["settled"] is False
    take(b, project)
    settling = b.post(submit, payload(), format="json")
    assert settling.json()["settled"] is True
    assert settling.json() == b.get(mine).json()


def test_next_is_204_when_nothing_is_left(project, cast, api_for):
    response = api_for(cast["annotator_a"]).post(api_url(project, "api-queue-next"))
    assert response.status_code == 204


def test_submit_by_path_stores_the_annotation_and_audits_it(project, items, cast, api_for, payload):
    api = api_for(cast["annotator_a"])
    item = take(api, project)
    response = api.post(api_url(project, "api-annotation-submit", item), payload(), format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["records"][0]["labels"][0]["path"] == OOM
    assert data["settled"] is False and data["final"] is None
    annotation = Annotation.objects.get(item=item, annotator=cast["annotator_a"])
    assert (annotation.note, annotation.confidence) == ("looked at the traceback", 4)
    assert AnnotationLabel.objects.filter(annotation=annotation).count() == 3
    evidence = AnnotationLabel.objects.get(annotation=annotation, dimension__key="symptom")
    assert evidence.evidence == "CUDA OOM"
    item.refresh_from_db()
    assert (item.assigned_count, item.submitted_count) == (1, 1)
    assert AuditEvent.objects.filter(item=item, kind="annotation_submitted").count() == 1


def test_submit_by_id_and_two_records(project, items, cast, api_for, paths):
    api = api_for(cast["annotator_a"])
    item = take(api, project)
    oom = Category.objects.get(path=OOM)
    gpu = Category.objects.get(path=paths[("root_cause", "GPU Memory Insufficiency")])
    records = [
        {
            "labels": [
                {"dimension": "symptom", "category": oom.pk},
                {"dimension": "root_cause", "category": str(gpu.pk)},
                {"dimension": "stage", "category": "Inference"},
            ]
        },
        {
            "labels": [
                {"dimension": "symptom", "category": "Hang"},
                {"dimension": "root_cause", "category": gpu.pk},
                {"dimension": "stage", "category": "Fine-tuning"},
            ]
        },
    ]
    response = api.post(
        api_url(project, "api-annotation-submit", item), {"records": records}, format="json"
    )
    assert response.status_code == 200, response.content
    rows = AnnotationLabel.objects.filter(item=item).values_list("record", "category__path")
    assert {(0, OOM), (1, "Hang"), (1, "Fine-tuning")} <= set(rows)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"symptom": "Crash > Nonsense"}, "unknown category 'Crash > Nonsense'"),
        ({"symptom": "Inference"}, "unknown category 'Inference' for dimension 'symptom'"),
        ({"drop": "root_cause"}, "missing the required dimension 'root_cause'"),
        ({"dimension": "mood"}, "unknown dimension 'mood'"),
    ],
)
def test_invalid_labels_get_400_naming_the_problem(
    project, items, cast, api_for, payload, change, message
):
    api = api_for(cast["annotator_a"])
    item = take(api, project)
    body = payload()
    labels = body["records"][0]["labels"]
    if "symptom" in change:
        labels[0]["category"] = change["symptom"]
    if "drop" in change:
        body["records"][0]["labels"] = [x for x in labels if x["dimension"] != change["drop"]]
    if "dimension" in change:
        labels[2]["dimension"] = change["dimension"]
    response = api.post(api_url(project, "api-annotation-submit", item), body, format="json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Annotation.objects.exists()


def test_retired_category_is_refused(project, items, cast, api_for, payload):
    Category.objects.filter(path=OOM).update(retired=True)
    api = api_for(cast["annotator_a"])
    item = take(api, project)
    response = api.post(api_url(project, "api-annotation-submit", item), payload(), format="json")
    assert response.status_code == 400
    assert "retired" in response.json()["detail"]


def test_out_of_scope_needs_a_reason_and_no_records(project, items, cast, api_for):
    api = api_for(cast["annotator_a"])
    item = take(api, project)
    url = api_url(project, "api-annotation-submit", item)
    assert api.post(url, {"out_of_scope": True}, format="json").status_code == 400
    assert api.post(url, {"records": []}, format="json").status_code == 400
    response = api.post(
        url, {"out_of_scope": True, "out_of_scope_reason": "a feature request"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["out_of_scope"] is True


def test_resubmission_replaces_until_settled(project, cast, api_for, payload):
    item = ItemFactory(project=project)
    a, b = api_for(cast["annotator_a"]), api_for(cast["annotator_b"])
    take(a, project)
    url = api_url(project, "api-annotation-submit", item)
    assert (
        a.post(url, payload(root_cause="CPU Memory Limitation"), format="json").status_code == 200
    )
    assert a.post(url, payload(), format="json").status_code == 200
    annotation = Annotation.objects.get()
    assert annotation.labels.count() == 3
    assert annotation.labels.filter(category__path__endswith="GPU Memory Insufficiency").exists()
    item.refresh_from_db()
    assert item.submitted_count == 1
    assert AuditEvent.objects.filter(kind="annotation_replaced").count() == 1
    take(b, project)
    response = b.post(url, payload(), format="json")
    assert response.json()["settled"] is True
    assert response.json()["final"]["differences"] == []
    item.refresh_from_db()
    assert item.state == Item.State.SETTLED
    assert a.post(url, payload(), format="json").status_code == 409


def test_items_not_assigned_to_the_caller(project, items, cast, api_for, payload):
    url = api_url(project, "api-annotation-submit", items[0])
    # Annotators cannot even see items never assigned to them; leads can, but hold none.
    assert api_for(cast["annotator_a"]).post(url, payload(), format="json").status_code == 404
    response = api_for(cast["lead"]).post(url, payload(), format="json")
    assert response.status_code == 403
    assert "not assigned to you" in response.json()["detail"]
    assert api_for(cast["outsider"]).post(url, payload(), format="json").status_code == 404
    assert api_for(None).post(url, payload(), format="json").status_code in (401, 403)
    # No such item, or another project's: 404 for everyone, leads included.
    other = ItemFactory()
    for item_id in (other.pk, other.pk + 10_000):
        missing = reverse("api-annotation-submit", args=[project.slug, item_id])
        response = api_for(cast["lead"]).post(missing, payload(), format="json")
        assert response.status_code == 404 and response.json()["detail"] == "No such item."


def test_skip_through_the_api(project, items, cast, api_for, payload):
    api = api_for(cast["annotator_a"])
    item = take(api, project)
    url = api_url(project, "api-item-skip", item)
    assert api.post(url, {}, format="json").status_code == 400
    response = api.post(url, {"reason": "duplicate of another issue"}, format="json")
    assert response.status_code == 200 and response.json()["skipped"] is True
    assert take(api, project).pk != item.pk
    submit = api_url(project, "api-annotation-submit", item)
    assert api.post(submit, payload(), format="json").status_code == 403


def test_mine_returns_only_the_callers_annotation(project, items, cast, api_for, payload):
    api = api_for(cast["annotator_a"])
    item = take(api, project)
    mine = api_url(project, "api-annotation-mine", item)
    assert api.get(mine).status_code == 404
    api.post(api_url(project, "api-annotation-submit", item), payload(), format="json")
    data = api.get(mine).json()
    assert data["item"] == item.pk and data["note"] == "looked at the traceback"
    assert api_for(cast["annotator_b"]).get(mine).status_code == 404
    assert api_for(cast["lead"]).get(mine).status_code == 404


def test_progress_shows_own_counts_and_hides_states_from_annotators(
    project, items, cast, api_for, payload
):
    api = api_for(cast["annotator_a"])
    item = take(api, project)
    api.post(api_url(project, "api-annotation-submit", item), payload(), format="json")
    data = api.get(api_url(project, "api-labeling-progress")).json()
    assert data["mine"] == {"done_today": 1, "done_total": 1, "remaining": 4}
    assert data["project"]["total"] == 5 and "states" not in data["project"]
    lead = api_for(cast["lead"]).get(api_url(project, "api-labeling-progress")).json()
    assert lead["project"]["states"] == {"open": 5}


def test_the_schema_documents_the_labeling_endpoints(cast, api_for, db):
    response = api_for(cast["owner"]).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/projects/{slug}/queue/next/" in paths
    submit = paths["/api/projects/{slug}/items/{item_id}/annotations/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(submit["responses"])


# ------------------------------------------------------------------------------ pages


def test_label_page_redirects_to_the_next_item_and_renders_it(project, cast, client_for):
    issue = IssueFactory(body="Body with <script>alert('x')</script> and `code`")
    item = ItemFactory(project=project, issue=issue, snapshot_title="Snapshot title")
    client = client_for(cast["annotator_a"])
    response = client.get(reverse("label-next", args=[project.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("label-item", args=[project.slug, item.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Snapshot title" in page
    assert "<script>alert" not in page
    assert "Crash &gt; CUDA Error &gt; Out of Memory" in page  # the symptom picker
    assert "Ctrl+Enter" in page and "Alt+A" in page
    assert 'href="/static/css/label.css"' in page


def test_form_submit_with_htmx_swaps_in_the_next_item(project, cast, client_for, paths):
    first, second = ItemFactory(project=project), ItemFactory(project=project)
    client = client_for(cast["annotator_a"])
    client.get(reverse("label-next", args=[project.slug]))
    form = {
        "record_count": "2",
        "r0-symptom": str(Category.objects.get(path=OOM).pk),
        "r0-symptom-evidence": "out of memory",
        "r0-root_cause": paths[("root_cause", "GPU Memory Insufficiency")],
        "r0-stage": "Inference",
        "r1-symptom": "Hang",
        "r1-root_cause": paths[("root_cause", "CPU Memory Limitation")],
        "r1-stage": "Inference",
        "note": "two failures",
        "confidence": "3",
    }
    url = reverse("label-item", args=[project.slug, first.pk])
    response = client.post(url, form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Push-Url"] == reverse("label-item", args=[project.slug, second.pk])
    body = response.content.decode()
    assert 'id="workspace"' in body and "<html" not in body
    assert f'data-submitted="{first.pk}"' in body
    annotation = Annotation.objects.get(item=first)
    assert annotation.labels.values("record").distinct().count() == 2
    assert annotation.confidence == 3


def test_the_swapped_in_item_loads_its_counts_after_it(project, cast, client_for, paths):
    """Issue #15: the counts over the caller's annotations and the project's items were half
    of "submit and next" at 100,000 items; the page leaves them to a part loaded after it,
    which counts the submission just made and keeps the project's states from annotators."""
    first, _ = ItemFactory(project=project), ItemFactory(project=project)
    client = client_for(cast["annotator_a"])
    client.get(reverse("label-next", args=[project.slug]))
    form = {
        "record_count": "1",
        "r0-symptom": str(Category.objects.get(path=OOM).pk),
        "r0-root_cause": paths[("root_cause", "GPU Memory Insufficiency")],
        "r0-stage": "Inference",
    }
    url = reverse("label-item", args=[project.slug, first.pk])
    with CaptureQueriesContext(connection) as captured:
        body = client.post(url, form, headers={"HX-Request": "true"}).content.decode()
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"]]
    assert counts == [], counts
    progress = reverse("label-progress", args=[project.slug])
    assert f'hx-get="{progress}" hx-trigger="load"' in body
    part = client.get(progress, headers={"HX-Request": "true"}).content.decode()
    assert 'id="label-progress"' in part and "<html" not in part
    assert "<strong>1</strong> today · <strong>1</strong> in total" in part
    assert "Project: 0 of 2 items settled" in part
    # So does a full page load of an item.
    page = client.get(reverse("label-next", args=[project.slug]), follow=True).content.decode()
    assert f'hx-get="{progress}" hx-trigger="load"' in page


def test_form_errors_are_shown_and_nothing_is_stored(project, items, cast, client_for):
    client = client_for(cast["annotator_a"])
    client.get(reverse("label-next", args=[project.slug]))
    url = reverse("label-item", args=[project.slug, items[0].pk])
    response = client.post(url, {"record_count": "1", "r0-symptom": OOM})
    assert response.status_code == 400
    assert "missing the required dimension" in response.content.decode()
    assert not Annotation.objects.exists()


def test_out_of_scope_and_skip_through_the_page(project, items, cast, client_for):
    client = client_for(cast["annotator_a"])
    client.get(reverse("label-next", args=[project.slug]))
    url = reverse("label-item", args=[project.slug, items[0].pk])
    response = client.post(
        url, {"out_of_scope": "on", "out_of_scope_reason": "question", "r0-symptom": OOM}
    )
    assert response.status_code == 302
    assert Annotation.objects.get().out_of_scope is True
    client.get(reverse("label-next", args=[project.slug]))
    skip = reverse("label-skip", args=[project.slug, items[1].pk])
    assert client.post(skip, {"reason": "not about a model"}).status_code == 302
    assert items[1].assignments.get().state == "skipped"


def test_item_page_needs_an_assignment(project, items, cast, client_for):
    url = reverse("label-item", args=[project.slug, items[0].pk])
    assert client_for(cast["annotator_a"]).get(url).status_code == 404
    assert client_for(cast["lead"]).get(url).status_code == 403
    assert client_for(cast["outsider"]).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302


def test_after_settlement_the_annotator_sees_the_final_label_and_the_difference(
    project, cast, client_for, paths
):

    item = ItemFactory(project=project)
    a = cast["annotator_a"]
    next_item(project=project, user=a)
    gpu = paths[("root_cause", "GPU Memory Insufficiency")]
    records = [
        [
            {"dimension": "symptom", "category": OOM},
            {"dimension": "root_cause", "category": gpu},
            {"dimension": "stage", "category": "Inference"},
        ]
    ]
    submit_annotation(project=project, user=a, item=item, records=records)
    mine = reverse("label-mine", args=[project.slug])
    page = client_for(a).get(mine).content.decode()
    assert "not settled yet" in page
    # A lead settles it differently (adjudication's part, done here directly).
    LabelBuilder(project).settle(
        item, [{"symptom": "Hang", "root_cause": gpu, "stage": "Inference"}], "adjudicated"
    )
    page = client_for(a).get(mine).content.decode()
    assert "record 1, symptom: Hang (yours: Crash &gt; CUDA Error &gt; Out of Memory)" in page
    item_page = client_for(a).get(reverse("label-item", args=[project.slug, item.pk]))
    assert "Where yours differed" in item_page.content.decode()
    assert 'id="label-form"' not in item_page.content.decode()
