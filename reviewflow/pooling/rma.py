"""Inverse-variance models as ``metafor::rma.uni`` fits them: the intercept-only model
(``fit``) and the mixed-effects meta-regression with a design matrix (``fit_model``).

Estimators of the between-study variance tau²: EE (common effect, tau² = 0), DL
(DerSimonian–Laird), PM (Paule–Mandel), ML and REML (Fisher scoring from the Hedges start, as
metafor, iterated until the change is below 1e-13, then the same check that tau² = 0 is not
better). Tests: ``z`` (normal) or ``knha`` (Knapp–Hartung: variance times the weighted residual
mean square, t with k−p df; the test of the moderators an F test). Heterogeneity: Q (QE with
moderators) with its chi² p-value from the common-effect weights; I² and H² from tau² and the
"typical" within-study variance (metafor's i2def 1) for random-effects models, from Q for the
common-effect model. tau² CI: Q-profile.

Every sum works on k-vectors and p×p matrices (never k×k), so k = 10,000 takes milliseconds.
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


@dataclass(frozen=True)
class ModelFit:
    """A mixed-effects (or common-effect) model with p coefficients, as ``rma(mods=…)``."""

    method: str
    test: str
    k: int
    p: int
    beta: FloatArray
    vcov: FloatArray
    se: FloatArray
    zval: FloatArray  # z or t values
    pval: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    df: int | None  # residual df (k − p) of the t and F tests, None for z
    tau2: float
    qe: float  # (residual) heterogeneity, df k − p
    qe_pval: float
    i2: float
    h2: float
    qm: float  # test of the coefficients other than the intercept (chi², or F under knha)
    qm_df: int
    qm_pval: float
    weights: FloatArray  # percent
    converged: bool = True
    iterations: int = 0


class _Weighted:
    """Weighted least squares of y on X with weights w, and the traces metafor's P needs."""

    def __init__(self, yi: FloatArray, X: FloatArray, w: FloatArray) -> None:
        self.w = w
        self.X = X
        self.ones = X.shape[1] == 1  # the intercept-only model: sums instead of matrices
        if self.ones:
            sw = float(np.sum(w))
            self.inv = np.array([[1.0 / sw]])
            self.beta = np.array([float(np.sum(w * yi)) / sw])
            self.resid = yi - self.beta[0]
            return
        xtw = X.T * w
        self.inv = np.linalg.inv(xtw @ X)  # (X'WX)⁻¹, p × p
        self.beta = self.inv @ (xtw @ yi)
        self.resid = yi - X @ self.beta

    def rss(self) -> float:  # Y'PY
        return float(np.sum(self.w * self.resid**2))

    def ypp(self) -> float:  # Y'PPY
        return float(np.sum((self.w * self.resid) ** 2))

    def _xt(self, power: int) -> FloatArray:  # X'W^power X
        if self.ones:
            return np.array([[float(np.sum(self.w**power))]])
        return np.asarray((self.X.T * self.w**power) @ self.X)

    def tr_p(self) -> float:
        return float(np.sum(self.w) - np.trace(self.inv @ self._xt(2)))

    def tr_pp(self) -> float:
        a2 = self.inv @ self._xt(2)
        return float(np.sum(self.w**2) - 2 * np.trace(self.inv @ self._xt(3)) + np.trace(a2 @ a2))

    def logdet(self) -> float:  # log det(X'WX)
        return float(-np.linalg.slogdet(self.inv)[1])


def _ones(k: int) -> FloatArray:
    return np.ones((k, 1))


def q_statistic(yi: FloatArray, vi: FloatArray, tau2: float = 0.0) -> float:
    """Generalised Q: sum of w_i (y_i − weighted mean)² with w_i = 1/(v_i + tau²)."""
    return _q(yi, vi, _ones(len(yi)), tau2)


def _q(yi: FloatArray, vi: FloatArray, X: FloatArray, tau2: float) -> float:
    return _Weighted(yi, X, 1.0 / (vi + tau2)).rss()


