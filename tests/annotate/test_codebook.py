"""Codebook changes mid-study: add, rename, retire, merge, split. No label is ever lost."""

import pytest
from django.urls import reverse

from annotate.adjudication.audit import final_snapshot
from annotate.adjudication.decisions import decide_item, parse_records
from annotate.adjudication.discussion import start_discussion
from annotate.codebook import services as codebook
from annotate.codebook.services import CodebookError
from annotate.models import (
    AnnotationLabel,
    AnnotationRoundLabel,
    AuditEvent,
    Category,
    CodebookChange,
    Conflict,
    FinalRecordLabel,
    Item,
)
from tests.builders import (
    ASSERTION,
    DEVICE,
    OOM,
    category,
    in_conflict,
    label_both,
    paths,
    record,
    wire,
)
from tests.factories import ItemFactory

CUDA = "Crash > CUDA Error"


def label_counts(project) -> dict:
    scope = {"item__project": project}
    return {
        "annotation": AnnotationLabel.objects.filter(**scope).count(),
        "final": FinalRecordLabel.objects.filter(**scope).count(),
        "round": AnnotationRoundLabel.objects.filter(**scope).count(),
    }


def test_every_change_bumps_the_version_and_is_recorded(project, cast):
    start = project.codebook_version
    symptom = project.dimensions.get(key="symptom")
    added = codebook.add_category(
        project=project, actor=cast["lead"], dimension=symptom, name="Freeze", description="d"
    )
    assert (added.path, added.depth) == ("Freeze", 1)
    child = codebook.add_category(
        project=project, actor=cast["lead"], dimension=symptom, name="UI", parent=added
    )
    assert (child.path, child.depth) == ("Freeze > UI", 2)
    codebook.edit_category(project=project, actor=cast["lead"], category=child, description="x")
    codebook.retire_category(project=project, actor=cast["lead"], category=added)
    assert Category.objects.get(pk=child.pk).retired  # the subtree retires with it
    project.refresh_from_db()
    assert project.codebook_version == start + 4
    kinds = list(
        CodebookChange.objects.filter(project=project, version__gt=start).values_list(
            "version", "kind"
        )
    )
    assert kinds == [(start + 1, "add"), (start + 2, "add"), (start + 3, "edit"),
                     (start + 4, "retire")]  # fmt: skip
    assert AuditEvent.objects.filter(project=project, kind__startswith="codebook_").count() == 4


def test_duplicate_or_bad_names_are_refused(project, cast):
    symptom = project.dimensions.get(key="symptom")
    with pytest.raises(CodebookError, match="already exists"):
        codebook.add_category(project=project, actor=None, dimension=symptom, name="Crash")
    with pytest.raises(CodebookError, match="cannot contain"):
        codebook.add_category(project=project, actor=None, dimension=symptom, name="A > B")
    with pytest.raises(CodebookError, match="already exists"):
        codebook.rename_category(
            project=project, actor=None, category=category(project, "symptom", OOM),
            name="Device Error",
        )  # fmt: skip


def test_rename_rewrites_the_paths_of_the_node_and_its_descendants(project, cast):
    item = ItemFactory(project=project)
    label_both(item, cast)
    cuda = category(project, "symptom", CUDA)
    descendants = cuda.children.count()
    codebook.rename_category(project=project, actor=cast["lead"], category=cuda, name="GPU Error")
    renamed = Category.objects.filter(
        dimension=cuda.dimension, path__startswith="Crash > GPU Error"
    )
    assert renamed.count() == descendants + 1
    assert not Category.objects.filter(path__startswith=CUDA).exists()
    final = final_snapshot(item.final_label)
    assert paths(final["records"])[0]["symptom"] == "Crash > GPU Error > Out of Memory"


def test_merge_moves_every_label_to_the_surviving_category(project, cast):
    settled = ItemFactory(project=project)
    label_both(settled, cast, [record(DEVICE)], [record(DEVICE)])
    disputed = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    start_discussion(item=disputed, actor=cast["lead"])
    before = label_counts(project)
    source, target = category(project, "symptom", DEVICE), category(project, "symptom", OOM)
    on_source = {
        "annotation": AnnotationLabel.objects.filter(category=source).count(),
        "final": FinalRecordLabel.objects.filter(category=source).count(),
        "round": AnnotationRoundLabel.objects.filter(category=source).count(),
    }
    on_target = AnnotationLabel.objects.filter(category=target).count()
    moved = codebook.merge_categories(
        project=project, actor=cast["lead"], source=source, target=target
    )
    assert moved == {
        "annotation_labels": on_source["annotation"],
        "final_labels": on_source["final"],
        "round_labels": on_source["round"],
    }
    assert label_counts(project) == before
    assert AnnotationLabel.objects.filter(category=source).count() == 0
    assert FinalRecordLabel.objects.filter(category=source).count() == 0
    assert AnnotationLabel.objects.filter(category=target).count() == (
        on_target + on_source["annotation"]
    )
    source.refresh_from_db()
    assert source.retired and source.path == DEVICE  # kept, never deleted
    # The disputed item's annotators now agree: its differences are gone.
    assert not Conflict.objects.filter(item=disputed, resolved=False).exists()
    change = CodebookChange.objects.filter(project=project).last()
    assert (change.kind, change.payload["into"]) == ("merge", OOM)


