"""Distribution tables a paper can cite (issue #13): chi-square with Cochran's expected-count
warning, a seeded Monte-Carlo p, Bergsma's bias-corrected Cramér's V, Yates stated, shared
issues noted; Wilson intervals on every share; the caveat beside Pearson's r."""

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis import metrics
from analysis.dashboard import Filters, build_panel, chi2_summary, panel_figure
from annotate.access import SourceAccess
from tests.annotate.test_api_schema import CHECKS
from tests.annotate.test_api_schema import api_schema as api_schema  # a fixture

from .test_distributions import study_mix  # noqa: F401 (a fixture)

# --- the statistics, against scipy, statsmodels and hand values ---------------------------


@pytest.mark.parametrize(("count", "n"), [(0, 10), (10, 10), (3, 7), (295, 706), (1, 1_000_000)])
def test_wilson_interval_matches_statsmodels(count, n):
    low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
    assert metrics.wilson_interval(count, n) == pytest.approx((low, high), abs=1e-12)


def test_wilson_interval_hand_value_and_empty_total():
    # Newcombe (1998), Table I, example (c): 81/263 -> 0.2553 to 0.3662.
    low, high = metrics.wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert metrics.wilson_interval(0, 0) == (None, None)


def test_bergsma_corrected_v_hand_values():
    # [[30, 10], [10, 30]]: n = 80, chi2 = 20, phi2 = 0.25; the correction subtracts
    # 1/79 from phi2 and the row/column counts become 2 - 1/79, so
    # V~ = sqrt((0.25 - 1/79) / (1 - 1/79)) = 0.490290...
    result = metrics.chi_square([[30, 10], [10, 30]])
    assert result.chi2 == pytest.approx(20.0)
    assert result.cramers_v == pytest.approx(0.5)
    assert result.cramers_v_corrected == pytest.approx(((0.25 - 1 / 79) / (1 - 1 / 79)) ** 0.5)
    assert result.cramers_v_corrected == pytest.approx(0.49029, abs=1e-5)
    # Independence-level association is corrected to 0, not to a small positive V.
    weak = metrics.chi_square([[10, 20], [30, 40]])
    assert weak.cramers_v > 0 and weak.cramers_v_corrected == 0.0


def test_cochran_rule_hand_values():
    # Expected counts of [[1, 1], [1, 1]] are all 1: 100% below 5.
    assert metrics.cochran_rule(stats.contingency.expected_freq([[1, 1], [1, 1]])) == (
        1.0,
        1.0,
        True,
    )
    # 1 of 4 cells below 5 (25% > 20%) breaks the rule; none below 5 keeps it.
    assert metrics.cochran_rule([[4, 10], [10, 10]])[2] is True
    assert metrics.cochran_rule([[0.9, 100], [100, 100]])[2] is True  # one below 1
    assert metrics.cochran_rule([[5, 10], [10, 10]]) == (5.0, 0.0, False)
    dense = metrics.chi_square([[50, 50], [50, 50]])
    assert not dense.sparse and dense.p_monte_carlo is None


def _permutation_p(table, resamples, seed):
    """An independent Monte-Carlo p: shuffle the column labels of the table's records."""
    table = np.asarray(table)
    rows = np.repeat(np.arange(table.shape[0]), table.sum(axis=1))
    cols = np.concatenate([np.repeat(np.arange(table.shape[1]), r) for r in table])
    observed = stats.chi2_contingency(table, correction=False)[0]
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(resamples):
        shuffled = np.zeros_like(table)
        np.add.at(shuffled, (rows, rng.permutation(cols)), 1)
        hits += stats.chi2_contingency(shuffled, correction=False)[0] >= observed - 1e-9
    return (hits + 1) / (resamples + 1)


def test_monte_carlo_p_of_a_sparse_table_matches_a_permutation_test():
    table = [[3, 0, 1, 0], [0, 2, 0, 1], [1, 0, 4, 2]]
    result = metrics.chi_square(table)
    assert result.sparse and result.expected_below_5 == 1.0
    asymptotic = stats.chi2_contingency(table, correction=False)
    assert result.p_value == pytest.approx(asymptotic.pvalue)
    assert result.monte_carlo_resamples == 9999 and result.monte_carlo_seed is not None
    # p is near 0.009 here (the asymptotic one says 0.020); 2,000 shuffles have a standard
    # error of about 0.002 there.
    assert result.p_monte_carlo == pytest.approx(_permutation_p(table, 2000, 7), abs=0.008)
    # Seeded: the same table gives the same p.
    assert metrics.chi_square(table).p_monte_carlo == result.p_monte_carlo


