"""The statistics against published values and against maintained packages."""

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from analysis import metrics

# Fleiss (1971): 30 patients, 6 psychiatrists, 5 diagnoses (counts per patient).
FLEISS_1971 = [
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
    [0, 0, 5, 0, 1], [3, 0, 0, 1, 2], [5, 1, 0, 0, 0], [0, 2, 0, 4, 0], [1, 0, 2, 0, 3],
    [0, 0, 0, 0, 6], [0, 1, 0, 5, 0], [0, 2, 0, 1, 3], [2, 0, 0, 4, 0], [1, 0, 0, 4, 1],
    [0, 5, 0, 1, 0], [4, 0, 0, 0, 2], [0, 2, 0, 4, 0], [1, 0, 5, 0, 0], [0, 0, 0, 0, 6],
]  # fmt: skip

# Krippendorff's reliability data: 4 coders x 12 units, None = missing.
KRIPPENDORFF = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def value_counts(reliability, values):
    return np.array(
        [[sum(1 for coder in reliability if coder[u] == v) for v in values]
         for u in range(len(reliability[0]))]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("table", "kappa", "se"),
    [
        ([[20, 5], [10, 15]], 0.4000, 0.1270),
        ([[88, 14, 18], [10, 40, 10], [2, 6, 12]], 0.4915, 0.0510),  # Cohen (1960)
    ],
)
def test_kappa_and_se_match_published_values(table, kappa, se):
    result = metrics.cohens_kappa(table)
    assert result.kappa == pytest.approx(kappa, abs=5e-5)
    assert result.se == pytest.approx(se, abs=5e-5)


