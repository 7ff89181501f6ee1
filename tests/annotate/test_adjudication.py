"""Comparison, settling, the lead's decisions, discussion and re-opening (services)."""

import pytest

from annotate.adjudication.audit import final_snapshot
from annotate.adjudication.comparison import Side, align_records, compare_pair
from annotate.adjudication.conflicts import conflict_counts, conflict_queue
from annotate.adjudication.decisions import decide_item, parse_records
from annotate.adjudication.discussion import (
    discussion_agreement,
    end_discussion,
    reopen_item,
    start_discussion,
)
from annotate.adjudication.errors import AdjudicationError
from annotate.adjudication.settling import settle_if_complete
from annotate.models import (
    Annotation,
    AnnotationRound,
    AuditEvent,
    Category,
    Conflict,
    FinalLabel,
    FinalRecordLabel,
    Item,
)
from tests.builders import (
    ASSERTION,
    CALL_ORDER,
    CPU_MEMORY,
    DEVICE,
    GPU_MEMORY,
    HANG,
    OOM,
    category,
    in_conflict,
    label_both,
    paths,
    record,
    revise,
    submit,
    wire,
)
from tests.factories import ItemFactory


def test_pure_comparison_flags_every_level_that_differs():
    # 1 > 2 > 3 and 1 > 2 > 4: only level 3 differs; 5 is another tree's root.
    parents = {1: None, 2: 1, 3: 2, 4: 2, 5: None}
    deep = compare_pair(Side(False, ({9: 3},)), Side(False, ({9: 4},)), parents)
    assert [(d.level, d.a, d.b) for d in deep] == [(3, 3, 4)]
    top = compare_pair(Side(False, ({9: 3},)), Side(False, ({9: 5},)), parents)
    assert [(d.level, d.a, d.b) for d in top] == [(1, 1, 5), (2, 2, None), (3, 3, None)]
    shallow = compare_pair(Side(False, ({9: 2},)), Side(False, ({9: 3},)), parents)
    assert [(d.level, d.a, d.b) for d in shallow] == [(3, None, 3)]


def test_pure_comparison_pairs_identical_records_whatever_their_order():
    parents = {1: None, 2: None}
    a = Side(False, ({9: 1}, {9: 2}))
    b = Side(False, ({9: 2}, {9: 1}))
    assert compare_pair(a, b, parents) == []
    assert [d.kind for d in compare_pair(a, Side(False, ({9: 1},)), parents)] == ["records"]
    assert [d.kind for d in compare_pair(a, Side(True, ()), parents)] == ["scope"]


def test_pure_comparison_matches_different_records_to_minimize_disagreements():
    # No record is identical; in order they differ on both dimensions twice, swapped only
    # on dimension 8, once each: the optimal matching (scipy's assignment) pairs them so.
    parents = {c: None for c in (1, 2, 4, 5, 6, 7)}
    a = Side(False, ({9: 1, 8: 5}, {9: 2, 8: 6}))
    b = Side(False, ({9: 2, 8: 7}, {9: 1, 8: 4}))
    assert align_records(a.records, b.records) == [(0, 1), (1, 0)]
    differences = compare_pair(a, b, parents)
    assert [(d.dimension_id, d.a, d.b) for d in differences] == [(8, 5, 4), (8, 6, 7)]


def test_unanimous_item_settles_without_a_lead(project, cast):
    item = ItemFactory(project=project)
    assert label_both(item, cast) == Item.State.SETTLED
    final = FinalLabel.objects.get(item=item)
    assert final.provenance == FinalLabel.Provenance.UNANIMOUS
    assert final.decided_by is None
    assert paths(final_snapshot(final)["records"]) == [record()]
    assert not Conflict.objects.filter(item=item).exists()
    assert AuditEvent.objects.filter(item=item, kind="settled").count() == 1


def test_item_waits_until_every_annotator_has_submitted(project, cast):
    item = ItemFactory(project=project)
    submit(item, cast["annotator_a"])
    assert settle_if_complete(item=item) == Item.State.OPEN
    assert not FinalLabel.objects.filter(item=item).exists()


def test_two_identical_records_in_another_order_agree(project, cast):
    item = ItemFactory(project=project)
    two = [record(), record(HANG, CALL_ORDER, "Fine-tuning")]
    assert label_both(item, cast, two, two[::-1]) == Item.State.SETTLED
    assert FinalRecordLabel.objects.filter(item=item).count() == 6


