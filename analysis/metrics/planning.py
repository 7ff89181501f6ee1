"""How many items to double-code: sample sizes for Cohen's kappa of two coders, from the
asymptotic variance of Fleiss, Cohen & Everitt (1969), checked by a seeded simulation, and
the goodness-of-fit sample size of Donner & Eliasziw (1992) for a test of kappa.

The expected agreement table under a kappa and category prevalences is the usual model of
these references (Donner & Eliasziw 1992 for two categories; its K-category form in Flack,
Afifi & Lachenbruch 1988): both coders share the margins ``p``, and
``P[i][j] = (1 - kappa) p_i p_j`` off the diagonal, ``P[i][i] = (1 - kappa) p_i^2 +
kappa p_i``. Read as a process, an item is coded alike from one draw of ``p`` with
probability ``kappa`` and from two independent draws otherwise, which is what the
simulation does. Django-free."""

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import optimize, stats

from .kappa import cohens_kappa

PLANNER_SEED = 0
PLANNER_REPLICATES = 2000
# The share of the single-coded items to double-code afterwards as an audit once the
# interval is narrow enough (O'Connor & Joffe 2020 report 10-25% as common practice; we
# take the low end and let the reader see the number it gives).
AUDIT_SHARE = 0.10
# Narrower targets ask for more items than any study holds (and overflow the arithmetic).
MIN_HALF_WIDTH = 0.001
# The smallest category share the plan accepts. Below it the variance of the expected
# table cancels in floating point (a share of 1e-9 at kappa 0 gave SE1 = 0, a plan of 2
# items, where the closed form says 385), and no study double-codes the millions of items
# such a code would need anyway.
MIN_SHARE = 1e-5
# The simulation draws every item of every replicate; past this it is skipped.
MAX_SIMULATED_ITEMS = 20_000


class PlanError(ValueError):
    """Inputs the plan cannot use; the message names the input."""


def _z(confidence: float) -> float:
    if not 0.5 <= confidence < 1.0:
        raise PlanError("confidence must be at least 0.5 and below 1.")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def prevalence_vector(prevalences) -> np.ndarray:
    """The prevalences as shares that sum to 1 (counts are normalised); at least two
    positive ones."""
    try:
        p = np.asarray([float(v) for v in prevalences], dtype=float)
    except (TypeError, ValueError) as error:
        raise PlanError("prevalences must be numbers.") from error
    if p.ndim != 1 or not np.all(np.isfinite(p)) or np.any(p < 0):
        raise PlanError("prevalences must be non-negative numbers.")
    p = p[p > 0]
    if p.size < 2:
        raise PlanError("prevalences need at least two categories with a positive share.")
    p = p / p.max()  # huge counts must not overflow the sum
    p = p / p.sum()
    if p.min() < MIN_SHARE:
        raise PlanError(
            f"prevalences: each category's share must be at least {MIN_SHARE:g} "
            f"(one is {p.min():.3g}); leave out a category that rare."
        )
    return p


def _positions(prevalences) -> list[int]:
    """The positions of the positive prevalences in the caller's list."""
    return [i for i, v in enumerate(prevalences) if float(v) > 0]


def expected_table(kappa: float, prevalences) -> np.ndarray:
    """The joint distribution of two coders' categories (shares summing to 1) with common
    margins ``prevalences`` and Cohen's kappa ``kappa`` (0 <= kappa < 1)."""
    if not (isinstance(kappa, int | float) and math.isfinite(kappa)) or not 0 <= kappa < 1:
        raise PlanError("expected kappa must be at least 0 and below 1.")
    p = prevalence_vector(prevalences)
    table = (1.0 - kappa) * np.outer(p, p)
    table[np.diag_indices_from(table)] += kappa * p
    return table


def unit_se(kappa: float, prevalences) -> float:
    """The standard error of kappa for one item: Fleiss, Cohen & Everitt's (1969) asymptotic
    variance is this squared over n (the same formula as ``cohens_kappa``'s, applied to the
    expected table with n = 1)."""
    se = cohens_kappa(expected_table(kappa, prevalences)).se
    if se is None or not math.isfinite(se) or se <= 0:
        raise PlanError("prevalences and kappa give no usable variance; check the prevalences.")
    return float(se)


