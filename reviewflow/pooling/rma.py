"""Inverse-variance pooling of one set of study effect sizes, as ``metafor::rma.uni`` does it
for an intercept-only model.

Estimators of the between-study variance tau²: EE (common effect, tau² = 0), DL
(DerSimonian–Laird), PM (Paule–Mandel), ML and REML (Fisher scoring from the Hedges start, as
metafor, iterated until the change is below 1e-13, then the same check that tau² = 0 is not
better). Tests: ``z`` (normal) or ``knha`` (Knapp–Hartung: variance times the weighted residual
mean square, t with k−1 df). Heterogeneity: Q with its chi² p-value from the common-effect
weights; I² and H² from tau² and the "typical" within-study variance (metafor's i2def 1) for
random-effects models, from Q for the common-effect model. tau² CI: Q-profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

FloatArray = NDArray[np.float64]

METHODS = ("REML", "DL", "PM", "ML", "EE")
TESTS = ("z", "knha")
_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class Fit:
    """A pooled estimate on the measure's scale (the caller back-transforms)."""

    method: str
    test: str
    k: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    pval: float
    tau2: float
    tau2_ci: tuple[float, float] | None
    i2: float
    h2: float
    q: float
    q_df: int
    q_pval: float
    weights: FloatArray  # percent, summing to 100
    df: int | None  # degrees of freedom of the t distribution, None for z
    converged: bool = True
    iterations: int = 0


def q_statistic(yi: FloatArray, vi: FloatArray, tau2: float = 0.0) -> float:
    """Generalised Q: sum of w_i (y_i − weighted mean)² with w_i = 1/(v_i + tau²)."""
    w = 1.0 / (vi + tau2)
    mu = np.sum(w * yi) / np.sum(w)
    return float(np.sum(w * (yi - mu) ** 2))


def _tr_p(w: FloatArray) -> float:
    sw = np.sum(w)
    return float(sw - np.sum(w**2) / sw)


def _tau2_dl(yi: FloatArray, vi: FloatArray) -> float:
    k = len(yi)
    q = q_statistic(yi, vi)
    return max(0.0, (q - (k - 1)) / _tr_p(1.0 / vi))


def _tau2_pm(yi: FloatArray, vi: FloatArray) -> float:
    k = len(yi)
    target = k - 1
    if q_statistic(yi, vi, 0.0) < target:
        return 0.0
    return _q_root(yi, vi, target)


def _q_root(yi: FloatArray, vi: FloatArray, target: float) -> float:
    """tau² ≥ 0 where the generalised Q equals ``target`` (Q decreases in tau²)."""
    upper = max(100.0, 10 * float(np.var(yi)) + 10 * float(np.max(vi)))
    while q_statistic(yi, vi, upper) > target:
        upper *= 10
        if upper > 1e15:
            raise ArithmeticError("tau² is unbounded (Q does not fall to its target)")
    return float(
        optimize.brentq(
            lambda t: q_statistic(yi, vi, t) - target,
            0.0,
            upper,
            xtol=1e-15,
            rtol=4 * _EPS,
            maxiter=1000,
        )
    )


def _loglik(yi: FloatArray, vi: FloatArray, tau2: float, reml: bool) -> float:
    k = len(yi)
    w = 1.0 / (vi + tau2)
    mu = np.sum(w * yi) / np.sum(w)
    rss = np.sum(w * (yi - mu) ** 2)
    if reml:
        return float(
            -0.5 * (k - 1) * np.log(2 * np.pi)
            - 0.5 * np.sum(np.log(vi + tau2))
            - 0.5 * np.log(np.sum(w))
            - 0.5 * rss
        )
    return float(-0.5 * k * np.log(2 * np.pi) - 0.5 * np.sum(np.log(vi + tau2)) - 0.5 * rss)