def test_large_sparse_tables_take_fewer_resamples_or_say_why_not():
    rng = np.random.default_rng(0)
    medium = rng.poisson(2, size=(200, 50))  # expected counts near 2: sparse
    result = metrics.chi_square(medium)
    assert result.sparse and result.monte_carlo_resamples == metrics.MONTE_CARLO_MIN_RESAMPLES
    assert result.p_monte_carlo >= 1 / 1000
    huge = rng.poisson(0.5, size=(1000, 300))
    result = metrics.chi_square(huge)
    assert result.sparse and result.p_monte_carlo is None
    assert result.monte_carlo_skipped == metrics.TOO_LARGE
    summary = chi2_summary({"chi2": result.as_dict()})
    assert summary["monte_carlo"] == f"Monte-Carlo p not computed: {metrics.TOO_LARGE}"


def test_monte_carlo_p_agrees_with_scipys_monte_carlo_method():
    table = np.random.default_rng(5).poisson(1, size=(6, 8))
    ours = metrics.chi_square(table).p_monte_carlo
    method = stats.MonteCarloMethod(n_resamples=9999, rng=np.random.default_rng(11))
    theirs = stats.chi2_contingency(table, correction=False, method=method).pvalue
    # Two estimates of one p from 9,999 tables each: standard errors near 0.005.
    assert ours == pytest.approx(theirs, abs=0.02)


def test_yates_is_stated_and_never_applied():
    two = metrics.chi_square([[12, 5], [3, 9]])
    assert two.yates_applies and not two.yates_applied
    assert two.chi2 == pytest.approx(stats.chi2_contingency([[12, 5], [3, 9]], False)[0])
    three = metrics.chi_square([[12, 5, 7], [3, 9, 8]])
    assert not three.yates_applies and not three.yates_applied


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "< 0.0001"),
        (6e-26, "< 0.0001"),
        (0.0001, "0.0001"),
        (0.03456, "0.0346"),
        (1, "1.0000"),
    ],
)
def test_p_values_never_print_as_zero(p, text):
    assert metrics.format_p(p) == text


def test_chi_square_edge_tables():
    assert metrics.chi_square([]).undefined == "the table is empty"
    assert metrics.chi_square([[0, 0], [0, 0]]).undefined == "the table is empty"
    assert metrics.chi_square([[5, 7]]).undefined  # one row
    assert metrics.chi_square([[5], [7]]).undefined  # one column
    # A zero row and column are dropped: what is left is a 2x2.
    trimmed = metrics.chi_square([[10, 0, 3], [0, 0, 0], [4, 0, 12]])
    assert trimmed.dof == 1 and trimmed.yates_applies
    # Huge counts: no warning, no resampling, a p that prints as "< 0.0001".
    huge = metrics.chi_square([[400_000, 100_000], [100_000, 400_000]])
    assert not huge.sparse and huge.p_monte_carlo is None
    assert metrics.format_p(huge.p_value) == "< 0.0001"


# --- the distributions page, its downloads and the API ----------------------------------


def test_sparse_crosstab_page_warns_and_prints_monte_carlo_p(project, cast, study_mix, client_for):  # noqa: F811
    page = client_for(cast["lead"]).get(f"/projects/{project.slug}/distributions/", {"view": "rq6"})
    text = page.content.decode()
    assert "p = 0.0000" not in text
    assert "p &lt; 0.0001 (asymptotic)" in text
    assert "Cochran&#x27;s rule" in text and "Monte-Carlo p" in text
    assert "bias-corrected V (Bergsma 2013)" in text
    assert "Yates&#x27;s continuity correction: not applicable" in text
    # The study mix puts its last two records on one issue.
    assert "1 issue(s) contribute 2 records between them" in text


def test_api_chi_square_carries_the_warning_and_both_p_values(project, cast, study_mix, api_for):  # noqa: F811
    data = (
        api_for(cast["annotator_a"])
        .get(
            f"/api/projects/{project.slug}/distribution/",
            {"rows": "meta:model", "cols": "dim:symptom@1"},
        )
        .json()
    )
    chi2 = data["chi2"]
    expected = stats.contingency.expected_freq(np.array(data["counts"]))
    assert chi2["sparse"] is True
    assert chi2["expected_below_5"] == pytest.approx((expected < 5).mean())
    assert chi2["expected_min"] == pytest.approx(expected.min())
    assert chi2["p_monte_carlo"] >= 1 / 10000 and chi2["yates_applied"] is False
    assert data["shared_issues"] == {"issues": 1, "records": 2}
    total = data["total"]
    low, high = proportion_confint(data["counts"][0][0], total, method="wilson")
    assert data["percent_ci_low"][0][0] == pytest.approx(100 * low)
    assert data["percent_ci_high"][0][0] == pytest.approx(100 * high)


