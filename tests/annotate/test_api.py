"""The generic REST resources: the whole cast on every endpoint, filters, blindness, errors."""

import pytest
from django.urls import reverse

from annotate.models import Category, CodebookChange, Item, Membership, Project
from dataset.importing import Source, collect_sources, import_dataset
from tests.builders import annotate_symptom, paths

from ..factories import AssignmentFactory, CommentFactory
from .test_import import FIXTURES, RECORD, olf

CAST = ("owner", "lead", "annotator_a", "outsider", None)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Release archives go to a temporary folder, not the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dataset(project, cast):
    """The fixture's settled items, one open item both annotators labeled, a comment."""
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    import_dataset(
        project=project, sources=[Source(name="o.json", data=olf([RECORD]))], labels="none"
    )
    open_item = Item.objects.get(issue__number=5)
    for name, path in (("annotator_a", "Hang"), ("annotator_b", "Crash > CUDA Error")):
        AssignmentFactory(item=open_item, annotator=cast[name], state="submitted")
        annotate_symptom(open_item, cast[name], path)
    CommentFactory(issue=open_item.issue)
    return open_item


def member_id(project, username):
    return Membership.objects.get(project=project, user__username=username).pk


# (method, url name, extra url args, body, expected status for owner, lead, annotator_a,
#  outsider, anonymous)
MATRIX = [
    ("get", "api-project", [], None, (200, 200, 200, 404, 401)),
    ("get", "api-members", [], None, (200, 200, 200, 404, 401)),
    ("post", "api-members", [], {"username": "zoe", "role": "lead"}, (201, 403, 403, 404, 401)),
    ("patch", "api-member", ["annotator_b"], {"role": "lead"}, (200, 403, 403, 404, 401)),
    ("delete", "api-member", ["annotator_b"], None, (204, 403, 403, 404, 401)),
    ("get", "api-codebook", [], None, (200, 200, 200, 404, 401)),
    ("patch", "api-category", ["category"], {"description": "New."}, (200, 200, 403, 404, 401)),
    ("get", "api-issues", [], None, (200, 200, 200, 404, 401)),
    ("get", "api-issue", ["issue"], None, (200, 200, 200, 404, 401)),
    ("get", "api-comments", ["issue"], None, (200, 200, 200, 404, 401)),
    ("get", "api-items", [], None, (200, 200, 200, 404, 401)),
    ("get", "api-item", ["item"], None, (200, 200, 200, 404, 401)),
    ("get", "api-my-assignments", [], None, (200, 200, 200, 404, 401)),
    ("get", "api-my-annotations", [], None, (200, 200, 200, 404, 401)),
    ("get", "api-annotations", [], None, (200, 200, 403, 404, 401)),
    ("get", "api-final-labels", [], None, (200, 200, 200, 404, 401)),
    ("get", "api-releases", [], None, (200, 200, 200, 404, 401)),
    ("post", "api-releases", [], {"title": "First"}, (201, 403, 403, 404, 401)),
]  # fmt: skip


@pytest.mark.parametrize(("method", "name", "args", "body", "expected"), MATRIX)
@pytest.mark.parametrize("who", range(len(CAST)))
def test_whole_cast_on_every_endpoint(
    project, cast, dataset, api_for, method, name, args, body, expected, who
):
    values = {
        "annotator_b": member_id(project, "annotator_b"),
        "category": Category.objects.get(dimension__project=project, path="Hang").pk,
        "issue": dataset.issue_id,
        "item": dataset.pk,
    }
    url = reverse(name, args=[project.slug, *(values[a] for a in args)])
    user = cast[CAST[who]] if CAST[who] else None
    response = getattr(api_for(user), method)(url, body, format="json")
    assert response.status_code == expected[who], response.content
    if response.status_code >= 400:
        assert set(response.json()) == {"detail", "code", "fields"}


def test_project_list_shows_only_the_callers_projects_with_their_role(project, cast, api_for):
    response = api_for(cast["lead"]).get(reverse("api-projects"))
    assert [(p["slug"], p["role"]) for p in response.json()["results"]] == [
        ("llm-failures", "lead")
    ]
    assert api_for(cast["outsider"]).get(reverse("api-projects")).json()["results"] == []


