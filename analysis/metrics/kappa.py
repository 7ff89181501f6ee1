"""Kappa-type agreement of coders over categorical labels: Cohen's, Fleiss', Light's
(vectorized over many tables at once, for the bootstrap), Gwet's AC1, PABAK, kappa_max,
the prevalence and bias indices, and the Landis & Koch bands."""

from dataclasses import asdict, dataclass

import numpy as np

from .common import NO_UNITS, ONE_CATEGORY, ONE_SIDED, Z_95, Value, _shares, _table

# Landis & Koch (1977): upper bounds of the bands of kappa.
BANDS = [
    (0.0, "poor"),
    (0.20, "slight"),
    (0.40, "fair"),
    (0.60, "moderate"),
    (0.80, "substantial"),
    (1.0, "almost perfect"),
]


@dataclass
class Kappa:
    kappa: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    undefined: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


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