def test_kappa_confidence_interval_matches_published_values():
    result = metrics.cohens_kappa([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert round(result.kappa, 4) == 0.4842
    assert (round(result.ci_low, 4), round(result.ci_high, 4)) == (0.2137, 0.7547)


def test_krippendorff_alpha_matches_reliability_data_example():
    counts = value_counts(KRIPPENDORFF, [1, 2, 3, 4, 5])
    assert round(metrics.krippendorff_alpha_from_units(counts).value, 4) == 0.7434


def test_fleiss_kappa_matches_fleiss_1971():
    assert round(metrics.fleiss_kappa(FLEISS_1971).value, 4) == 0.4302


def test_gwet_ac1_stays_high_where_kappa_collapses():
    # Gwet (2008): one category dominates; kappa is about -0.02, AC1 about 0.94.
    table = [[118, 5], [2, 0]]
    assert round(metrics.cohens_kappa(table).kappa, 2) == -0.02
    assert round(metrics.gwet_ac1(table).value, 4) == 0.9408


def test_undefined_cases_say_why_instead_of_nan():
    empty = metrics.agreement_summary(np.zeros((0, 0)))
    assert empty["n"] == 0 and empty["kappa"] is None and empty["undefined"] == metrics.NO_UNITS
    single = metrics.agreement_summary([[12]])
    assert single["percent_agreement"] == 1.0
    assert single["kappa"] is None and single["alpha"] is None and single["ac1"] is None
    assert single["undefined"] == metrics.ONE_CATEGORY
    assert metrics.fleiss_kappa([[2, 0], [1, 2]]).undefined
    assert metrics.chi_square([[3, 4]]).undefined
    assert metrics.chi_square([]).undefined == "the table is empty"


def test_landis_koch_bands():
    bands = [metrics.landis_koch(k) for k in (-0.1, 0.0, 0.2, 0.35, 0.41, 0.7, 0.81, 1.0)]
    assert bands == [
        "poor", "slight", "slight", "fair", "moderate", "substantial", "almost perfect",
        "almost perfect",
    ]  # fmt: skip
    assert metrics.landis_koch(None) is None


def test_one_vs_rest_and_disagreement_involvement():
    table = np.array([[5, 1, 0], [2, 4, 0], [0, 0, 3]])
    assert metrics.one_vs_rest(table, 0).tolist() == [[5, 1], [2, 7]]
    assert metrics.disagreement_involvement(table).tolist() == [3, 3, 0]
    assert metrics.cohens_kappa(metrics.one_vs_rest(table, 2)).kappa == pytest.approx(1.0)


def test_chi_square_and_cramers_v_match_scipy():
    table = [[10, 20, 0], [30, 5, 0], [0, 0, 0]]
    result = metrics.chi_square(table)
    chi2, p, dof, _ = stats.chi2_contingency([[10, 20], [30, 5]], correction=False)
    assert (result.chi2, result.p_value, result.dof) == pytest.approx((chi2, p, dof))
    assert result.cramers_v == pytest.approx(np.sqrt(chi2 / 65))


def test_distribution_correlation_is_pearson_between_row_shares():
    result = metrics.distribution_correlation(["a", "b", "c"], [[10, 5, 1], [20, 10, 2], [1, 1, 1]])
    assert result.r[0][1] == pytest.approx(1.0)
    assert result.r[0][0] == pytest.approx(1.0)
    assert result.r[2][0] is None  # a flat distribution has no correlation


square_tables = st.integers(min_value=2, max_value=5).flatmap(
    lambda k: st.lists(
        st.lists(st.integers(min_value=0, max_value=30), min_size=k, max_size=k),
        min_size=k,
        max_size=k,
    )
)


@settings(max_examples=150, deadline=None)
@given(square_tables)
def test_kappa_equals_statsmodels_on_random_tables(table):
    ours = metrics.cohens_kappa(table)
    array = np.array(table, dtype=float)
    n = array.sum()
    expected = (array.sum(0) @ array.sum(1)) / n**2 if n else 1.0
    one_sided = min((array.sum(1) > 0).sum(), (array.sum(0) > 0).sum()) < 2
    if n == 0 or expected >= 1 - 1e-12 or one_sided:
        # statsmodels gives 0 with a margin of a single category: 0 by construction.
        assert ours.kappa is None and ours.undefined
        return
    theirs = sm_kappa(array)
    assert ours.kappa == pytest.approx(theirs.kappa, abs=1e-9)
    if np.isnan(theirs.std_kappa):
        # statsmodels takes the root of a variance that rounding made a hair below 0;
        # ours clamps it to 0 (never NaN).
        assert ours.se == 0.0
        return
    assert ours.se == pytest.approx(theirs.std_kappa, abs=1e-9)
    assert ours.ci_low == pytest.approx(theirs.kappa_low, abs=1e-9)
    assert ours.ci_high == pytest.approx(theirs.kappa_upp, abs=1e-9)


reliability = st.integers(min_value=2, max_value=5).flatmap(
    lambda coders: st.lists(
        st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=coders, max_size=coders),
        min_size=2,
        max_size=25,
    )
)


@settings(max_examples=150, deadline=None)
@given(reliability)
def test_alpha_equals_krippendorff_package_on_random_data(units):
    counts = np.array([[sum(1 for v in unit if v == c) for c in (1, 2, 3, 4)] for unit in units])
    ours = metrics.krippendorff_alpha_from_units(counts)
    pairable = counts[counts.sum(1) >= 2]
    values_used = (pairable.sum(0) > 0).sum() if pairable.size else 0
    if values_used < 2:
        assert ours.value is None and ours.undefined
        return
    theirs = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    assert ours.value == pytest.approx(theirs, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(square_tables)
def test_pair_coincidence_equals_unit_coincidence_for_two_coders(table):
    array = np.array(table)
    k = array.shape[0]
    units = [np.eye(k)[i] + np.eye(k)[j] for i in range(k) for j in range(k)
             for _ in range(array[i, j])]  # fmt: skip
    by_units = metrics.coincidence_matrix(np.array(units).reshape(-1, k))
    assert np.allclose(by_units, metrics.pair_coincidence(array))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=2, max_size=20).map(
        lambda rows: [r + [4 - sum(r) if sum(r) <= 4 else 0] for r in rows if sum(r) <= 4]
    )
)
def test_fleiss_equals_statsmodels_on_random_tables(rows):
    counts = np.array([r for r in rows if sum(r) == 4])
    if len(counts) < 2:
        return
    ours = metrics.fleiss_kappa(counts)
    p = counts.sum(0) / counts.sum()
    if (p**2).sum() >= 1 - 1e-12:
        assert ours.undefined
    else:
        assert ours.value == pytest.approx(sm_fleiss(counts), abs=1e-9)


# --- Issue #13: kappa by name, its companions, and intervals --------------------------------