def items_for_half_width(kappa: float, prevalences, half_width: float,
                         confidence: float = 0.95) -> int:  # fmt: skip
    """The smallest n whose Wald interval z * se / sqrt(n) is at most ``half_width``."""
    if not (isinstance(half_width, int | float) and MIN_HALF_WIDTH <= half_width <= 1):
        raise PlanError(f"target half-width must be at least {MIN_HALF_WIDTH} and at most 1.")
    z = _z(confidence)
    return max(2, math.ceil((z * unit_se(kappa, prevalences) / half_width) ** 2 - 1e-9))


def half_width_for_items(kappa: float, prevalences, n: int, confidence: float = 0.95) -> float:
    """The expected half-width of the interval with ``n`` double-coded items."""
    if n < 1:
        raise PlanError("the number of items must be at least 1.")
    return _z(confidence) * unit_se(kappa, prevalences) / math.sqrt(n)


@dataclass
class CategoryPlan:
    """The items needed for the kappa of one category against the rest."""

    index: int
    prevalence: float
    items: int
    reachable: bool | None = None  # within the study's size; None when no size is given


@dataclass
class Plan:
    kappa: float
    prevalences: list[float]
    half_width: float
    confidence: float
    items: int
    unit_se: float
    categories: list[CategoryPlan] = field(default_factory=list)
    study_size: int | None = None
    reachable: bool | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def plan_double_coding(*, kappa: float, prevalences, half_width: float,
                       confidence: float = 0.95, study_size: int | None = None,
                       category_kappas=None) -> Plan:  # fmt: skip
    """The items to double-code for the overall kappa and for each category's kappa against
    the rest (a category of prevalence p is a two-category table (p, 1 - p); its expected
    kappa is ``category_kappas[i]`` or the overall one), each marked reachable or not within
    ``study_size`` items. Categories of prevalence 0 are left out; ``index`` is a
    category's position in ``prevalences``."""
    p = prevalence_vector(prevalences)
    n = items_for_half_width(kappa, p, half_width, confidence)
    if study_size is not None and study_size < 0:
        raise PlanError("study size must not be negative.")
    categories = []
    for index, share in zip(_positions(prevalences), p, strict=True):
        k = kappa if category_kappas is None else float(category_kappas[index])
        needed = items_for_half_width(k, [share, 1.0 - share], half_width, confidence)
        reach = None if study_size is None else needed <= study_size
        categories.append(CategoryPlan(index, float(share), needed, reach))
    return Plan(
        kappa=float(kappa), prevalences=[float(v) for v in p], half_width=float(half_width),
        confidence=float(confidence), items=n, unit_se=unit_se(kappa, p),
        categories=categories, study_size=study_size,
        reachable=None if study_size is None else n <= study_size,
    )  # fmt: skip


@dataclass
class Simulation:
    items: int
    replicates: int
    seed: int
    mean_kappa: float
    sd_kappa: float
    half_width: float  # z times the simulated standard deviation
    coverage: float  # share of Wald intervals (asymptotic se) that hold the true kappa
    undefined: int  # replicates where kappa was undefined (one category only)

    def as_dict(self) -> dict:
        return asdict(self)


def simulate(*, kappa: float, prevalences, items: int, replicates: int = PLANNER_REPLICATES,
             seed: int = PLANNER_SEED, confidence: float = 0.95) -> Simulation:  # fmt: skip
    """Draw ``replicates`` studies of ``items`` double-coded items from the model above and
    report the spread of Cohen's kappa and the coverage of its asymptotic interval."""
    p = prevalence_vector(prevalences)
    expected_table(kappa, p)  # validates kappa
    if items < 2 or replicates < 10:
        raise PlanError("a simulation needs at least 2 items and 10 replicates.")
    if items > MAX_SIMULATED_ITEMS:
        raise PlanError(f"the simulation stops at {MAX_SIMULATED_ITEMS} items.")
    z = _z(confidence)
    rng = np.random.default_rng(seed)
    k = p.size
    values, covered, undefined = [], 0, 0
    for _ in range(replicates):
        alike = rng.random(items) < kappa
        first = rng.choice(k, size=items, p=p)
        second = np.where(alike, first, rng.choice(k, size=items, p=p))
        table = np.zeros((k, k))
        np.add.at(table, (first, second), 1)
        result = cohens_kappa(table)
        if result.kappa is None:
            undefined += 1
            continue
        values.append(result.kappa)
        covered += abs(result.kappa - kappa) <= z * result.se
    array = np.asarray(values)
    sd = float(array.std(ddof=1)) if array.size > 1 else 0.0
    return Simulation(
        items=items, replicates=replicates, seed=seed, mean_kappa=float(array.mean()),
        sd_kappa=sd, half_width=z * sd, coverage=covered / max(array.size, 1),
        undefined=undefined,
    )  # fmt: skip