def _tau2_fisher(
    yi: FloatArray, vi: FloatArray, reml: bool, threshold: float = 1e-13, maxiter: int = 10_000
) -> tuple[float, bool, int]:
    """ML/REML by Fisher scoring from the Hedges (HE) start, as metafor's rma.uni."""
    k = len(yi)
    rss_ols = np.sum((yi - np.mean(yi)) ** 2)
    tr_pv = np.sum(vi) - np.sum(vi) / k
    tau2 = max(0.0, float((rss_ols - tr_pv) / (k - 1)))
    converged = False
    iterations = 0
    for iterations in range(1, maxiter + 1):  # noqa: B007
        w = 1.0 / (vi + tau2)
        sw = np.sum(w)
        mu = np.sum(w * yi) / sw
        ypy = np.sum(w**2 * (yi - mu) ** 2)  # Y'PPY for an intercept-only model
        if reml:
            tr_p = sw - np.sum(w**2) / sw
            tr_pp = np.sum(w**2) - 2 * np.sum(w**3) / sw + (np.sum(w**2) / sw) ** 2
            adj = float((ypy - tr_p) / tr_pp)
        else:
            adj = float((ypy - sw) / np.sum(w**2))
        if not np.isfinite(adj):
            adj = 0.0
        while tau2 + adj < 0:
            adj /= 2
        new = tau2 + adj
        change = abs(new - tau2)
        tau2 = float(new)
        if change <= threshold * max(1.0, tau2):
            converged = True
            break
    if converged and tau2 > 0 and _loglik(yi, vi, 0.0, reml) - _loglik(yi, vi, tau2, reml) > 1e-10:
        tau2 = 0.0  # metafor's ll0check: Fisher scoring stuck at a local maximum
    return max(0.0, tau2), converged, iterations


def tau2_ci(yi: FloatArray, vi: FloatArray, level: float = 0.95) -> tuple[float, float]:
    """Q-profile confidence interval for tau² (metafor's ``confint``, type "QP")."""
    k = len(yi)
    alpha = 1 - level
    crit_u = float(stats.chi2.isf(alpha / 2, k - 1))  # upper quantile → lower bound
    crit_l = float(stats.chi2.ppf(alpha / 2, k - 1))  # lower quantile → upper bound
    q0 = q_statistic(yi, vi, 0.0)
    upper = 0.0 if q0 < crit_l else _q_root(yi, vi, crit_l)
    lower = 0.0 if q0 < crit_u else _q_root(yi, vi, crit_u)
    return lower, upper


def fit(
    yi: FloatArray, vi: FloatArray, method: str = "REML", test: str = "z", level: float = 0.95
) -> Fit:
    """Pool ``yi`` with sampling variances ``vi``; raises ValueError on k < 2 (k < 1 for EE)."""
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; choose z or knha")
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    k = len(yi)
    if k < 1 or (k < 2 and (method != "EE" or test == "knha")):
        raise ValueError(f"{method} needs at least 2 studies (got {k})")
    if np.any(vi <= 0):
        raise ValueError("every sampling variance must be positive")

    converged, iterations = True, 0
    if method == "EE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = _tau2_dl(yi, vi)
    elif method == "PM":
        tau2 = _tau2_pm(yi, vi)
    else:
        tau2, converged, iterations = _tau2_fisher(yi, vi, reml=method == "REML")

    w = 1.0 / (vi + tau2)
    sw = float(np.sum(w))
    estimate = float(np.sum(w * yi) / sw)
    variance = 1.0 / sw
    df: int | None = None
    if test == "knha":
        rss = float(np.sum(w * (yi - estimate) ** 2))
        s2w = 0.0 if rss <= _EPS else rss / (k - 1)
        variance *= s2w
        df = k - 1
    se = float(np.sqrt(variance))
    if df is None:
        crit = float(stats.norm.isf((1 - level) / 2))
        pval = float(2 * stats.norm.sf(abs(estimate / se))) if se > 0 else 0.0
    else:
        crit = float(stats.t.isf((1 - level) / 2, df))
        pval = float(2 * stats.t.sf(abs(estimate / se), df)) if se > 0 else 0.0
    pi_half = crit * np.sqrt(variance + tau2)

    if k > 1:
        q = q_statistic(yi, vi, 0.0)
        q_pval = float(stats.chi2.sf(q, k - 1))
        if method == "EE":
            i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
            h2 = q / (k - 1)
        else:
            vt = (k - 1) / _tr_p(1.0 / vi)
            i2 = 100 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1
    else:
        q, q_pval, i2, h2 = 0.0, 1.0, 0.0, 1.0
    ci_tau2 = tau2_ci(yi, vi, level) if method != "EE" else None
    return Fit(
        method=method,
        test=test,
        k=k,
        estimate=estimate,
        se=se,
        ci_lower=estimate - crit * se,
        ci_upper=estimate + crit * se,
        pi_lower=float(estimate - pi_half),
        pi_upper=float(estimate + pi_half),
        pval=pval,
        tau2=tau2,
        tau2_ci=ci_tau2,
        i2=float(i2),
        h2=float(h2),
        q=float(q),
        q_df=k - 1,
        q_pval=q_pval,
        weights=100 * w / sw,
        df=df,
        converged=converged,
        iterations=iterations,
    )