def test_batched_kappas_match_statsmodels_plain_and_linear():
    tables = np.array([[[88, 14, 18], [10, 40, 10], [2, 6, 12]], [[5, 1, 0], [2, 7, 3], [0, 1, 9]]])
    assert metrics.kappas(tables) == pytest.approx([sm_kappa(t).kappa for t in tables])
    linear = metrics.kappas(tables, metrics.linear_weights(3))
    assert linear == pytest.approx([sm_kappa(t, wt="linear").kappa for t in tables])
    assert np.isnan(metrics.kappas(np.array([[[4, 0], [0, 0]]]))).all()


def test_fleiss_kappa_from_the_coincidence_matrix_matches_statsmodels():
    counts = np.array(FLEISS_1971)
    o = sum(metrics.unit_coincidence(c) for c in counts)
    assert float(metrics.fleiss_kappas(o)) == pytest.approx(sm_fleiss(counts))
    assert round(float(metrics.fleiss_kappas(o)), 4) == 0.4302


def test_lights_kappa_is_the_mean_of_pairwise_cohen():
    from sklearn.metrics import cohen_kappa_score

    raters = [[0, 1, 1, 2, 0, 1, 2, 2], [0, 1, 0, 2, 0, 1, 2, 1], [1, 1, 1, 2, 0, 0, 2, 2]]
    tables = []
    for x, y in ((0, 1), (0, 2), (1, 2)):
        table = np.zeros((3, 3))
        np.add.at(table, (raters[x], raters[y]), 1)
        tables.append(table)
    expected = np.mean(
        [cohen_kappa_score(raters[x], raters[y]) for x, y in ((0, 1), (0, 2), (1, 2))]
    )
    assert float(metrics.light_kappas(np.array(tables))) == pytest.approx(expected)


def test_pabak_kappa_max_and_byrt_indices_by_hand():
    # a=40, b=9, c=6, d=45 of 100 (Byrt, Bishop & Carlin 1993's definitions).
    table = [[40, 9], [6, 45]]
    assert metrics.pabak(table).value == pytest.approx(2 * 0.85 - 1)
    prevalence, bias = metrics.prevalence_bias(table)
    assert prevalence.value == pytest.approx(-0.05) and bias.value == pytest.approx(0.03)
    # Margins .49/.51 and .46/.54: p_o,max = .46 + .51, p_e = .5008.
    assert metrics.kappa_max(table).value == pytest.approx((0.97 - 0.5008) / (1 - 0.5008))
    # k categories: (k p_o - 1) / (k - 1).
    assert metrics.pabak([[5, 1, 0], [0, 3, 1], [0, 0, 2]]).value == pytest.approx(
        (3 * 10 / 12 - 1) / 2
    )
    assert metrics.pabak([[7]]).undefined == metrics.ONE_CATEGORY


def test_ac1_from_coincidence_equals_two_rater_ac1():
    table = np.array([[118, 5], [2, 0]])
    o = metrics.pair_coincidence(table)
    assert metrics.gwet_ac1_coincidence(o).value == pytest.approx(metrics.gwet_ac1(table).value)


def two_rater_ratings(table):
    """Ratings of a two-rater table, each cell a type of single-unit items."""
    table = np.asarray(table)
    k = table.shape[0]
    i, j = np.nonzero(table)
    t = np.arange(len(i))
    return metrics.Ratings(
        k=k, pairs=1, weight=table[i, j].astype(float),
        pair_cells=(t, np.zeros(len(t), int), i, j, np.ones(len(t))),
        coincidence_cells=(np.concatenate([t, t]), np.concatenate([i, j]),
                           np.concatenate([j, i]), np.ones(2 * len(t))),
    )  # fmt: skip