def _tau2_dl(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    k, p = X.shape
    fe = _Weighted(yi, X, 1.0 / vi)
    return max(0.0, (fe.rss() - (k - p)) / fe.tr_p())


def _tau2_pm(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    k, p = X.shape
    target = k - p
    if _q(yi, vi, X, 0.0) < target:
        return 0.0
    return _q_root(yi, vi, X, target)


def _q_root(yi: FloatArray, vi: FloatArray, X: FloatArray, target: float) -> float:
    """tau² ≥ 0 where the generalised Q equals ``target`` (Q decreases in tau²)."""
    upper = max(100.0, 10 * float(np.var(yi)) + 10 * float(np.max(vi)))
    while _q(yi, vi, X, upper) > target:
        upper *= 10
        if upper > 1e15:
            raise ArithmeticError("tau² is unbounded (Q does not fall to its target)")
    return float(
        optimize.brentq(
            lambda t: _q(yi, vi, X, t) - target,
            0.0,
            upper,
            xtol=1e-15,
            rtol=4 * _EPS,
            maxiter=1000,
        )
    )


def _loglik(yi: FloatArray, vi: FloatArray, X: FloatArray, tau2: float, reml: bool) -> float:
    k, p = X.shape
    m = _Weighted(yi, X, 1.0 / (vi + tau2))
    ll = -0.5 * np.sum(np.log(vi + tau2)) - 0.5 * m.rss()
    if reml:
        return float(ll - 0.5 * (k - p) * np.log(2 * np.pi) - 0.5 * m.logdet())
    return float(ll - 0.5 * k * np.log(2 * np.pi))


def _tau2_fisher(
    yi: FloatArray,
    vi: FloatArray,
    X: FloatArray,
    reml: bool,
    threshold: float = 1e-13,
    maxiter: int = 10_000,
) -> tuple[float, bool, int]:
    """ML/REML by Fisher scoring from the Hedges (HE) start, as metafor's rma.uni."""
    k, p = X.shape
    ols = _Weighted(yi, X, np.ones(k))
    tr_pv = float(np.sum(vi) - np.trace(ols.inv @ ((X.T * vi) @ X)))
    tau2 = max(0.0, float((ols.rss() - tr_pv) / (k - p)))
    converged = False
    iterations = 0
    for iterations in range(1, maxiter + 1):  # noqa: B007
        m = _Weighted(yi, X, 1.0 / (vi + tau2))
        if reml:
            adj = (m.ypp() - m.tr_p()) / m.tr_pp()
        else:
            adj = (m.ypp() - float(np.sum(m.w))) / float(np.sum(m.w**2))
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
    if (
        converged
        and tau2 > 0
        and _loglik(yi, vi, X, 0.0, reml) - _loglik(yi, vi, X, tau2, reml) > 1e-10
    ):
        tau2 = 0.0  # metafor's ll0check: Fisher scoring stuck at a local maximum
    return max(0.0, tau2), converged, iterations


def estimate_tau2(
    yi: FloatArray, vi: FloatArray, X: FloatArray, method: str
) -> tuple[float, bool, int]:
    """tau² by ``method`` for the model with design matrix X: (tau², converged, iterations)."""
    if method == "EE":
        return 0.0, True, 0
    if method == "DL":
        return _tau2_dl(yi, vi, X), True, 0
    if method == "PM":
        return _tau2_pm(yi, vi, X), True, 0
    return _tau2_fisher(yi, vi, X, reml=method == "REML")


def tau2_ci(
    yi: FloatArray, vi: FloatArray, level: float = 0.95, X: FloatArray | None = None
) -> tuple[float, float]:
    """Q-profile confidence interval for tau² (metafor's ``confint``, type "QP")."""
    X = _ones(len(yi)) if X is None else X
    k, p = X.shape
    alpha = 1 - level
    crit_u = float(stats.chi2.isf(alpha / 2, k - p))  # upper quantile → lower bound
    crit_l = float(stats.chi2.ppf(alpha / 2, k - p))  # lower quantile → upper bound
    q0 = _q(yi, vi, X, 0.0)
    upper = 0.0 if q0 < crit_l else _q_root(yi, vi, X, crit_l)
    lower = 0.0 if q0 < crit_u else _q_root(yi, vi, X, crit_u)
    return lower, upper


def _check(method: str, test: str, vi: FloatArray, k: int, p: int) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; choose z or knha")
    if np.any(vi <= 0):
        raise ValueError("every sampling variance must be positive")
    if p == 1 and (k < 1 or (k < 2 and (method != "EE" or test == "knha"))):
        raise ValueError(f"{method} needs at least 2 studies (got {k})")
    need = p + (0 if method == "EE" and test == "z" else 1)  # metafor: p + 1 ≤ k for tau²
    if p > 1 and k < need:
        raise ValueError(f"{k} studies are too few for {p} coefficients ({method}, {test})")


def _heterogeneity(
    yi: FloatArray, vi: FloatArray, X: FloatArray, method: str, tau2: float
) -> tuple[float, float, float, float]:
    """QE (common-effect weights, df k − p), its p-value, I² and H² (metafor's i2def 1)."""
    k, p = X.shape
    if k <= p:
        return 0.0, 1.0, 0.0, 1.0
    fe = _Weighted(yi, X, 1.0 / vi)
    qe = max(0.0, fe.rss())
    qe_pval = float(stats.chi2.sf(qe, k - p))
    if method == "EE":
        i2 = max(0.0, 100 * (qe - (k - p)) / qe) if qe > 0 else 0.0
        h2 = qe / (k - p)
    else:
        vt = (k - p) / fe.tr_p()
        i2 = 100 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1
    return qe, qe_pval, float(i2), float(h2)


def fit_model(
    yi: FloatArray,
    vi: FloatArray,
    X: FloatArray,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
) -> ModelFit:
    """Fit ``rma(yi, vi, mods = X[:, 1:], method, test)``; X's first column is the intercept.

    Raises ValueError when there are too few studies for the coefficients or X is not of
    full rank.
    """
    method = method.upper()
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    X = np.asarray(X, dtype=float)
    k, p = X.shape
    _check(method, test, vi, k, p)
    if np.any(np.linalg.eigvalsh(X.T @ X) <= 1e-7):
        raise ValueError("the moderators are collinear (the model matrix is not of full rank)")
    tau2, converged, iterations = estimate_tau2(yi, vi, X, method) if k > 1 else (0.0, True, 0)
    m = _Weighted(yi, X, 1.0 / (vi + tau2))
    vcov = np.array(m.inv, dtype=float)
    df: int | None = None
    if test == "knha":
        rss = m.rss()
        vcov *= 0.0 if rss <= _EPS else rss / (k - p)
        df = k - p
    se = np.sqrt(np.diag(vcov))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = np.where(se > 0, m.beta / se, np.inf * np.sign(m.beta))
    if df is None:
        crit = float(stats.norm.isf((1 - level) / 2))
        pval = 2 * stats.norm.sf(np.abs(zval))
    else:
        crit = float(stats.t.isf((1 - level) / 2, df))
        pval = 2 * stats.t.sf(np.abs(zval), df)
    qm, _qm_df, qm_pval = 0.0, p - 1, 1.0
    if p > 1:
        b = m.beta[1:]
        qm = float(b @ np.linalg.solve(vcov[1:, 1:], b))
        if df is None:
            qm_pval = float(stats.chi2.sf(qm, p - 1))
        else:
            qm /= p - 1
            qm_pval = float(stats.f.sf(qm, p - 1, df))
    qe, qe_pval, i2, h2 = _heterogeneity(yi, vi, X, method, tau2)
    return ModelFit(
        method=method,
        test=test,
        k=k,
        p=p,
        beta=m.beta,
        vcov=vcov,
        se=se,
        zval=zval,
        pval=np.asarray(pval, dtype=float),
        ci_lower=m.beta - crit * se,
        ci_upper=m.beta + crit * se,
        df=df,
        tau2=tau2,
        qe=qe,
        qe_pval=qe_pval,
        i2=i2,
        h2=h2,
        qm=qm,
        qm_df=p - 1,
        qm_pval=qm_pval,
        weights=100 * m.w / np.sum(m.w),
        converged=converged,
        iterations=iterations,
    )


def fit(
    yi: FloatArray, vi: FloatArray, method: str = "REML", test: str = "z", level: float = 0.95
) -> Fit:
    """Pool ``yi`` with sampling variances ``vi``; raises ValueError on k < 2 (k < 1 for EE)."""
    method = method.upper()
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    k = len(yi)
    _check(method, test, vi, k, 1)
    model = fit_model(yi, vi, _ones(k), method, test, level)
    estimate, se = float(model.beta[0]), float(model.se[0])
    if model.df is None:
        crit = float(stats.norm.isf((1 - level) / 2))
    else:
        crit = float(stats.t.isf((1 - level) / 2, model.df))
    pi_half = crit * np.sqrt(se**2 + model.tau2)
    pval = float(model.pval[0]) if se > 0 else 0.0
    return Fit(
        method=method,
        test=test,
        k=k,
        estimate=estimate,
        se=se,
        ci_lower=float(model.ci_lower[0]),
        ci_upper=float(model.ci_upper[0]),
        pi_lower=float(estimate - pi_half),
        pi_upper=float(estimate + pi_half),
        pval=pval,
        tau2=model.tau2,
        tau2_ci=tau2_ci(yi, vi, level) if method != "EE" and k > 1 else None,
        i2=model.i2,
        h2=model.h2,
        q=model.qe,
        q_df=k - 1,
        q_pval=model.qe_pval,
        weights=model.weights,
        df=model.df,
        converged=model.converged,
        iterations=model.iterations,
    )