def test_merge_folds_same_named_subcategories_together(project, cast):
    crash = category(project, "symptom", "Crash")
    cuda = category(project, "symptom", CUDA)
    twin = codebook.add_category(
        project=project, actor=None, dimension=crash.dimension, name="GPU", parent=crash
    )
    oom_twin = codebook.add_category(
        project=project, actor=None, dimension=crash.dimension, name="Out of Memory", parent=twin
    )
    item = ItemFactory(project=project)
    label_both(item, cast)  # both on Crash > CUDA Error > Out of Memory
    before = label_counts(project)
    codebook.merge_categories(project=project, actor=cast["lead"], source=cuda, target=twin)
    assert label_counts(project) == before
    assert FinalRecordLabel.objects.get(item=item, dimension=crash.dimension).category == oom_twin
    assert Category.objects.get(dimension=crash.dimension, path="Crash > GPU > Device Error")
    with pytest.raises(CodebookError):
        codebook.merge_categories(project=project, actor=None, source=crash, target=twin)


def test_split_sends_affected_items_back_and_keeps_every_label(project, cast):
    settled = ItemFactory(project=project)
    label_both(settled, cast)  # unanimous on OOM
    untouched = ItemFactory(project=project)
    label_both(untouched, cast, [record(ASSERTION)], [record(ASSERTION)])
    waiting = ItemFactory(project=project)
    before = label_counts(project)
    oom = category(project, "symptom", OOM)
    parts = codebook.split_category(
        project=project,
        actor=cast["lead"],
        category=oom,
        into=["Out of GPU Memory", "Out of Host Memory"],
    )
    assert [p.path for p in parts] == [
        "Crash > CUDA Error > Out of GPU Memory",
        "Crash > CUDA Error > Out of Host Memory",
    ]
    assert label_counts(project) == before
    assert Item.objects.get(pk=settled.pk).state == Item.State.CONFLICT
    assert Item.objects.get(pk=untouched.pk).state == Item.State.SETTLED
    conflict = Conflict.objects.get(item=settled, resolved=False)
    assert (conflict.kind, conflict.category_a) == ("codebook", Category.objects.get(pk=oom.pk))
    assert Category.objects.get(pk=oom.pk).retired
    # An item labeled with the old category after the split also goes to a lead.
    assert label_both(waiting, cast) == Item.State.CONFLICT
    assert label_counts(project)["annotation"] == before["annotation"] + 6
    # The lead settles the split item with one of the new categories.
    gpu = record("Crash > CUDA Error > Out of GPU Memory")
    final = decide_item(
        item=settled,
        actor=cast["lead"],
        records=parse_records(project=project, raw_records=[wire(gpu)]),
        rationale="The trace shows device memory.",
    )
    assert paths(final_snapshot(final)["records"]) == [gpu]
    with pytest.raises(CodebookError, match="leaf"):
        codebook.split_category(
            project=project, actor=None, category=category(project, "symptom", CUDA),
            into=["a", "b"],
        )  # fmt: skip


@pytest.mark.parametrize("who, status", [("annotator_a", 403), ("outsider", 404)])
def test_only_leads_and_owners_change_the_codebook(client_for, cast, project, who, status):
    url = reverse("codebook-edit", kwargs={"slug": project.slug})
    response = client_for(cast[who]).post(
        url, {"op": "add", "dimension": "stage", "name": "Deployment"}
    )
    assert response.status_code == status
    assert not Category.objects.filter(name="Deployment").exists()


def test_codebook_edit_page_applies_each_change(client_for, cast, project):
    client = client_for(cast["lead"])
    url = reverse("codebook-edit", kwargs={"slug": project.slug})
    assert client.post(url, {"op": "add", "dimension": "stage", "name": "Deployment"}).status_code
    deployment = Category.objects.get(dimension__project=project, name="Deployment")
    client.post(url, {"op": "rename", "category": deployment.pk, "name": "Serving"})
    client.post(url, {"op": "split", "category": deployment.pk, "into": "Online\nBatch"})
    online = Category.objects.get(dimension__project=project, path="Online")
    batch = Category.objects.get(dimension__project=project, path="Batch")
    client.post(url, {"op": "merge", "category": batch.pk, "target": online.pk})
    client.post(url, {"op": "retire", "category": online.pk, "retired": "1"})
    assert Category.objects.get(pk=deployment.pk).path == "Serving"
    assert Category.objects.get(pk=online.pk).retired and Category.objects.get(pk=batch.pk).retired
    kinds = list(CodebookChange.objects.filter(project=project).values_list("kind", flat=True))[-5:]
    assert kinds == ["add", "rename", "split", "merge", "retire"]
    page = client.post(
        url, {"op": "merge", "category": online.pk, "target": online.pk}, follow=True
    )
    assert "cannot be merged into itself" in page.content.decode()
    review = client.get(reverse("codebook-review", kwargs={"slug": project.slug}))
    assert "Serving" in review.content.decode()