@pytest.mark.parametrize(
    "table",
    [
        [[0, 0], [0, 0]],  # no items
        [[12, 0], [0, 0]],  # one category
        [[1, 0], [0, 0]],  # n = 1
        [[10, 0], [0, 10]],  # identical raters, small n
        [[60, 0], [0, 40]],  # identical raters, bootstrap
        [[0, 20], [20, 0]],  # total disagreement
        [[48, 1], [1, 0]],  # degenerate margins
        [[6, 0], [2, 0]],  # one rater used one category: kappa 0 by construction
        [[36, 0], [12, 0]],
    ],
)
def test_agreement_rows_of_degenerate_tables_stay_in_range_or_say_why(table):
    row = metrics.agreement_row(two_rater_ratings(table), raters=2)
    assert row["n"] == int(np.sum(table))
    for key in ("kappa", "ci_low", "ci_high", "pabak", "kappa_max", "ac1"):
        assert row[key] is None or -1 - 1e-12 <= row[key] <= 1 + 1e-12, key
    if row["kappa"] is None:
        assert row["undefined"] and row["band"] is None and row["se"] is None
        assert row["ci_low"] is None and row["ci_method"] is None
    else:
        assert row["kappa"] == pytest.approx(sm_kappa(np.array(table)).kappa)
    if row["ci_low"] is None:
        assert row["undefined"] and row["ci_method"] is None
    else:
        assert row["ci_low"] <= row["kappa"] <= row["ci_high"]


def test_bootstrap_is_seeded_and_resamples_items():
    ratings = two_rater_ratings([[30, 5], [4, 21]])
    first = metrics.bootstrap(ratings, "cohen")
    assert len(first) >= 2000 and np.array_equal(first, metrics.bootstrap(ratings, "cohen"))
    # Against a plain item bootstrap of the 60 items with scikit-learn.
    from sklearn.metrics import cohen_kappa_score

    a = np.repeat([0, 0, 1, 1], [30, 5, 4, 21])
    b = np.repeat([0, 1, 0, 1], [30, 5, 4, 21])
    rng = np.random.default_rng(1)
    draws = []
    for _ in range(1000):
        pick = rng.integers(0, 60, 60)
        draws.append(cohen_kappa_score(a[pick], b[pick]))
    assert np.nanstd(first, ddof=1) == pytest.approx(np.std(draws, ddof=1), rel=0.1)


def test_weighted_rows_with_three_raters_take_lights_kappa_of_weighted_pairs():
    from sklearn.metrics import cohen_kappa_score

    raters = [[0, 1, 2, 1, 0, 2, 1], [0, 2, 2, 1, 0, 1, 1], [1, 1, 2, 0, 0, 2, 1]]
    tables = []
    for x, y in ((0, 1), (0, 2), (1, 2)):
        table = np.zeros((3, 3))
        np.add.at(table, (raters[x], raters[y]), 1)
        tables.append(table)
    expected = np.mean(
        [cohen_kappa_score(raters[x], raters[y], weights="linear")
         for x, y in ((0, 1), (0, 2), (1, 2))]
    )  # fmt: skip
    weights = metrics.linear_weights(3)
    assert float(metrics.light_kappas(np.array(tables), weights)) == pytest.approx(expected)
    assert metrics.kappa_statistic(3, True, weighted=True) == "light"
    assert metrics.kappa_statistic(3, True) == "fleiss"
    assert metrics.kappa_statistic(2, True, weighted=True) == "cohen"


def test_infinitesimal_jackknife_se_agrees_with_the_bootstrap_and_the_asymptotic_se():
    table = [[30, 5, 2], [4, 21, 3], [1, 2, 12]]
    ratings = two_rater_ratings(table)
    assert metrics.jackknife_se(ratings, "cohen") == pytest.approx(
        sm_kappa(np.array(table)).std_kappa, rel=0.05
    )
    boot = metrics.bootstrap(ratings, "fleiss")
    assert metrics.jackknife_se(ratings, "fleiss") == pytest.approx(np.std(boot, ddof=1), rel=0.1)


def test_large_samples_take_the_poisson_bootstrap_which_matches_the_multinomial():
    table = np.array([[6000, 900, 100], [800, 3500, 200], [50, 150, 2300]])
    ratings = two_rater_ratings(table)
    poisson = metrics.bootstrap(ratings, "fleiss")
    small = two_rater_ratings(table)
    rng = np.random.default_rng(2)
    draws = rng.multinomial(int(table.sum()), (table / table.sum()).ravel(), size=2000)
    exact = []
    for d in draws:
        t = d.reshape(3, 3)
        exact.append(float(metrics.fleiss_kappas(metrics.pair_coincidence(t))))
    assert np.std(poisson, ddof=1) == pytest.approx(np.std(exact, ddof=1), rel=0.1)
    row = metrics.agreement_row(small, raters=3)
    assert row["ci_method"].startswith("Poisson bootstrap") and row["n"] >= metrics.POISSON_FROM