def test_one_way_shares_carry_wilson_intervals_on_page_csv_and_latex(
    project,
    cast,
    study_mix,  # noqa: F811
    client_for,
):
    client = client_for(cast["annotator_b"])
    base = f"/projects/{project.slug}/distributions/"
    low, high = proportion_confint(295, 706, method="wilson")
    page = client.get(base, {"view": "rq1"}).content.decode()
    assert "95% CI (Wilson)" in page
    assert f"{100 * low:.1f}–{100 * high:.1f}" in page
    rows = list(csv.reader(io.StringIO(client.get(base + "tables/rq1.csv").content.decode())))
    assert rows[0][-2:] == ["ci95_low_percent", "ci95_high_percent"]
    crash = next(r for r in rows if r[0] == "Crash")
    assert float(crash[3]) == pytest.approx(100 * low, abs=1e-6)
    assert float(crash[4]) == pytest.approx(100 * high, abs=1e-6)
    latex = client.get(base + "tables/rq1.tex").content.decode()
    assert f"Crash & 295 & {100 * 295 / 706:.3f} & {100 * low:.3f} & {100 * high:.3f}" in latex


def test_bar_chart_draws_wilson_error_bars(project, study_mix):  # noqa: F811
    panel = build_panel(project=project, filters=Filters(view="rq1"), access=SourceAccess())
    figure = panel_figure(panel, "bars")
    axes = figure.axes[0]
    assert "Wilson 95% CI" in axes.get_xlabel()
    (bars,) = [c for c in axes.collections if c.get_segments()]
    segments = sorted((s[0][0], s[1][0]) for s in bars.get_segments())
    expected = sorted(
        tuple(706 * b for b in proportion_confint(n, 706, method="wilson"))
        for n in (295, 240, 137, 19, 15)
    )
    assert np.ravel(segments) == pytest.approx(np.ravel(expected))


def test_correlation_view_has_the_caveat_and_the_homogeneity_test(
    project,
    cast,
    study_mix,  # noqa: F811
    client_for,
):
    page = client_for(cast["lead"]).get(f"/projects/{project.slug}/distributions/", {"view": "rq4"})
    text = page.content.decode()
    assert 'id="correlation-caveat"' in text and "Aitchison 1986" in text
    assert 'id="homogeneity"' in text and "χ² test of homogeneity" in text


def test_empty_project_panels_do_not_break(project, cast, client_for):
    client = client_for(cast["lead"])
    for view in ("rq1", "rq4", "rq6"):
        response = client.get(f"/projects/{project.slug}/distributions/", {"view": view})
        assert response.status_code == 200
    assert client.get(f"/projects/{project.slug}/distributions/tables/rq1.csv").status_code == 200


def test_two_way_row_shares_carry_wilson_intervals_on_page_and_downloads(
    project,
    cast,
    study_mix,  # noqa: F811
    client_for,
):
    client = client_for(cast["annotator_a"])
    base = f"/projects/{project.slug}/distributions/"
    page = client.get(base, {"view": "rq6"}).content.decode()
    # Qwen: 200 of its 440 records are crashes.
    low, high = proportion_confint(200, 440, method="wilson")
    assert 'id="row-shares"' in page
    assert f'{100 * 200 / 440:.1f}% <span class="muted">[{100 * low:.1f}, {100 * high:.1f}]' in page
    rows = list(
        csv.reader(io.StringIO(client.get(base + "tables/rq6-shares.csv").content.decode()))
    )
    assert rows[0] == ["meta:model", "dim:symptom@1", "records", "of", "percent",
                       "ci95_low_percent", "ci95_high_percent"]  # fmt: skip
    qwen = next(r for r in rows if r[:2] == ["Qwen", "Crash"])
    assert qwen[2:4] == ["200", "440"]
    assert [float(v) for v in qwen[4:]] == pytest.approx([100 * 200 / 440, 100 * low, 100 * high])
    assert len(rows) == 1 + 4 * 5  # every share of the 4 x 5 table
    latex = client.get(base + "tables/rq6-shares.tex").content.decode()
    assert "Qwen & Crash & 200 & 440 &" in latex
    one_way = client.get(base + "tables/rq1-shares.csv").content.decode()
    assert "Crash,records,295,706," in one_way
    assert client.get(base + "tables/nope-shares.csv").status_code == 404
    other = client.get(base + "tables/rq1-shares.csv", {"source": "annotator:annotator_b"})
    assert other.status_code == 403


def test_distribution_reply_with_the_new_fields_matches_its_schema(
    project,
    cast,
    study_mix,  # noqa: F811
    api_schema,  # noqa: F811
):
    token = Token.objects.create(user=cast["lead"]).key
    (operation,) = [
        r.ok() for r in api_schema.include(path_regex=r"/distribution/$").get_all_operations()
    ]
    query = {"rows": "meta:model", "cols": "dim:symptom@1"}  # sparse: every field is set
    strategy = operation.as_strategy(path_parameters={"slug": project.slug}, query=query)

    @given(case=strategy)
    @settings(max_examples=2, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case):
        case.query = query
        response = case.call_and_validate(
            headers={"Authorization": f"Token {token}"}, checks=CHECKS
        )
        assert response.json()["chi2"]["p_monte_carlo"] is not None

    check()
