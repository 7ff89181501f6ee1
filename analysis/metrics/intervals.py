"""Standard errors and 95% intervals: Wilson's for a share, and for an agreement row's
kappa the item bootstrap, the infinitesimal jackknife and the Wald interval on atanh."""

import numpy as np

from .common import Z_95
from .kappa import fleiss_kappas, kappas, light_kappas
from .ratings import Ratings


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
