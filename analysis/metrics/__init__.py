"""Agreement and association statistics over aggregate tables. Django-free: numpy + scipy.

Every function takes counts (a contingency table, per-unit value counts, a coincidence
matrix), never raw label rows, so the database does the counting. A statistic that is not
defined for its input (no units, a single category) comes back as ``None`` with a reason
in ``undefined``: never NaN, never an exception.

The modules, by the story they tell: ``common`` (what every statistic shares), ``kappa``
(kappa-type agreement), ``alpha`` (Krippendorff's alpha), ``association`` (chi-square and
correlation of distributions), ``ratings`` (the rated items of a row), ``intervals``
(standard errors and intervals) and ``rows`` (every statistic of one agreement row). Their
public names are re-exported here: ``from analysis import metrics; metrics.cohens_kappa``.
"""

from .alpha import (
    coincidence_matrix,
    krippendorff_alpha_from_units,
    krippendorff_alpha_nominal,
    pair_coincidence,
    unit_coincidence,
)
from .association import (
    MONTE_CARLO_BUDGET,
    MONTE_CARLO_MIN_RESAMPLES,
    MONTE_CARLO_RESAMPLES,
    MONTE_CARLO_SEED,
    TOO_LARGE,
    ChiSquare,
    Correlation,
    chi_square,
    cochran_rule,
    cramers_v_corrected,
    distribution_correlation,
    format_p,
    monte_carlo_p,
)
from .common import (
    NO_UNITS,
    ONE_CATEGORY,
    ONE_SIDED,
    Z_95,
    Value,
)
from .intervals import (
    ASYMPTOTIC_SE,
    ATANH_CI,
    BOOTSTRAP_CI,
    BOOTSTRAP_SE,
    JACKKNIFE_SE,
    MIN_BOOTSTRAP_ITEMS,
    NO_INTERVAL,
    POISSON_CI,
    POISSON_FROM,
    POISSON_SE,
    REPLICATES,
    SEED,
    bootstrap,
    jackknife_se,
    wilson_interval,
)
from .kappa import (
    BANDS,
    Kappa,
    cohens_kappa,
    disagreement_involvement,
    fleiss_kappa,
    fleiss_kappas,
    gwet_ac1,
    gwet_ac1_coincidence,
    kappa_max,
    kappas,
    landis_koch,
    light_kappas,
    linear_weights,
    nominal_weights,
    one_vs_rest,
    pabak,
    percent_agreement,
    prevalence_bias,
)
from .ratings import (
    STATISTICS,
    Ratings,
    kappa_statistic,
)
from .rows import (
    agreement_row,
    agreement_summary,
)

__all__ = [
    "ASYMPTOTIC_SE",
    "ATANH_CI",
    "BANDS",
    "BOOTSTRAP_CI",
    "BOOTSTRAP_SE",
    "ChiSquare",
    "Correlation",
    "JACKKNIFE_SE",
    "Kappa",
    "MIN_BOOTSTRAP_ITEMS",
    "MONTE_CARLO_BUDGET",
    "MONTE_CARLO_MIN_RESAMPLES",
    "MONTE_CARLO_RESAMPLES",
    "MONTE_CARLO_SEED",
    "NO_INTERVAL",
    "NO_UNITS",
    "ONE_CATEGORY",
    "ONE_SIDED",
    "POISSON_CI",
    "POISSON_FROM",
    "POISSON_SE",
    "REPLICATES",
    "Ratings",
    "SEED",
    "STATISTICS",
    "TOO_LARGE",
    "Value",
    "Z_95",
    "agreement_row",
    "agreement_summary",
    "bootstrap",
    "chi_square",
    "cochran_rule",
    "cohens_kappa",
    "coincidence_matrix",
    "cramers_v_corrected",
    "disagreement_involvement",
    "distribution_correlation",
    "fleiss_kappa",
    "fleiss_kappas",
    "format_p",
    "gwet_ac1",
    "gwet_ac1_coincidence",
    "jackknife_se",
    "kappa_max",
    "kappa_statistic",
    "kappas",
    "krippendorff_alpha_from_units",
    "krippendorff_alpha_nominal",
    "landis_koch",
    "light_kappas",
    "linear_weights",
    "monte_carlo_p",
    "nominal_weights",
    "one_vs_rest",
    "pabak",
    "pair_coincidence",
    "percent_agreement",
    "prevalence_bias",
    "unit_coincidence",
    "wilson_interval",
]
