"""The shared factories and builders write rows the way the services do: the repeated item,
annotator and dimension columns agree with the rows they repeat, so that the agreement
tables and exports read them as they read the services' own."""

from annotate.models import Conflict, FinalLabel, Item

from .builders import OOM, LabelBuilder, category, in_conflict, record
from .factories import (
    AnnotationLabelFactory,
    ConflictFactory,
    FinalRecordLabelFactory,
    ItemFactory,
)


def test_label_rows_repeat_their_annotation_and_category(project, cast):
    oom = category(project, "symptom", OOM)
    label = AnnotationLabelFactory(annotation__annotator=cast["annotator_a"], category=oom)
    assert (label.item, label.annotator) == (label.annotation.item, cast["annotator_a"])
    assert label.dimension == oom.dimension and label.record == 0
    final = FinalRecordLabelFactory(category=oom, final__item=ItemFactory(project=project))
    assert final.item == final.final.item and final.dimension == oom.dimension
    assert final.final.provenance == FinalLabel.Provenance.IMPORTED


def test_a_conflict_belongs_to_its_items_project(project):
    conflict = ConflictFactory(item=ItemFactory(project=project), record=1)
    assert conflict.project == project and conflict.kind == Conflict.Kind.CATEGORY


def test_a_disagreeing_pair_leaves_the_conflicts_the_service_finds(project, cast):
    device = "Crash > CUDA Error > Device Error"
    item = in_conflict(project, cast, [record(OOM)], [record(device)])
    assert list(Conflict.objects.filter(item=item).values_list("level", flat=True)) == [3]
    settled = LabelBuilder(project).settle(ItemFactory(project=project), [record()])
    assert Item.objects.get(pk=settled.item_id).state == Item.State.SETTLED
    assert settled.labels.count() == 3
