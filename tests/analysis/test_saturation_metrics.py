"""Guest, Namey & Chen's (2020) stopping rule, against a hand count of their procedure."""

import pytest

from analysis.metrics.saturation import SaturationError, new_per_batch, stopping_rule


def test_new_per_batch_counts_each_code_in_its_first_batch():
    assert new_per_batch([1, 1, 2, 4, 4, 4, 9], 5) == [2, 1, 0, 3, 0]


def test_saturation_after_the_batch_before_the_first_quiet_run():
    # Base of 4 batches holds 20 codes; runs of 2: (5,6) adds 3 = 15%, (6,7) adds 2 = 10%,
    # (7,8) adds 1 = 5% <= 5%: saturation after batch 6.
    verdict = stopping_rule([8, 6, 4, 2, 1, 2, 0, 1, 0], base=4, run=2, threshold=0.05)
    assert verdict.base_codes == 20
    assert [(r.start, r.end, r.new) for r in verdict.runs] == [(5, 6, 3), (6, 7, 2), (7, 8, 1)]
    assert verdict.saturated and verdict.at_batch == 6
    assert "saturation after batch 6" in verdict.reason


def test_zero_threshold_needs_a_run_without_anything_new():
    verdict = stopping_rule([8, 6, 4, 2, 1, 2, 0, 1, 0, 0], base=4, run=2, threshold=0.0)
    assert verdict.at_batch == 8


def test_not_saturated_names_the_last_run():
    verdict = stopping_rule([5, 5, 5, 5, 3, 3, 3], base=4, run=2)
    assert not verdict.saturated and verdict.at_batch is None
    assert "batches 6-7" in verdict.reason


def test_too_few_batches_says_how_many_the_rule_needs():
    verdict = stopping_rule([3, 2, 1], base=4, run=2)
    assert not verdict.saturated and "6" in verdict.reason


@pytest.mark.parametrize("kwargs", [{"base": 0}, {"run": 0}, {"threshold": 1.0}])
def test_bad_parameters_are_named(kwargs):
    with pytest.raises(SaturationError):
        stopping_rule([1] * 10, **kwargs)
