"""Agreement and association statistics over aggregate tables. Django-free: numpy + scipy.

Every function takes counts (a contingency table, per-unit value counts, a coincidence
matrix), never raw label rows, so the database does the counting. A statistic that is not
defined for its input (no units, a single category) comes back as ``None`` with a reason
in ``undefined``: never NaN, never an exception.
"""

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

Z_95 = float(stats.norm.ppf(0.975))

# Landis & Koch (1977): upper bounds of the bands of kappa.
BANDS = [
    (0.0, "poor"),
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.0, "almost perfect"),
]

NO_UNITS = "no paired units"
ONE_CATEGORY = "only one category was used, so chance agreement is total"
# Cohen's kappa when one coder's margin is a single category: chance agreement equals
# observed agreement whatever the other coder does, so kappa (and kappa_max) is 0 by
# construction, with a standard error of 0: no measure of agreement at all.
ONE_SIDED = "one annotator used a single category, so kappa is 0 whatever the agreement"


@dataclass
class Kappa:
    kappa: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    undefined: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Value:
    """A single statistic, or the reason it is undefined."""

    value: float | None = None
    undefined: str | None = None


@dataclass
class ChiSquare:
    chi2: float | None = None
    dof: int | None = None
    p_value: float | None = None
    cramers_v: float | None = None
    n: int = 0
    undefined: str | None = None
    # Bergsma (2013): Cramér's V corrected for its upward bias in finite samples.
    cramers_v_corrected: float | None = None
    # Cochran's (1954) rule: no expected count below 1 and at most 20% below 5.
    expected_min: float | None = None
    expected_below_5: float | None = None  # share of cells, 0..1
    sparse: bool = False  # the rule is broken: the asymptotic p is not to be trusted
    # A Monte-Carlo p over tables with the observed margins, computed when ``sparse``.
    p_monte_carlo: float | None = None
    monte_carlo_resamples: int | None = None
    monte_carlo_seed: int | None = None
    monte_carlo_skipped: str | None = None  # why a sparse table has no Monte-Carlo p
    # Yates's continuity correction exists for 2x2 tables only; it is never applied here.
    yates_applies: bool = False
    yates_applied: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Correlation:
    labels: list = field(default_factory=list)
    r: list = field(default_factory=list)  # square matrix of float | None
    p: list = field(default_factory=list)


def _table(table) -> np.ndarray:
    array = np.asarray(table, dtype=float)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError("An agreement table must be square (the same categories on both axes).")
    return array


def percent_agreement(table) -> Value:
    """The share of paired units on which both coders chose the same category."""
    array = _table(table)
    n = array.sum()
    if n == 0:
        return Value(undefined=NO_UNITS)
    return Value(value=float(np.trace(array) / n))


def cohens_kappa(table) -> Kappa:
    """Cohen's kappa with the asymptotic standard error of Fleiss, Cohen and Everitt (1969)
    and its 95% Wald interval, as statsmodels' ``cohens_kappa`` and R's vcd compute them.

    ``table[i][j]`` counts units that coder A put in category i and coder B in j."""
    array = _table(table)
    n = array.sum()
    if n == 0:
        return Kappa(undefined=NO_UNITS)
    p = array / n
    rows = p.sum(axis=1)
    cols = p.sum(axis=0)
    observed = float(np.trace(p))
    expected = float(rows @ cols)
    if expected >= 1.0 - 1e-12:
        return Kappa(undefined=ONE_CATEGORY)
    if min((rows > 0).sum(), (cols > 0).sum()) < 2:
        return Kappa(undefined=ONE_SIDED)
    kappa = (observed - expected) / (1.0 - expected)
    # Fleiss, Cohen & Everitt (1969), equation 13.
    diagonal = np.diag(p) * (1.0 - (rows + cols) * (1.0 - kappa)) ** 2
    off = p * (cols[:, None] + rows[None, :]) ** 2
    np.fill_diagonal(off, 0.0)
    term_c = (kappa - expected * (1.0 - kappa)) ** 2
    variance = (diagonal.sum() + (1.0 - kappa) ** 2 * off.sum() - term_c) / (
        n * (1.0 - expected) ** 2
    )
    se = float(np.sqrt(max(variance, 0.0)))
    return Kappa(kappa=float(kappa), se=se, ci_low=kappa - Z_95 * se, ci_high=kappa + Z_95 * se)


