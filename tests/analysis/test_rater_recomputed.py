"""The human-machine report recomputed from the stored rows by independent code (a red
team's): scikit-learn's cohen_kappa_score and hand counts over a seeded random world, and
the human sides as the headline agreement reads them (the first, independent round; the
majority of the item's annotators at each level)."""

import random

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from analysis.rater_agreement import build_rater_report
from annotate.adjudication.discussion import _freeze
from annotate.models import Category, RaterLabel, RaterRun
from annotate.raters import runs
from tests.builders import HANG, OOM, LabelBuilder


def _cut(path: str, level: int) -> str:
    return " > ".join(path.split(" > ")[:level])


def _rows(report, dimension, level):
    (rater,) = report["raters"]
    return {
        r["versus"]: r for r in rater["rows"] if (r["dimension"], r["level"]) == (dimension, level)
    }


def _machine_run(project):
    rater = runs.add_rater(project=project, user=None, kind="builtin", name="m")
    return RaterRun.objects.create(rater=rater, number=1, codebook_version=1, status="succeeded")


def test_rows_bias_and_curve_against_independent_counts(project, cast):
    rng = random.Random(18)
    build = LabelBuilder(project)
    paths = sorted(
        Category.objects.filter(dimension__project=project, dimension__key="symptom")
        .exclude(path__in=[])
        .values_list("path", flat=True)
    )
    leaves = [p for p in paths if not any(q.startswith(p + " > ") for q in paths)]
    leaves = leaves[:: max(1, len(leaves) // 6)][:6]
    run = _machine_run(project)
    symptom = build.dimensions["symptom"]
    world = []
    for position in range(60):
        item = build.item(position=position)
        a, b, final = (rng.choice(leaves) for _ in range(3))
        machine = final if rng.random() < 0.6 else rng.choice(leaves)
        confidence = round(rng.random(), 3)
        build.annotate(item, cast["annotator_a"], [{"symptom": a}])
        build.annotate(item, cast["annotator_b"], [{"symptom": b}])
        settled = position < 45
        if settled:
            build.settle(item, [{"symptom": final}])
        RaterLabel.objects.create(
            run=run, item=item, record=0, dimension=symptom,
            category=build.category("symptom", machine), confidence=confidence,
        )  # fmt: skip
        world.append((a, b, final if settled else None, machine, confidence))
    report = build_rater_report(project)
    for level in (1, 2, 3):
        rows = _rows(report, "symptom", level)
        cut = [tuple(_cut(p, level) if p else None for p in w[:4]) for w in world]
        for versus, column in (("final", 2), ("annotator:annotator_a", 0),
                               ("annotator:annotator_b", 1)):  # fmt: skip
            pairs = [(c[3], c[column]) for c in cut if c[column] is not None]
            m, h = zip(*pairs, strict=True)
            row = rows[versus]
            assert row["n"] == len(pairs)
            assert row["percent_agreement"] == pytest.approx(np.mean(np.array(m) == np.array(h)))
            if len(set(m) | set(h)) > 1:
                assert row["kappa"] == pytest.approx(cohen_kappa_score(m, h)), (versus, level)
        # Majority of two at this level: both annotators chose alike.
        pairs = [(c[3], c[0]) for c in cut if c[0] == c[1]]
        assert rows["majority"]["n"] == len(pairs), level
        # Bias: predicted share / final share over the settled items.
        settled = [c for c in cut if c[2] is not None]
        (rater,) = report["raters"]
        bias = {b["category"]: b for b in rater["bias"] if b["level"] == level}
        for category in {c[3] for c in settled} | {c[2] for c in settled}:
            p = sum(c[3] == category for c in settled) / len(settled)
            f = sum(c[2] == category for c in settled) / len(settled)
            assert bias[category]["predicted_share"] == pytest.approx(p)
            assert bias[category]["ratio"] == (pytest.approx(p / f) if f else None)
    (rater,) = report["raters"]
    curve = {c["dimension"]: c["points"] for c in rater["delegation"]}
    settled = [w for w in world if w[2] is not None]
    for point in curve["symptom"]:
        above = [w for w in settled if w[4] >= point["threshold"]]
        assert point["n"] == len(above)
        assert point["share"] == pytest.approx(len(above) / len(settled))
        if above:
            assert point["accuracy"] == pytest.approx(np.mean([w[3] == w[2] for w in above]))


def test_the_majority_at_a_coarse_level_counts_annotators_who_agree_there(project, cast):
    # Two annotators choose two leaves under Crash: at level 1 both chose Crash, a majority.
    build = LabelBuilder(project)
    run = _machine_run(project)
    item = build.item(position=0)
    other_crash = "Crash > Assertion Failure"
    build.annotate(item, cast["annotator_a"], [{"symptom": OOM}])
    build.annotate(item, cast["annotator_b"], [{"symptom": other_crash}])
    RaterLabel.objects.create(
        run=run, item=item, record=0, dimension=build.dimensions["symptom"],
        category=build.category("symptom", OOM), confidence=0.9,
    )  # fmt: skip
    rows = _rows(build_rater_report(project), "symptom", 1)
    assert rows["majority"]["n"] == 1
    assert rows["majority"]["percent_agreement"] == 1.0


def test_one_annotator_of_two_is_no_majority_when_the_other_said_out_of_scope(project, cast):
    build = LabelBuilder(project)
    run = _machine_run(project)
    item = build.item(position=0)
    build.annotate(item, cast["annotator_a"], [{"symptom": OOM}])
    build.annotate(item, cast["annotator_b"], [], out_of_scope=True)
    RaterLabel.objects.create(
        run=run, item=item, record=0, dimension=build.dimensions["symptom"],
        category=build.category("symptom", OOM), confidence=0.9,
    )  # fmt: skip
    rows = _rows(build_rater_report(project), "symptom", 3)
    assert rows["majority"]["n"] == 0  # 1 of 2 annotators is not more than half


def test_an_annotator_is_compared_by_the_first_round_not_the_revised_labels(project, cast):
    # A chose OOM alone, then revised to HANG after discussion: the machine, which also
    # said OOM, agreed with A's independent judgement.
    build = LabelBuilder(project)
    run = _machine_run(project)
    item = build.item(position=0)
    first = build.annotate(item, cast["annotator_a"], [{"symptom": OOM}])
    build.annotate(item, cast["annotator_b"], [{"symptom": HANG}])
    _freeze(first)
    build.relabel(first, [{"symptom": HANG}])
    RaterLabel.objects.create(
        run=run, item=item, record=0, dimension=build.dimensions["symptom"],
        category=build.category("symptom", OOM), confidence=0.9,
    )  # fmt: skip
    rows = _rows(build_rater_report(project), "symptom", 3)
    assert rows["annotator:annotator_a"]["percent_agreement"] == 1.0


def test_a_whole_item_missing_a_dimension_the_final_label_has_is_not_right(project, cast):
    # Stage optional: the machine left it out where the final label has it. The item is
    # not right as a whole; leaving it out of the curve raised the accuracy.
    build = LabelBuilder(project)
    build.dimensions["stage"].__class__.objects.filter(pk=build.dimensions["stage"].pk).update(
        required=False
    )
    run = _machine_run(project)
    for position, stage in enumerate(("Inference", None)):
        item = build.item(position=position)
        build.settle(item, [{"symptom": OOM, "stage": "Inference"}])
        RaterLabel.objects.create(
            run=run, item=item, record=0, dimension=build.dimensions["symptom"],
            category=build.category("symptom", OOM), confidence=0.9,
        )  # fmt: skip
        if stage:
            RaterLabel.objects.create(
                run=run, item=item, record=0, dimension=build.dimensions["stage"],
                category=build.category("stage", stage), confidence=0.8,
            )  # fmt: skip
    (rater,) = build_rater_report(project)["raters"]
    whole = next(c["points"] for c in rater["delegation"] if c["dimension"] == "all")
    assert (whole[0]["n"], whole[0]["accuracy"]) == (2, 0.5)
