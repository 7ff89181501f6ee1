"""Association of two categorical variables: Pearson's chi-square with Cramér's V, its
bias correction and Cochran's rule, a Monte-Carlo p for sparse tables, p-values as papers
print them, and the correlation of groups' category distributions."""

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats


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