def _binary_outcomes(kappa: float, prevalence: float) -> np.ndarray:
    """The three outcomes of an item rated by two coders on a binary category (both
    positive, one, none) under kappa and a common prevalence: pi^2 + k pi(1-pi),
    2 pi(1-pi)(1-k), (1-pi)^2 + k pi(1-pi) (Donner & Eliasziw 1992, section 2)."""
    q = prevalence * (1 - prevalence)
    return np.array(
        [prevalence**2 + kappa * q, 2 * q * (1 - kappa), (1 - prevalence) ** 2 + kappa * q]
    )


def _chi_square_distance(observed: float, hypothesised: float, prevalence: float) -> float:
    """Sum over the three outcomes of (P(observed) - P(hypothesised))^2 / P(hypothesised):
    the goodness-of-fit chi-square of one item whose outcomes follow ``observed`` against
    the model of ``hypothesised``."""
    null = _binary_outcomes(hypothesised, prevalence)
    alternative = _binary_outcomes(observed, prevalence)
    if np.any(null <= 0):
        raise PlanError("the kappa and prevalence give an outcome of probability 0.")
    return float(((alternative - null) ** 2 / null).sum())


def _check_binary(prevalence: float, alpha: float, *, most: float = 0.5) -> None:
    """A prevalence in (0, 1) and an alpha in (0, most): an interval's one bound takes
    the chi-square quantile 1 - 2 alpha, so it needs alpha below 0.5; a test any alpha."""
    if not (isinstance(prevalence, int | float) and 0 < prevalence < 1):
        raise PlanError("prevalence must be between 0 and 1.")
    if not (isinstance(alpha, int | float) and 0 < alpha < most):
        raise PlanError(f"alpha must lie between 0 and {most:g}.")


def donner_eliasziw_items(
    *, kappa0: float, kappa1: float, prevalence: float, alpha: float = 0.05,
    power: float = 0.8, tails: int = 2,
) -> int:  # fmt: skip
    """Items for testing H0: kappa = kappa0 against kappa1 with two coders and two
    categories, by the goodness-of-fit approach of Donner & Eliasziw (1992, Stat Med
    11:1511-1519, section 4): n = (z_alpha + z_beta)^2 over the chi-square distance of the
    outcomes under kappa1 from those under kappa0. Sim & Wright (2005, Phys Ther
    85:257-268) tabulate it; kappaSize's PowerBinary computes it."""
    if tails not in (1, 2):
        raise PlanError("tails must be 1 or 2.")
    _check_binary(prevalence, alpha, most=1.0)
    if not (0 <= kappa0 < 1 and 0 <= kappa1 < 1) or kappa0 == kappa1:
        raise PlanError("kappa0 and kappa1 must differ and lie in [0, 1).")
    if not 0 < power < 1:
        raise PlanError("power must lie between 0 and 1.")
    distance = _chi_square_distance(kappa1, kappa0, prevalence)
    z = stats.norm.ppf(1 - alpha / tails) + stats.norm.ppf(power)
    return math.ceil(z * z / distance - 1e-9)


def _interval_critical(alpha: float, two_sided: bool) -> float:
    """The chi-square (1 df) bound of the goodness-of-fit interval: 1 - alpha for a
    two-sided interval, 1 - 2 alpha for one bound alone (as Donner & Rotondi 2010 and
    kappaSize's CIBinary and FixedNBinary take it)."""
    return float(stats.chi2.ppf(1 - alpha if two_sided else 1 - 2 * alpha, 1))


