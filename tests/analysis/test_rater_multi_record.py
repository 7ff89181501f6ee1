"""Human-machine agreement over items with several failure records: the machine's records
are paired with the final labels' and each annotator's by content, as the human-human
agreement pairs them (identical records first, then the fewest disagreements); a record
left without a partner is counted as unpaired. The human majority stays single-record
(its items with several records are counted). Values computed by hand."""

import pytest

from analysis.rater_agreement import build_rater_report
from annotate.models import RaterLabel, RaterRun
from annotate.raters import runs
from tests.builders import ASSERTION, HANG, OOM, LabelBuilder

# item: (final records, machine records, annotator_b records); annotator_a gives the final
# records. Item A: two failures the machine gives in the other order; item B: one
# failure, the machine adds a second; C right; D wrong; annotator_b gives A's first only.
WORLD = [
    ([OOM, HANG], [HANG, OOM], [OOM]),
    ([HANG], [HANG, ASSERTION], [HANG]),
    ([OOM], [OOM], [OOM]),
    ([OOM], [HANG], [OOM]),
]


@pytest.fixture
def report(project, cast):
    build = LabelBuilder(project)
    rater = runs.add_rater(project=project, user=None, kind="builtin", name="tfidf")
    run = RaterRun.objects.create(rater=rater, number=1, codebook_version=1, status="succeeded")
    symptom = build.dimensions["symptom"]
    for position, (final, machine, theirs) in enumerate(WORLD):
        item = build.item(position=position)
        build.annotate(item, cast["annotator_a"], [{"symptom": p} for p in final])
        build.annotate(item, cast["annotator_b"], [{"symptom": p} for p in theirs])
        build.settle(item, [{"symptom": p} for p in final])
        for number, path in enumerate(machine):
            RaterLabel.objects.create(
                run=run, item=item, record=number, dimension=symptom,
                category=build.category("symptom", path), confidence=0.9 - 0.1 * number,
            )  # fmt: skip
    (rater_report,) = build_rater_report(project)["raters"]
    return rater_report


def _row(report, versus, level=3):
    (row,) = [
        r for r in report["rows"]
        if (r["dimension"], r["level"], r["versus"]) == ("symptom", level, versus)
    ]  # fmt: skip
    return row


def test_records_are_paired_by_content_against_final_labels_and_annotators(report):
    # Against the final labels: A (Hang, Hang) (OOM, OOM), B (Hang, Hang), C (OOM, OOM),
    # D (Hang, OOM); B's Assertion has no partner. Machine Hang 3, OOM 2; final Hang 2,
    # OOM 3: po = 4/5, pe = (3*2 + 2*3)/25 = 12/25, kappa = (0.8 - 0.48)/0.52.
    final = _row(report, "final")
    assert (final["n"], final["percent_agreement"], final["unpaired"]) == (5, 0.8, 1)
    assert final["kappa"] == pytest.approx(0.32 / 0.52)
    assert _row(report, "annotator:annotator_a")["n"] == 5
    # annotator_b gave A one record (OOM): A's Hang is left over, and B's Assertion.
    # Pairs (OOM, OOM) (Hang, Hang) (OOM, OOM) (Hang, OOM): po = 3/4.
    b = _row(report, "annotator:annotator_b")
    assert (b["n"], b["percent_agreement"], b["unpaired"]) == (4, 0.75, 2)
    # Level 1: Hang against Crash on D only.
    assert _row(report, "final", level=1)["percent_agreement"] == 0.8


def test_the_majority_stays_single_record_and_counts_what_it_leaves_out(report):
    # The machine's single-record items C and D; A and B (several records) are counted.
    majority = _row(report, "majority")
    assert (majority["n"], majority["percent_agreement"]) == (2, 0.5)
    assert report["skipped_multi_record"] == 2
    assert report["multi_record_items"] == 2


def test_bias_and_delegation_over_paired_records(report):
    bias = {
        row["category"]: row["ratio"]
        for row in report["bias"]
        if (row["dimension"], row["level"]) == ("symptom", 3)
    }
    assert bias[HANG] == pytest.approx(0.6 / 0.4) and bias[OOM] == pytest.approx(0.4 / 0.6)
    symptom = next(c for c in report["delegation"] if c["dimension"] == "symptom")
    assert (symptom["points"][0]["n"], symptom["points"][0]["accuracy"]) == (5, 0.8)
    # Whole items: right when the records match one for one (A and C; B has one too many).
    whole = next(c for c in report["delegation"] if c["dimension"] == "all")
    assert (whole["points"][0]["n"], whole["points"][0]["accuracy"]) == (4, 0.5)
    # At 0.9 only C and D remain (A and B have a record at 0.8): one of two right.
    at_90 = next(p for p in whole["points"] if p["threshold"] == 0.9)
    assert (at_90["n"], at_90["accuracy"]) == (2, 0.5)


def test_the_methods_paragraph_says_what_the_majority_leaves_out(project, report):
    from analysis.cache import methods_facts
    from analysis.methods_text import methods_markdown

    text = " ".join(methods_markdown(methods_facts(project)).split())
    assert "On the 2 items where it or the final labels gave several failure records" in text
    assert "single-record items only (2 items with several records left out)" in text
