"""Every statistic of one agreement row: of a two-coder pair table (``agreement_summary``)
or of many raters' rated items, with the standard error and interval that fit them
(``agreement_row``)."""

import numpy as np

from .alpha import krippendorff_alpha_nominal, pair_coincidence
from .common import NO_UNITS, ONE_CATEGORY, ONE_SIDED, _table
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
    _atanh_interval,
    bootstrap,
    jackknife_se,
)
from .kappa import (
    cohens_kappa,
    fleiss_kappas,
    gwet_ac1,
    gwet_ac1_coincidence,
    kappa_max,
    kappas,
    landis_koch,
    light_kappas,
    pabak,
    percent_agreement,
    prevalence_bias,
)
from .ratings import Ratings, kappa_statistic


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


def _statistic(ratings: Ratings, statistic: str, weights, w=None) -> np.ndarray:
    if statistic == "fleiss":
        return fleiss_kappas(ratings.coincidence(w))
    tables = ratings.pair_tables(w)
    if statistic == "cohen":
        return kappas(tables.sum(axis=-3), weights)
    return light_kappas(tables, weights)


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