def test_staff_create_a_project_and_own_it(cast, api_for):
    cast["outsider"].is_staff = True
    cast["outsider"].save(update_fields=["is_staff"])
    client = api_for(cast["outsider"])
    response = client.post(reverse("api-projects"), {"name": "Mine", "slug": "mine"}, format="json")
    assert response.status_code == 201 and response.json()["role"] == "owner"
    assert Project.objects.get(slug="mine").dimensions.count() == 3
    again = client.post(reverse("api-projects"), {"name": "Mine", "slug": "mine"}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"] == "A project with slug 'mine' already exists."


def test_annotator_sees_only_assigned_items_and_only_own_annotations(
    project, cast, dataset, api_for
):
    client = api_for(cast["annotator_a"])
    items = client.get(reverse("api-items", args=[project.slug])).json()["results"]
    assert [i["id"] for i in items] == [dataset.pk]
    mine = client.get(reverse("api-my-annotations", args=[project.slug])).json()["results"]
    assert [a["annotator"] for a in mine] == ["annotator_a"]
    assert [r["record"] for r in mine[0]["records"]] == [0]
    assert paths(mine[0]["records"]) == [{"symptom": "Hang", "stage": "Inference"}]
    settled = Item.objects.filter(project=project, state="settled").first()
    response = client.get(reverse("api-item", args=[project.slug, settled.pk]))
    assert response.status_code == 404


def test_final_labels_carry_provenance_and_records(project, cast, dataset, api_for):
    url = reverse("api-final-labels", args=[project.slug])
    body = api_for(cast["annotator_a"]).get(url, {"repository": "QwenLM/Qwen2.5"}).json()
    assert len(body["results"]) == 2
    shared = next(f for f in body["results"] if f["issue"]["number"] == 12)
    assert shared["provenance"] == "imported"
    assert [r["symptom"] for r in paths(shared["records"])] == [
        "Crash > CUDA Error > Device Error",
        "Hang > Generation Process Stuck",
    ]
    # The open item's (conflicting) annotations are nowhere in the final labels.
    everything = api_for(cast["annotator_a"]).get(url, {"page_size": 100}).json()["results"]
    assert dataset.pk not in {f["item"] for f in everything}


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"category": "Crash"}, 2),
        ({"category": "Crash > CUDA Error"}, 2),
        ({"category": "Crash - CUDA Error -  Out of Memory"}, 1),
        ({"category": "Hang", "dimension": "symptom"}, 1),
        ({"category": "Fine-tuning", "dimension": "stage"}, 2),
        ({"state": "open"}, 1),
        ({"settled": "true"}, 6),
        ({"settled": "false"}, 1),
        ({"group": "meta-llama"}, 3),
        ({"repository": "QwenLM/Qwen2.5-Math"}, 1),
        ({"edited_since_labeling": "true"}, 0),
    ],
)
def test_item_filters(project, cast, dataset, api_for, params, count):
    url = reverse("api-items", args=[project.slug])
    response = api_for(cast["lead"]).get(url, params)
    assert response.status_code == 200
    assert len(response.json()["results"]) == count


def test_annotations_list_for_leads_hides_names_when_the_project_says_so(
    project, cast, dataset, api_for
):
    url = reverse("api-annotations", args=[project.slug])
    names = {a["annotator"] for a in api_for(cast["lead"]).get(url).json()["results"]}
    assert names == {"annotator_a", "annotator_b"}
    Project.objects.filter(pk=project.pk).update(hide_annotator_names=True)
    names = {a["annotator"] for a in api_for(cast["lead"]).get(url).json()["results"]}
    assert all(n.startswith("annotator-") for n in names) and len(names) == 2
    filtered = api_for(cast["owner"]).get(url, {"annotator": "annotator_b"}).json()["results"]
    assert [a["annotator"] for a in filtered] == ["annotator_b"]


def test_cursor_pagination_is_stable(project, cast, dataset, api_for):
    url = reverse("api-items", args=[project.slug])
    client = api_for(cast["owner"])
    seen, page = [], client.get(url, {"page_size": 3}).json()
    while True:
        seen += [i["id"] for i in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    assert seen == sorted(Item.objects.filter(project=project).values_list("pk", flat=True))


def test_members_are_managed_by_owners(project, cast, api_for):
    client = api_for(cast["owner"])
    url = reverse("api-members", args=[project.slug])
    created = client.post(url, {"username": "zoe", "role": "lead"}, format="json").json()
    assert created["username"] == "zoe" and created["url"]  # an invitation, not an account
    assert not Membership.objects.filter(project=project, user__username="zoe").exists()
    bad = client.post(url, {"username": "", "role": "boss"}, format="json")
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"username", "role"}
    last_owner = reverse("api-member", args=[project.slug, member_id(project, "owner")])
    response = client.delete(last_owner)
    assert response.status_code == 400
    assert response.json()["detail"] == "A project needs at least one owner."


def test_leads_rename_categories_and_paths_follow(project, cast, api_for):
    cuda = Category.objects.get(dimension__project=project, path="Crash > CUDA Error")
    url = reverse("api-category", args=[project.slug, cuda.pk])
    response = api_for(cast["lead"]).patch(url, {"name": "GPU  Error"}, format="json")
    assert response.status_code == 200 and response.json()["path"] == "Crash > GPU Error"
    assert Category.objects.filter(path="Crash > GPU Error > Out of Memory").exists()
    change = CodebookChange.objects.filter(project=project).last()
    assert change.kind == "rename" and change.user == cast["lead"]
    taken = api_for(cast["lead"]).patch(url, {"name": "Process Killed"}, format="json")
    assert taken.status_code == 400 and "already exists" in taken.json()["detail"]


def test_codebook_has_trees_version_and_guidelines(project, cast, api_for):
    project.guidelines = "Label the **first** failure the issue reports."
    project.save(update_fields=["guidelines"])
    body = api_for(cast["annotator_a"]).get(reverse("api-codebook", args=[project.slug])).json()
    assert body["version"] == project.codebook_version
    assert body["guidelines"] == project.guidelines
    symptom = next(d for d in body["dimensions"] if d["key"] == "symptom")
    crash = next(c for c in symptom["categories"] if c["name"] == "Crash")
    cuda = next(c for c in crash["children"] if c["name"] == "CUDA Error")
    assert "Out of Memory" in {c["name"] for c in cuda["children"]}


def test_unknown_ids_are_404_with_the_error_shape(project, cast, api_for):
    client = api_for(cast["owner"])
    for url in (
        reverse("api-item", args=[project.slug, 999999]),
        reverse("api-issue", args=[project.slug, 999999]),
        reverse("api-release", args=[project.slug, "9.9"]),
        reverse("api-project", args=["no-such-project"]),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
