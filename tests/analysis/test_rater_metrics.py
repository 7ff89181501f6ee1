"""The machine rater's statistics against independent implementations (scikit-learn's
cohen_kappa_score, statsmodels' fleiss_kappa and proportion_confint) and hand counts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss
from statsmodels.stats.proportion import proportion_confint

from analysis.metrics.machine import (
    category_bias,
    delegation_curve,
    pair_agreement,
    run_stability,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=2, max_size=60))
def test_pair_kappa_matches_scikit_learn(pairs):
    row = pair_agreement(pairs)
    machine, human = zip(*pairs, strict=True)
    if row["kappa"] is None:
        assert row["undefined"]
        return
    assert row["kappa"] == pytest.approx(cohen_kappa_score(machine, human), abs=1e-9)
    assert row["percent_agreement"] == pytest.approx(np.mean(np.equal(machine, human)))
    assert -1.0 <= row["ci_low"] <= row["kappa"] <= row["ci_high"] <= 1.0


def test_pair_agreement_by_hand():
    # 10 units: 6 agree on category 1, 2 on category 2, 2 differ (1 vs 2, 2 vs 1).
    pairs = [(1, 1)] * 6 + [(2, 2)] * 2 + [(1, 2), (2, 1)]
    row = pair_agreement(pairs)
    # p_o = 0.8; margins 0.7/0.3 each: p_e = 0.49 + 0.09 = 0.58; kappa = 0.22 / 0.42.
    assert row["percent_agreement"] == pytest.approx(0.8)
    assert row["kappa"] == pytest.approx(0.22 / 0.42)
    assert pair_agreement([])["undefined"] == "no paired units"


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.lists(st.lists(st.integers(1, 3), min_size=5, max_size=5),
                                   min_size=3, max_size=30))  # fmt: skip
def test_run_stability_matches_statsmodels_fleiss(k, units):
    units = [unit[:k] for unit in units]
    row = run_stability(units)
    categories = sorted({c for unit in units for c in unit})
    counts = np.array([[unit.count(c) for c in categories] for unit in units])
    if row["fleiss_kappa"] is None:
        assert row["undefined"]
        return
    assert row["fleiss_kappa"] == pytest.approx(sm_fleiss(counts), abs=1e-9)
    assert row["runs"] == k and row["n"] == len(units)
    assert row["all_alike"] == pytest.approx(np.mean([len(set(u)) == 1 for u in units]))


def test_run_stability_needs_two_runs():
    assert run_stability([[1], [2]])["undefined"] == "fewer than two runs"


def test_category_bias_is_predicted_share_over_final_share():
    # (machine, final): the machine says 1 on 6 of 8 items, the final labels on 4.
    pairs = [(1, 1)] * 4 + [(1, 2), (1, 3), (2, 2), (3, 3)]
    bias = category_bias(pairs)
    assert bias[1] == {"predicted_share": 0.75, "final_share": 0.5, "ratio": 1.5}
    assert bias[2]["ratio"] == pytest.approx((1 / 8) / (2 / 8))
    assert bias[3]["ratio"] == pytest.approx(0.5)  # 1 of 8 against 2 of 8
    assert category_bias([(4, 1)])[4]["ratio"] is None  # never in the final labels


def test_delegation_curve_by_hand():
    confidence = [0.95, 0.9, 0.85, 0.7, 0.6, 0.3]
    correct = [True, True, False, True, False, False]
    curve = {p["threshold"]: p for p in delegation_curve(confidence, correct,
                                                         (0.0, 0.8, 0.9, 0.99))}  # fmt: skip
    assert (curve[0.0]["n"], curve[0.0]["share"], curve[0.0]["accuracy"]) == (6, 1.0, 0.5)
    assert (curve[0.8]["n"], curve[0.8]["share"]) == (3, 0.5)
    assert curve[0.8]["accuracy"] == pytest.approx(2 / 3)
    assert curve[0.9]["accuracy"] == 1.0
    assert curve[0.99] == {"threshold": 0.99, "n": 0, "share": 0.0, "accuracy": None,
                           "ci_low": None, "ci_high": None}  # fmt: skip
    low, high = proportion_confint(2, 3, method="wilson")
    assert (curve[0.8]["ci_low"], curve[0.8]["ci_high"]) == pytest.approx((low, high))
