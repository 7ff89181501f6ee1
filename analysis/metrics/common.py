"""What every statistic of the package shares: the reasons a statistic is undefined, the
``Value`` that carries a figure or its reason, and the checks of an agreement table."""

from dataclasses import dataclass

import numpy as np
from scipy import stats

Z_95 = float(stats.norm.ppf(0.975))

NO_UNITS = "no paired units"
ONE_CATEGORY = "only one category was used, so chance agreement is total"
# Cohen's kappa when one coder's margin is a single category: chance agreement equals
# observed agreement whatever the other coder does, so kappa (and kappa_max) is 0 by
# construction, with a standard error of 0: no measure of agreement at all.
ONE_SIDED = "one annotator used a single category, so kappa is 0 whatever the agreement"


@dataclass
class Value:
    """A single statistic, or the reason it is undefined."""

    value: float | None = None
    undefined: str | None = None


def _table(table) -> np.ndarray:
    array = np.asarray(table, dtype=float)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError("An agreement table must be square (the same categories on both axes).")
    return array


def _shares(table) -> np.ndarray | None:
    array = _table(table)
    n = array.sum()
    return array / n if n > 0 else None