def donner_rotondi_items(
    *, kappa0: float, kappa_low: float, kappa_high: float | None = None,
    prevalence: float, alpha: float = 0.05,
) -> int:  # fmt: skip
    """Items for the goodness-of-fit confidence interval of Donner & Eliasziw (1992) around
    an anticipated kappa0 to be expected to reach down to ``kappa_low`` (and up to
    ``kappa_high`` when given: two-sided), two coders, two categories: the interval holds
    every kappa whose chi-square distance from the outcomes under kappa0, times n, stays
    below the critical value, so n = critical / distance at each bound, the larger one
    kept (Donner & Rotondi 2010, Int J Biostat 6(1):31; kappaSize's CIBinary)."""
    _check_binary(prevalence, alpha)
    if not (isinstance(kappa0, int | float) and 0 < kappa0 < 1):
        raise PlanError("kappa0 must lie between 0 and 1.")
    if not (isinstance(kappa_low, int | float) and -1 < kappa_low < kappa0):
        raise PlanError("the lower bound must lie below kappa0 (and above -1).")
    if kappa_high is not None and not (
        isinstance(kappa_high, int | float) and kappa0 < kappa_high < 1
    ):
        raise PlanError("the upper bound must lie above kappa0 and below 1.")
    critical = _interval_critical(alpha, two_sided=kappa_high is not None)
    bounds = [kappa_low] + ([kappa_high] if kappa_high is not None else [])
    needed = max(critical / _chi_square_distance(kappa0, bound, prevalence) for bound in bounds)
    return math.ceil(needed - 1e-9)


def donner_rotondi_lower_limit(*, kappa0: float, items: int, prevalence: float,
                               alpha: float = 0.05) -> float:  # fmt: skip
    """The expected lower limit of the one-sided goodness-of-fit interval with ``items``
    double-coded items around an anticipated kappa0 (the inverse of
    ``donner_rotondi_items`` with no upper bound; kappaSize's FixedNBinary)."""
    _check_binary(prevalence, alpha)
    if not (isinstance(kappa0, int | float) and 0 < kappa0 < 1):
        raise PlanError("kappa0 must lie between 0 and 1.")
    if not (isinstance(items, int) and items >= 2):
        raise PlanError("the number of items must be at least 2.")
    critical = _interval_critical(alpha, two_sided=False)
    # the smallest kappa the outcomes still allow: P(both positive) and P(none) stay positive
    floor = -min(prevalence, 1 - prevalence) / max(prevalence, 1 - prevalence) + 1e-12

    def excess(bound: float) -> float:
        return items * _chi_square_distance(kappa0, bound, prevalence) - critical

    if excess(floor) <= 0:
        return floor
    return float(optimize.brentq(excess, floor, kappa0, xtol=1e-10))


@dataclass
class Gauge:
    """The current interval against the target: may double-coding stop?"""

    half_width: float | None
    target: float
    items: int
    may_stop: bool
    more_items: int | None  # rough: scaled from the current half-width as 1/sqrt(n)
    single_coded: int
    audit_items: int

    def as_dict(self) -> dict:
        return asdict(self)


def gauge(*, ci_low, ci_high, items: int, target: float, single_coded: int = 0,
          audit_share: float = AUDIT_SHARE) -> Gauge:  # fmt: skip
    """Compare the current interval (``ci_low``, ``ci_high``, over ``items`` double-coded
    items) with the target half-width; once it is met, ``audit_share`` of the
    ``single_coded`` items is the audit to double-code afterwards."""
    if ci_low is None or ci_high is None or items < 1:
        return Gauge(None, target, items, False, None, single_coded, 0)
    half = (float(ci_high) - float(ci_low)) / 2.0
    may_stop = half <= target + 1e-12
    more = 0 if may_stop else max(1, math.ceil(items * (half / target) ** 2 - 1e-9) - items)
    audit = math.ceil(audit_share * single_coded) if may_stop else 0
    return Gauge(half, target, items, may_stop, more, single_coded, audit)