def gwet_ac1(table) -> Value:
    """Gwet's (2008) AC1 for two coders over the categories that occur in the table."""
    array = _table(table)
    n = array.sum()
    if n == 0:
        return Value(undefined=NO_UNITS)
    used = (array.sum(axis=0) + array.sum(axis=1)) > 0
    array = array[np.ix_(used, used)]
    q = array.shape[0]
    if q < 2:
        return Value(undefined=ONE_CATEGORY)
    p = array / n
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2.0
    expected = float((pi * (1.0 - pi)).sum() / (q - 1))
    observed = float(np.trace(p))
    return Value(value=(observed - expected) / (1.0 - expected))


def one_vs_rest(table, index: int) -> np.ndarray:
    """The 2x2 table of category ``index`` against all the others."""
    array = _table(table)
    both = array[index, index]
    a_only = array[index, :].sum() - both
    b_only = array[:, index].sum() - both
    rest = array.sum() - both - a_only - b_only
    return np.array([[both, a_only], [b_only, rest]])


def disagreement_involvement(table) -> np.ndarray:
    """Per category: how many disagreeing units have it on either side."""
    array = _table(table)
    return array.sum(axis=0) + array.sum(axis=1) - 2 * np.diag(array)


def coincidence_matrix(value_counts) -> np.ndarray:
    """Krippendorff's coincidence matrix from per-unit value counts (units x categories).

    Units with fewer than two values are not pairable and contribute nothing."""
    counts = np.asarray(value_counts, dtype=float)
    if counts.ndim != 2:
        raise ValueError("Value counts must be a units x categories matrix.")
    m = counts.sum(axis=1)
    keep = m >= 2
    counts, m = counts[keep], m[keep]
    if counts.size == 0:
        return np.zeros((counts.shape[1], counts.shape[1]))
    weights = 1.0 / (m - 1.0)
    weighted = counts * weights[:, None]
    return weighted.T @ counts - np.diag(weighted.sum(axis=0))


def pair_coincidence(table) -> np.ndarray:
    """The coincidence matrix of units coded by exactly two coders, from their pair table."""
    array = _table(table)
    return array + array.T


def krippendorff_alpha_nominal(coincidence) -> Value:
    """Krippendorff's alpha for nominal data from a coincidence matrix."""
    o = _table(coincidence)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return Value(undefined=NO_UNITS)
    observed = o.sum() - np.trace(o)
    expected = n * n - (n_c**2).sum()
    if expected <= 0:
        return Value(undefined=ONE_CATEGORY)
    return Value(value=float(1.0 - (n - 1.0) * observed / expected))


def krippendorff_alpha_from_units(value_counts) -> Value:
    """Krippendorff's nominal alpha from per-unit value counts (units x categories)."""
    return krippendorff_alpha_nominal(coincidence_matrix(value_counts))


def fleiss_kappa(value_counts) -> Value:
    """Fleiss' (1971) kappa; every unit must carry the same number of ratings."""
    counts = np.asarray(value_counts, dtype=float)
    if counts.ndim != 2 or counts.shape[0] == 0:
        return Value(undefined=NO_UNITS)
    raters = counts.sum(axis=1)
    if not np.allclose(raters, raters[0]) or raters[0] < 2:
        return Value(undefined="units differ in their number of ratings (or have fewer than 2)")
    r = raters[0]
    units = counts.shape[0]
    p_j = counts.sum(axis=0) / (units * r)
    expected = float((p_j**2).sum())
    if expected >= 1.0 - 1e-12:
        return Value(undefined=ONE_CATEGORY)
    observed = float(((counts * (counts - 1)).sum(axis=1) / (r * (r - 1))).mean())
    return Value(value=(observed - expected) / (1.0 - expected))


def landis_koch(kappa: float | None) -> str | None:
    """The Landis & Koch (1977) band of a kappa value."""
    if kappa is None:
        return None
    if kappa < 0:
        return "poor"
    for upper, band in BANDS[1:]:
        if kappa <= upper + 1e-12:
            return band
    return BANDS[-1][1]


MONTE_CARLO_RESAMPLES = 9999
MONTE_CARLO_MIN_RESAMPLES = 999
MONTE_CARLO_SEED = 1954  # fixed: the same table always gets the same Monte-Carlo p
# Work units (records drawn, or table cells filled) one Monte-Carlo p may take: about a
# second on a development machine. Large sparse tables get fewer resamples (never fewer
# than 999); past 10 budgets the Monte-Carlo p is not computed and says why.
MONTE_CARLO_BUDGET = 20_000_000
TOO_LARGE = "the table is too large for a Monte-Carlo p within the time budget"


def cochran_rule(expected) -> tuple[float, float, bool]:
    """(smallest expected count, share of cells with an expected count below 5, broken).

    Cochran (1954), "Some methods for strengthening the common chi-square tests",
    Biometrics 10: the chi-square approximation is adequate when no expected count is below
    1 and at most 20% of them are below 5."""
    expected = np.asarray(expected, dtype=float)
    smallest = float(expected.min())
    below_5 = float((expected < 5).mean())
    return smallest, below_5, smallest < 1 or below_5 > 0.2


