"""The rated items of one agreement row (as weighted item types, so that resampling items
is resampling types) and the kappa that fits their raters."""

from dataclasses import dataclass

import numpy as np

STATISTICS = ("cohen", "fleiss", "light")


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