@pytest.mark.parametrize(
    "a_records, b_records, flags, expected",
    [
        ([record(OOM)], [record(HANG)], {}, {("category", "symptom", 1), ("category", "symptom", 2),
                                             ("category", "symptom", 3)}),
        ([record(OOM)], [record(ASSERTION)], {}, {("category", "symptom", 2),
                                                  ("category", "symptom", 3)}),
        ([record(OOM)], [record(DEVICE)], {}, {("category", "symptom", 3)}),
        ([record(root_cause=GPU_MEMORY)], [record(root_cause=CPU_MEMORY)], {},
         {("category", "root_cause", 2)}),
        ([record()], [record(), record(HANG)], {}, {("records", None, 0)}),
        ([record()], None, {"b_out": True}, {("scope", None, 0)}),
    ],
    ids=["level-1", "level-2", "level-3", "root-cause-level-2", "record-count", "out-of-scope"],
)  # fmt: skip
def test_each_kind_of_disagreement_reaches_the_queue(
    project, cast, a_records, b_records, flags, expected
):
    item = in_conflict(project, cast, a_records, b_records, **flags)
    rows = set(
        Conflict.objects.filter(item=item, resolved=False).values_list(
            "kind", "dimension__key", "level"
        )
    )
    assert rows == expected
    assert item in conflict_queue(project)
    assert not FinalLabel.objects.filter(item=item).exists()
    assert AuditEvent.objects.filter(item=item, kind="conflict").count() == 1


def test_conflict_rows_name_the_categories_at_the_level_in_conflict(project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(ASSERTION)])
    level_2 = Conflict.objects.get(item=item, level=2)
    assert level_2.category_a.path == "Crash > CUDA Error"
    assert level_2.category_b.path == ASSERTION
    pair = (level_2.category_b_id, level_2.category_a_id)
    assert list(conflict_queue(project, pair=pair)) == [item]


def _decide(item, cast, records, **kwargs):
    parsed = parse_records(project=item.project, raw_records=[wire(r) for r in records])
    return decide_item(item=item, actor=cast["lead"], records=parsed, **kwargs)