def cramers_v_corrected(chi2: float, n: int, rows: int, cols: int) -> float | None:
    """Bergsma's (2013) bias-corrected Cramér's V ("A bias-correction for Cramér's V and
    Tschuprow's T", Journal of the Korean Statistical Society 42): phi² less its expectation
    under independence, over corrected row and column counts. None when n < 2 or the
    corrected table has a single row or column."""
    if n < 2:
        return None
    phi2 = max(0.0, chi2 / n - (rows - 1) * (cols - 1) / (n - 1))
    r = rows - (rows - 1) ** 2 / (n - 1)
    k = cols - (cols - 1) ** 2 / (n - 1)
    denominator = min(r - 1, k - 1)
    if denominator <= 0:
        return None
    return float(np.sqrt(phi2 / denominator))


def chi_square(table, *, monte_carlo: bool = True) -> ChiSquare:
    """Pearson's chi-square test of independence (no Yates correction) with Cramér's V and
    Bergsma's bias-corrected V; empty rows and columns are dropped first (they carry no
    information and would make expected counts zero).

    When Cochran's rule is broken, a Monte-Carlo p as well (``monte_carlo_p``)."""
    array = np.asarray(table, dtype=float)
    n = int(array.sum()) if array.size else 0
    if n == 0:
        return ChiSquare(n=0, undefined="the table is empty")
    array = array[array.sum(axis=1) > 0][:, array.sum(axis=0) > 0]
    if min(array.shape) < 2:
        return ChiSquare(n=n, undefined="the test needs at least two non-empty rows and columns")
    chi2, p_value, dof, expected = stats.chi2_contingency(array, correction=False)
    rows, cols = array.shape
    v = float(np.sqrt(chi2 / (n * (min(rows, cols) - 1))))
    smallest, below_5, sparse = cochran_rule(expected)
    result = ChiSquare(
        chi2=float(chi2), dof=int(dof), p_value=float(p_value), cramers_v=v, n=n,
        cramers_v_corrected=cramers_v_corrected(float(chi2), n, rows, cols),
        expected_min=smallest, expected_below_5=below_5, sparse=sparse,
        yates_applies=(rows, cols) == (2, 2), yates_applied=False,
    )  # fmt: skip
    if sparse and monte_carlo:
        p_mc, resamples = monte_carlo_p(array.astype(np.int64), float(chi2), expected)
        if p_mc is None:
            result.monte_carlo_skipped = TOO_LARGE
        else:
            result.p_monte_carlo, result.monte_carlo_resamples = p_mc, resamples
            result.monte_carlo_seed = MONTE_CARLO_SEED
    return result


