"""Krippendorff's alpha for nominal data, over coincidence matrices: built from per-unit
value counts, from a two-coder pair table, or one unit at a time."""

import numpy as np

from .common import NO_UNITS, ONE_CATEGORY, Value, _table


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


def unit_coincidence(counts) -> np.ndarray:
    """One unit's contribution to Krippendorff's coincidence matrix from its category counts
    (m values): n_c n_k / (m - 1) off the diagonal, n_c (n_c - 1) / (m - 1) on it."""
    c = np.asarray(counts, dtype=float)
    m = c.sum()
    if m < 2:
        return np.zeros((len(c), len(c)))
    return (np.outer(c, c) - np.diag(c)) / (m - 1.0)