def test_decision_writes_final_label_with_provenance_and_history(project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    final = _decide(item, cast, [record(DEVICE)], error_kind="slip")
    item.refresh_from_db()
    assert item.state == Item.State.SETTLED and item.settled_at is not None
    assert final.provenance == FinalLabel.Provenance.ADJUDICATED
    assert final.decided_by == cast["lead"]
    assert final.error_kind == "slip"
    assert final.codebook_version == project.codebook_version
    assert paths(final_snapshot(final)["records"]) == [record(DEVICE)]
    assert not Conflict.objects.filter(item=item, resolved=False).exists()
    event = AuditEvent.objects.get(item=item, kind="adjudicated")
    assert event.actor == cast["lead"]
    assert paths(event.payload["final"]["records"]) == [record(DEVICE)]
    assert event.payload["overrides_every_annotator"] is False


def test_rationale_is_required_when_the_lead_overrides_both(project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    with pytest.raises(AdjudicationError, match="rationale"):
        _decide(item, cast, [record(ASSERTION)])
    assert not FinalLabel.objects.filter(item=item).exists()
    final = _decide(item, cast, [record(ASSERTION)], rationale="The assert fires first.")
    assert final.rationale == "The assert fires first."
    event = AuditEvent.objects.get(item=item, kind="adjudicated")
    assert event.payload["overrides_every_annotator"] is True


def test_taking_sides_per_dimension_needs_no_rationale(project, cast):
    item = in_conflict(project, cast, [record(OOM, GPU_MEMORY)], [record(DEVICE, CPU_MEMORY)])
    final = _decide(item, cast, [record(OOM, CPU_MEMORY)])
    assert final.rationale == ""


def test_lead_can_split_into_records_or_mark_out_of_scope(project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(HANG)])
    _decide(item, cast, [record(OOM), record(HANG)], rationale="Two failures in one issue.")
    assert FinalRecordLabel.objects.filter(item=item).values("record").distinct().count() == 2
    other = in_conflict(project, cast, [record()], None, b_out=True)
    final = decide_item(
        item=other, actor=cast["lead"], out_of_scope=True, out_of_scope_reason="a question"
    )
    assert final.out_of_scope and final.labels.count() == 0


def test_decision_input_is_validated(project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    with pytest.raises(AdjudicationError, match="Unknown category"):
        parse_records(project=project, raw_records=[wire(record("Crash > Nope"))])
    with pytest.raises(AdjudicationError, match="needs a category"):
        parse_records(project=project, raw_records=[wire({"symptom": OOM})])
    with pytest.raises(AdjudicationError, match="at least one"):
        decide_item(item=item, actor=cast["lead"], records=[])
    by_id = {"symptom": str(category(project, "symptom", OOM).pk), "stage": "Inference",
             "root_cause": GPU_MEMORY}  # fmt: skip
    assert parse_records(project=project, raw_records=[wire(by_id)]) == (
        parse_records(project=project, raw_records=[wire(record(OOM))])
    )


def test_settled_item_cannot_be_decided_until_reopened_and_history_is_kept(project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    _decide(item, cast, [record(OOM)])
    with pytest.raises(AdjudicationError):
        _decide(item, cast, [record(DEVICE)])
    with pytest.raises(AdjudicationError, match="why"):
        reopen_item(item=item, actor=cast["lead"], reason=" ")
    reopen_item(item=item, actor=cast["lead"], reason="Second look")
    item.refresh_from_db()
    assert item.state == Item.State.CONFLICT
    assert FinalLabel.objects.get(item=item).provenance == "adjudicated"  # kept until replaced
    _decide(item, cast, [record(DEVICE)])
    kinds = list(AuditEvent.objects.filter(item=item).values_list("kind", flat=True))
    assert kinds == ["conflict", "adjudicated", "reopened", "adjudicated"]
    last = AuditEvent.objects.filter(item=item, kind="adjudicated").last()
    assert paths(last.payload["replaced"]["records"]) == [record(OOM)]
    assert paths(last.payload["final"]["records"]) == [record(DEVICE)]


def test_discussion_keeps_agreement_before_and_after(project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    start_discussion(item=item, actor=cast["lead"], note="Look at the trace")
    item.refresh_from_db()
    assert item.state == Item.State.DISCUSSION and item.discussed
    assert AnnotationRound.objects.filter(item=item, round=1).count() == 2
    assert revise(item, cast["annotator_b"], [record(OOM)]) == Item.State.SETTLED
    final = FinalLabel.objects.get(item=item)
    assert final.provenance == FinalLabel.Provenance.UNANIMOUS
    assert Annotation.objects.get(item=item, annotator=cast["annotator_b"]).round == 2
    frozen = AnnotationRound.objects.get(item=item, annotator=cast["annotator_b"])
    assert frozen.labels.get(dimension__key="symptom").category.path == DEVICE
    rows = {row["dimension"].key: row for row in discussion_agreement(project)}
    assert (rows["symptom"]["before"], rows["symptom"]["after"]) == (0, 1)
    assert (rows["stage"]["before"], rows["stage"]["after"]) == (1, 1)
    settled = AuditEvent.objects.get(item=item, kind="settled")
    assert settled.payload["after_discussion"] is True


def test_discussion_returns_to_the_queue_once_everyone_revised_and_still_differs(project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    start_discussion(item=item, actor=cast["lead"])
    assert revise(item, cast["annotator_a"], [record(ASSERTION)]) == Item.State.DISCUSSION
    assert revise(item, cast["annotator_b"], [record(HANG)]) == Item.State.CONFLICT
    levels = set(Conflict.objects.filter(item=item, resolved=False).values_list("level", flat=True))
    assert levels == {1, 2}
    with pytest.raises(AdjudicationError):
        end_discussion(item=Item.objects.get(pk=item.pk), actor=cast["lead"])


def test_lead_can_close_a_discussion_or_decide_during_it(project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    start_discussion(item=item, actor=cast["lead"])
    assert end_discussion(item=item, actor=cast["lead"]) == Item.State.CONFLICT
    start_discussion(item=item, actor=cast["lead"])
    _decide(item, cast, [record(OOM)])
    assert Item.objects.get(pk=item.pk).state == Item.State.SETTLED


def test_a_second_discussion_waits_for_new_revisions(project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    start_discussion(item=item, actor=cast["lead"])
    revise(item, cast["annotator_a"], [record(ASSERTION)])
    assert revise(item, cast["annotator_b"], [record(HANG)]) == Item.State.CONFLICT
    start_discussion(item=Item.objects.get(pk=item.pk), actor=cast["lead"])
    assert AnnotationRound.objects.filter(item=item).count() == 4  # rounds 1 and 2 kept
    assert revise(item, cast["annotator_a"], [record(DEVICE)]) == Item.State.DISCUSSION
    assert revise(item, cast["annotator_b"], [record(DEVICE)]) == Item.State.SETTLED
    rounds = set(Annotation.objects.filter(item=item).values_list("round", flat=True))
    assert rounds == {3}


def test_queue_filters_and_orders_oldest_first(project, cast):
    first = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    second = in_conflict(project, cast, [record(root_cause=GPU_MEMORY)],
                         [record(root_cause=CPU_MEMORY)])  # fmt: skip
    repo = second.issue.repository
    assert list(conflict_queue(project)) == [first, second]
    assert list(conflict_queue(project, dimension="root_cause")) == [second]
    assert list(conflict_queue(project, dimension="stage")) == []
    assert list(conflict_queue(project, repository=repo.full_name)) == [second]
    assert list(conflict_queue(project, group="Qwen")) == [first, second]
    assert list(conflict_queue(project, group="Llama")) == []
    third = in_conflict(project, cast, [record(DEVICE)], [record(OOM)])
    counts = conflict_counts(project)
    assert counts["total"] == 3
    top = counts["pairs"][0]
    assert (top["category_a__path"], top["category_b__path"], top["n"]) == (DEVICE, OOM, 2)
    assert [first, third] == list(
        conflict_queue(project, pair=(top["category_a"], top["category_b"]))
    )
    assert counts["by_dimension"] == {"symptom": 2, "root_cause": 1}


def test_agreement_on_a_retired_category_goes_to_a_lead(project, cast):
    Category.objects.filter(dimension__project=project, path=OOM).update(retired=True)
    item = ItemFactory(project=project)
    assert label_both(item, cast) == Item.State.CONFLICT
    assert Conflict.objects.get(item=item).kind == Conflict.Kind.CODEBOOK
    other = in_conflict(project, cast, [record(DEVICE)], [record(ASSERTION)])
    with pytest.raises(AdjudicationError, match="Retired"):
        _decide(other, cast, [record(OOM)], rationale="retired on purpose")
    # Confirming the annotators' own (now retired) choice stays possible.
    assert _decide(item, cast, [record(OOM)]).labels.count() == 3