def monte_carlo_p(table: np.ndarray, observed: float, expected: np.ndarray):
    """(p, resamples): the Monte-Carlo p of Pearson's chi-square given the margins.

    Tables with the observed margins are drawn by scipy's ``random_table`` (Boyett 1979 for
    few records, Patefield 1981 for many; the conditional null of Fisher's exact test, as
    R's ``chisq.test(simulate.p.value=TRUE)`` draws it), seeded, and
    p = (b + 1) / (R + 1), b of R tables reaching the observed statistic (Davison & Hinkley
    1997; Phipson & Smyth 2010). R is 9999, or fewer (at least 999) for large tables; (None,
    0) when even 999 would take more than 10 budgets."""
    n, cells = int(table.sum()), table.size
    method = "boyett" if n <= 10 * cells else "patefield"
    # Drawing one table (Boyett: per record; Patefield: per cell) and its statistic (cells).
    work = (n if method == "boyett" else 10 * cells) + 5 * cells
    resamples = int(min(MONTE_CARLO_RESAMPLES, max(MONTE_CARLO_MIN_RESAMPLES,
                                                   MONTE_CARLO_BUDGET // work)))  # fmt: skip
    if work * resamples > 10 * MONTE_CARLO_BUDGET:
        return None, 0
    null = stats.random_table(table.sum(axis=1), table.sum(axis=0))
    rng = np.random.default_rng(MONTE_CARLO_SEED)
    batch = max(1, 2_000_000 // cells)  # bounds memory: batch x cells counts at a time
    tolerance = observed * 1e-12 + 1e-12  # ties count as reaching (scipy's convention)
    hits, drawn = 0, 0
    while drawn < resamples:
        size = min(batch, resamples - drawn)
        tables = null.rvs(size=size, method=method, random_state=rng)
        statistic = ((tables - expected) ** 2 / expected).sum(axis=(1, 2))
        hits += int((statistic >= observed - tolerance).sum())
        drawn += size
    return (hits + 1) / (resamples + 1), resamples


def format_p(p: float | None) -> str:
    """A p-value as papers print it: four decimals, or "< 0.0001" below that (never 0)."""
    if p is None:
        return ""
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}"


def wilson_interval(count: int, n: int) -> tuple[float | None, float | None]:
    """The Wilson (1927) score interval of a share count/n at 95%, as statsmodels'
    ``proportion_confint(method="wilson")`` computes it; (None, None) when n is 0."""
    if n <= 0:
        return None, None
    p = count / n
    z2 = Z_95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z_95 / (1 + z2 / n) * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def distribution_correlation(labels, table) -> Correlation:
    """Pearson's r between the category distributions (row proportions) of each pair of
    groups: ``table`` is groups x categories. A pair with a constant or empty row is None."""
    array = np.asarray(table, dtype=float)
    k = array.shape[0]
    r = [[None] * k for _ in range(k)]
    p = [[None] * k for _ in range(k)]
    totals = array.sum(axis=1) if array.size else np.zeros(k)
    defined = [totals[i] > 0 and array.shape[1] >= 3 and np.ptp(array[i]) > 0 for i in range(k)]
    shares = [array[i] / totals[i] if totals[i] else array[i] for i in range(k)]
    for i in range(k):
        for j in range(k):
            if defined[i] and defined[j]:
                result = stats.pearsonr(shares[i], shares[j])
                r[i][j] = float(np.clip(result.statistic, -1.0, 1.0))
                p[i][j] = float(result.pvalue)
    return Correlation(labels=list(labels), r=r, p=p)


def agreement_summary(table, coincidence=None) -> dict:
    """Every agreement statistic of one pair table: n, percent agreement, Cohen's kappa with
    SE and 95% CI, Krippendorff's alpha, Gwet's AC1 and the Landis-Koch band.

    ``coincidence`` defaults to the two-coder coincidence matrix of ``table``."""
    array = _table(table)
    kappa = cohens_kappa(array)
    alpha = krippendorff_alpha_nominal(
        pair_coincidence(array) if coincidence is None else coincidence
    )
    ac1 = gwet_ac1(array)
    agreement = percent_agreement(array)
    reasons = [r for r in (kappa.undefined, alpha.undefined, ac1.undefined) if r]
    return {
        "n": int(array.sum()),
        "percent_agreement": agreement.value,
        "kappa": kappa.kappa,
        "se": kappa.se,
        "ci_low": kappa.ci_low,
        "ci_high": kappa.ci_high,
        "alpha": alpha.value,
        "ac1": ac1.value,
        "band": landis_koch(kappa.kappa),
        "undefined": reasons[0] if reasons else None,
    }


# --- Agreement of many raters, with item-bootstrap intervals -----------------------------

REPLICATES = 2000
SEED = 0
# Below this many items the percentile bootstrap is unreliable: the interval comes from the
# standard error on Fisher's atanh scale instead, which also stays within (-1, 1).
MIN_BOOTSTRAP_ITEMS = 30
BOOTSTRAP_CI = "bootstrap percentile (2,000 item resamples, seeded)"
# From this many items on, the resample draws each item a Poisson(1) number of times
# (the Poisson bootstrap; Hanley & MacGibbon 2006), which differs from drawing exactly n
# items by a total within a few 1/sqrt(n) and costs a third of the multinomial draw.
POISSON_FROM = 10_000
POISSON_CI = "Poisson bootstrap percentile (2,000 item resamples, seeded)"
POISSON_SE = "Poisson item bootstrap (2,000 resamples, seeded)"
ATANH_CI = "Wald on atanh(kappa), back-transformed"
ASYMPTOTIC_SE = "asymptotic (Fleiss, Cohen & Everitt 1969)"
BOOTSTRAP_SE = "item bootstrap (2,000 resamples, seeded)"
JACKKNIFE_SE = "infinitesimal jackknife over items (Efron 1982)"
NO_INTERVAL = "no confidence interval: a standard error of 0 or none (or kappa at its bound)"
STATISTICS = ("cohen", "fleiss", "light")


def nominal_weights(k: int) -> np.ndarray:
    """Disagreement weights of nominal data: 0 on the diagonal, 1 elsewhere."""
    return 1.0 - np.eye(k)


def linear_weights(k: int) -> np.ndarray:
    """Cohen's (1968) linear disagreement weights |i - j| / (k - 1) for ordered categories
    (statsmodels' ``wt='linear'``, scikit-learn's ``weights='linear'``)."""
    if k < 2:
        return np.zeros((k, k))
    index = np.arange(k)
    return np.abs(index[:, None] - index[None, :]) / (k - 1.0)


def kappas(tables, weights=None) -> np.ndarray:
    """Cohen's (1960) kappa, or weighted kappa (Cohen 1968) with disagreement ``weights``,
    of many tables at once (shape ... x k x k): 1 - observed / expected disagreement. NaN
    where undefined (an empty table, or chance disagreement of zero)."""
    t = np.asarray(tables, dtype=float)
    k = t.shape[-1]
    w = nominal_weights(k) if weights is None else np.asarray(weights, dtype=float)
    n = t.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = t / n[..., None, None]
        observed = np.einsum("...ij,ij->...", p, w)
        expected = np.einsum("...i,...j,ij->...", p.sum(axis=-1), p.sum(axis=-2), w)
        result = 1.0 - observed / expected
    one_sided = np.minimum((p.sum(axis=-1) > 0).sum(axis=-1), (p.sum(axis=-2) > 0).sum(axis=-1))
    return np.where((n > 0) & (expected > 1e-12) & (one_sided >= 2), result, np.nan)


def fleiss_kappas(coincidences) -> np.ndarray:
    """Fleiss' (1971) kappa of many coincidence matrices at once (... x k x k, Krippendorff's
    units x pairs weighting): with every unit carrying the same number of ratings m, the
    matrix's trace over its total is Fleiss' mean pairwise agreement P-bar and its margins
    over the total are his category shares p_j. NaN where undefined."""
    o = np.asarray(coincidences, dtype=float)
    n = o.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.trace(o, axis1=-2, axis2=-1) / n
        shares = o.sum(axis=-1) / n[..., None]
        expected = (shares**2).sum(axis=-1)
        result = (observed - expected) / (1.0 - expected)
    return np.where((n > 0) & (expected < 1.0 - 1e-12), result, np.nan)


def light_kappas(pair_tables, weights=None) -> np.ndarray:
    """Light's (1971) kappa: the mean of the pairwise Cohen's kappas (... x pairs x k x k),
    each over the items its pair shares; pairs whose kappa is undefined are left out."""
    per_pair = kappas(pair_tables, weights)
    defined = ~np.isnan(per_pair)
    count = defined.sum(axis=-1)
    total = np.where(defined, per_pair, 0.0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def kappa_max(table) -> Value:
    """The largest kappa the table's margins allow (Cohen 1960): observed agreement set to
    the sum of the smaller margins."""
    p = _shares(table)
    if p is None:
        return Value(undefined=NO_UNITS)
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    expected = float(rows @ cols)
    if expected >= 1.0 - 1e-12:
        return Value(undefined=ONE_CATEGORY)
    return Value(value=(float(np.minimum(rows, cols).sum()) - expected) / (1.0 - expected))


def pabak(table) -> Value:
    """Prevalence- and bias-adjusted kappa (Byrt, Bishop & Carlin 1993), for k categories
    (k p_o - 1) / (k - 1), which is 2 p_o - 1 for two; k counts the categories in use."""
    p = _shares(table)
    if p is None:
        return Value(undefined=NO_UNITS)
    k = int(((p.sum(axis=0) + p.sum(axis=1)) > 0).sum())
    if k < 2:
        return Value(undefined=ONE_CATEGORY)
    return Value(value=(k * float(np.trace(p)) - 1.0) / (k - 1.0))


def prevalence_bias(table) -> tuple[Value, Value]:
    """Byrt, Bishop & Carlin's (1993) prevalence index (a - d) / n and bias index
    (b - c) / n of a 2 x 2 table (first category = "yes"). For k > 2 categories, their
    magnitudes generalized: prevalence, the largest minus the smallest diagonal share;
    bias, half the summed absolute differences of the two raters' margins (both equal the
    absolute 2 x 2 indices when k = 2)."""
    p = _shares(table)
    if p is None:
        return Value(undefined=NO_UNITS), Value(undefined=NO_UNITS)
    if p.shape[0] == 2:
        return Value(value=float(p[0, 0] - p[1, 1])), Value(value=float(p[0, 1] - p[1, 0]))
    if p.shape[0] < 2:
        return Value(undefined=ONE_CATEGORY), Value(undefined=ONE_CATEGORY)
    diagonal = np.diag(p)
    bias = 0.5 * float(np.abs(p.sum(axis=1) - p.sum(axis=0)).sum())
    return Value(value=float(diagonal.max() - diagonal.min())), Value(value=bias)


def _shares(table) -> np.ndarray | None:
    array = _table(table)
    n = array.sum()
    return array / n if n > 0 else None


def gwet_ac1_coincidence(coincidence) -> Value:
    """Gwet's (2008) AC1 for any number of raters from a coincidence matrix: agreement is
    the matrix's trace over its total, pi_k its margins over the total, over the
    categories in use. Equals ``gwet_ac1`` of the pair table for two raters."""
    o = _table(coincidence)
    n = o.sum()
    if n == 0:
        return Value(undefined=NO_UNITS)
    pi = o.sum(axis=1) / n
    used = pi > 0
    q = int(used.sum())
    if q < 2:
        return Value(undefined=ONE_CATEGORY)
    expected = float((pi[used] * (1.0 - pi[used])).sum() / (q - 1))
    return Value(value=(float(np.trace(o)) / n - expected) / (1.0 - expected))


def unit_coincidence(counts) -> np.ndarray:
    """One unit's contribution to Krippendorff's coincidence matrix from its category counts
    (m values): n_c n_k / (m - 1) off the diagonal, n_c (n_c - 1) / (m - 1) on it."""
    c = np.asarray(counts, dtype=float)
    m = c.sum()
    if m < 2:
        return np.zeros((len(c), len(c)))
    return (np.outer(c, c) - np.diag(c)) / (m - 1.0)


@dataclass
class Ratings:
    """Rated items for one agreement row, as item types: ``weight[t]`` items of type t. A
    type carries its pair cells (rater pair p, A's category i, B's category j, count) and its
    coincidence cells (i, j, value), as coordinate lists over types; ``k`` categories,
    ``pairs`` rater pairs. Resampling items is resampling types by their weights."""

    k: int
    pairs: int
    weight: np.ndarray
    pair_cells: tuple  # (type, pair, i, j, count) arrays
    coincidence_cells: tuple  # (type, i, j, value) arrays
    constant_m: bool = True
    # Gwet's (2014) weighting for AC1: each unit's coincidences over its m values, so that
    # every unit counts once (Krippendorff's weighting counts a unit m times). None: the
    # coincidence cells over 2 (every unit has two values).
    gwet_cells: tuple | None = None

    @property
    def items(self) -> int:
        return int(self.weight.sum())

    def pair_matrix(self):
        from scipy import sparse

        t, p, i, j, v = self.pair_cells
        column = (np.asarray(p) * self.k + np.asarray(i)) * self.k + np.asarray(j)
        shape = (len(self.weight), self.pairs * self.k * self.k)
        return sparse.csr_matrix((np.asarray(v, float), (np.asarray(t), column)), shape=shape)

    def coincidence_matrix(self):
        from scipy import sparse

        t, i, j, v = self.coincidence_cells
        column = np.asarray(i) * self.k + np.asarray(j)
        shape = (len(self.weight), self.k * self.k)
        return sparse.csr_matrix((np.asarray(v, float), (np.asarray(t), column)), shape=shape)

    def pair_tables(self, weights=None) -> np.ndarray:
        """pairs x k x k (for ``weights`` per type, R x pairs x k x k)."""
        w = self.weight if weights is None else weights
        flat = (self.pair_matrix().T @ np.asarray(w, float).T).T
        return flat.reshape(*np.shape(w)[:-1], self.pairs, self.k, self.k)

    def coincidence(self, weights=None) -> np.ndarray:
        w = self.weight if weights is None else weights
        flat = (self.coincidence_matrix().T @ np.asarray(w, float).T).T
        return flat.reshape(*np.shape(w)[:-1], self.k, self.k)

    def gwet_coincidence(self) -> np.ndarray:
        """Sum over units of each unit's coincidences divided by its m: the trace over the
        total is Gwet's mean per-unit agreement, the margins his per-unit shares pi_k."""
        if self.gwet_cells is None:
            return self.coincidence() / 2.0
        from scipy import sparse

        t, i, j, v = self.gwet_cells
        shape = (len(self.weight), self.k * self.k)
        matrix = sparse.csr_matrix((np.asarray(v, float), (np.asarray(t), np.asarray(i) * self.k
                                    + np.asarray(j))), shape=shape)  # fmt: skip
        return (matrix.T @ np.asarray(self.weight, float)).reshape(self.k, self.k)


def kappa_statistic(raters: int, constant_m: bool, weighted: bool = False) -> str:
    """Cohen's kappa for two raters; for more, Fleiss' kappa when every item carries the
    same number of ratings (as Fleiss 1971 requires) and the categories are nominal,
    Light's kappa (of weighted pairwise kappas, when weighted) otherwise."""
    if raters <= 2:
        return "cohen"
    return "fleiss" if constant_m and not weighted else "light"


def _statistic(ratings: Ratings, statistic: str, weights, w=None) -> np.ndarray:
    if statistic == "fleiss":
        return fleiss_kappas(ratings.coincidence(w))
    tables = ratings.pair_tables(w)
    if statistic == "cohen":
        return kappas(tables.sum(axis=-3), weights)
    return light_kappas(tables, weights)


def _row_groups(matrix) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a sparse matrix grouped by content: (group of each row, first row of each)."""
    csr = matrix.tocsr()
    csr.sum_duplicates()
    csr.sort_indices()
    groups: dict = {}
    inverse = np.empty(csr.shape[0], dtype=np.int64)
    for r in range(csr.shape[0]):
        s, e = csr.indptr[r], csr.indptr[r + 1]
        key = (csr.indices[s:e].tobytes(), csr.data[s:e].tobytes())
        inverse[r] = groups.setdefault(key, len(groups))
    first = np.zeros(len(groups), dtype=np.int64)
    first[inverse[::-1]] = np.arange(csr.shape[0])[::-1]
    return inverse, first


def bootstrap(ratings: Ratings, statistic: str, weights=None, *, replicates=REPLICATES,
              seed=SEED) -> np.ndarray:  # fmt: skip
    """The statistic over ``replicates`` item resamples (Efron & Tibshirani 1993): each
    draws as many items as there are, with replacement, so the counts of item types are
    multinomial with their shares of the items; from POISSON_FROM items on, Poisson (each
    item drawn a Poisson(1) number of times). Types that contribute alike to the statistic
    (the same coincidences for Fleiss' kappa, the same pair cells otherwise) are one type
    for the draw, which is the same distribution, drawn faster. Seeded, so a report is
    reproducible. NaN where undefined."""
    n = ratings.items
    rows, shares, shape = _collapsed(ratings, statistic)
    rng = np.random.default_rng(seed)
    if n >= POISSON_FROM:
        draws = rng.poisson(n * shares, size=(replicates, len(shares)))
    else:
        draws = rng.multinomial(n, shares, size=replicates)
    return _evaluate(rows, draws, shape, statistic, weights)


def _collapsed(ratings: Ratings, statistic: str):
    """(the distinct types' rows, their shares of the items, the table shape)."""
    fleiss = statistic == "fleiss"
    matrix = ratings.coincidence_matrix() if fleiss else ratings.pair_matrix()
    inverse, first = _row_groups(matrix)
    shares = np.bincount(inverse, weights=ratings.weight, minlength=len(first))
    shape = (ratings.k, ratings.k) if fleiss else (ratings.pairs, ratings.k, ratings.k)
    return matrix.tocsr()[first], shares / ratings.items, shape


def _evaluate(rows, weights_per_row, shape, statistic, weights) -> np.ndarray:
    """The statistic for each row of type weights, in chunks (a chunk's tables take
    chunk x pairs x k x k floats)."""
    count = len(weights_per_row)
    chunk = max(1, min(count, 2**24 // max(1, int(np.prod(shape)))))
    result = []
    for start in range(0, count, chunk):
        part = np.asarray(weights_per_row[start : start + chunk], dtype=float)
        flat = np.asarray((rows.T @ part.T).T).reshape(len(part), *shape)
        if statistic == "fleiss":
            result.append(fleiss_kappas(flat))
        elif statistic == "cohen":
            result.append(kappas(flat.sum(axis=1), weights))
        else:
            result.append(light_kappas(flat, weights))
    return np.concatenate(result) if result else np.array([])


def jackknife_se(ratings: Ratings, statistic: str, weights=None, eps=1e-6) -> float | None:
    """The infinitesimal-jackknife (delta-method) standard error over items (Efron 1982):
    sqrt(sum_t p_t U_t^2 / n), U_t the statistic's derivative towards item type t. What the
    item bootstrap estimates, without its draws: for the many small breakdown rows."""
    rows, shares, shape = _collapsed(ratings, statistic)
    base = _evaluate(rows, shares[None, :], shape, statistic, weights)[0]
    if np.isnan(base) or len(shares) < 2:
        return None
    moved = (1.0 - eps) * shares[None, :] + eps * np.eye(len(shares))
    influence = (_evaluate(rows, moved, shape, statistic, weights) - base) / eps
    if np.isnan(influence).any():
        return None
    return float(np.sqrt((shares * influence**2).sum() / ratings.items))


def _atanh_interval(kappa: float, se: float) -> tuple[float, float] | None:
    if se is None or se <= 0 or abs(kappa) >= 1.0:
        return None
    z = np.arctanh(kappa)
    half = Z_95 * se / (1.0 - kappa**2)  # delta method: d atanh(k) / dk = 1 / (1 - k^2)
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def agreement_row(
    ratings: Ratings, *, raters: int, weights=None, weighting="nominal", bootstrap_ci=True
) -> dict:
    """Every statistic of one agreement row (see README, Analysis): n items, percent
    agreement, kappa by name (Cohen, Fleiss or Light) with SE and 95% CI, Krippendorff's
    alpha, Gwet's AC1, PABAK, kappa_max, the prevalence and bias indices. Undefined
    statistics are None, with the first reason in ``undefined``."""
    statistic = kappa_statistic(raters, ratings.constant_m, weighted=weights is not None)
    n = ratings.items
    row = {"n": n, "kappa_statistic": statistic, "weighting": weighting}
    empty = dict.fromkeys(
        ("percent_agreement", "kappa", "se", "se_method", "ci_low", "ci_high", "ci_method",
         "alpha", "ac1", "pabak", "kappa_max", "prevalence_index", "bias_index", "band"),
    )  # fmt: skip
    row.update(empty)
    if n == 0:
        return {**row, "undefined": NO_UNITS}
    pooled = ratings.pair_tables().sum(axis=0)
    o = ratings.coincidence()
    reasons = []
    total = o.sum()
    row["percent_agreement"] = float(np.trace(o) / total) if total else None
    kappa = float(_statistic(ratings, statistic, weights))
    if np.isnan(kappa):
        used = int((o.sum(axis=1) > 0).sum())
        reasons.append(NO_UNITS if not total else ONE_CATEGORY if used < 2 else ONE_SIDED)
    else:
        row["kappa"] = kappa
        row["band"] = landis_koch(kappa)
        _interval(row, ratings, statistic, weights, pooled, reasons, bootstrap_ci)
    for name, value in (("alpha", krippendorff_alpha_nominal(o)),
                        ("ac1", gwet_ac1_coincidence(ratings.gwet_coincidence())),
                        ("pabak", pabak(pooled)),
                        ("kappa_max", kappa_max(pooled))):  # fmt: skip
        row[name] = value.value
        if value.undefined:
            reasons.append(value.undefined)
    prevalence, bias = prevalence_bias(pooled)
    row["prevalence_index"], row["bias_index"] = prevalence.value, bias.value
    row["undefined"] = reasons[0] if reasons else None
    return row


def _interval(row, ratings, statistic, weights, pooled, reasons, bootstrap_ci) -> None:
    kappa, n = row["kappa"], ratings.items
    # The asymptotic SE treats every unit as independent: right when each item is one unit,
    # too small when items carry several records (one item's records are rated together),
    # so those rows take an item-level SE, as their resampling does.
    asymptotic = statistic == "cohen" and weights is None and pooled.sum() <= n
    if not bootstrap_ci:
        if asymptotic:
            row["se"], row["se_method"] = cohens_kappa(pooled).se, ASYMPTOTIC_SE
        else:
            row["se"], row["se_method"] = jackknife_se(ratings, statistic, weights), JACKKNIFE_SE
        interval = _atanh_interval(kappa, row["se"]) if row["se"] is not None else None
        if interval is None:
            reasons.append(NO_INTERVAL)
            return
        (row["ci_low"], row["ci_high"]), row["ci_method"] = interval, ATANH_CI
        return
    if asymptotic:
        row["se"], row["se_method"] = cohens_kappa(pooled).se, ASYMPTOTIC_SE
        replicates = bootstrap(ratings, statistic, weights) if n >= MIN_BOOTSTRAP_ITEMS else None
    else:
        replicates = bootstrap(ratings, statistic, weights)
        defined = replicates[~np.isnan(replicates)]
        row["se"] = float(defined.std(ddof=1)) if len(defined) > 1 else None
        row["se_method"] = POISSON_SE if n >= POISSON_FROM else BOOTSTRAP_SE
    if replicates is not None and n >= MIN_BOOTSTRAP_ITEMS:
        defined = replicates[~np.isnan(replicates)]
        # Every resample at one value (perfect agreement) is no interval: [1, 1] would claim
        # certainty the items cannot give; the atanh fallback below says why instead.
        if len(defined) >= 0.95 * len(replicates) and np.ptp(defined) > 0:
            low, high = np.percentile(defined, [2.5, 97.5])
            row["ci_low"], row["ci_high"] = float(low), float(high)
            row["ci_method"] = POISSON_CI if n >= POISSON_FROM else BOOTSTRAP_CI
            return
    interval = _atanh_interval(kappa, row["se"]) if row["se"] is not None else None
    if interval is None:
        reasons.append(NO_INTERVAL)
        return
    row["ci_low"], row["ci_high"] = interval
    row["ci_method"] = ATANH_CI
