"""Binomial-normal random-intercept model (a GLMM) for proportions, fitted by maximum likelihood.

The model of ``metafor::rma.glmm(measure="PLO")``: events_i ~ Binomial(total_i, p_i),
logit(p_i) = beta + b_i, b_i ~ N(0, tau²). metafor hands it to ``lme4::glmer`` with
``nAGQ = 7``: each study's integral over b_i is approximated by adaptive Gauss–Hermite
quadrature with 7 nodes centred at the conditional mode and scaled by the curvature there. We
compute the same approximate likelihood and maximise it to convergence (profile over beta
inside a bounded search over tau). The standard error of beta comes, as in lme4, from the
finite-difference Hessian of the deviance in (tau, beta).

Heterogeneity: the likelihood-ratio test of the model with one common proportion against the
saturated model (metafor's ``QE.LRT``), the Wald-type test where every study has events and
non-events (``QE.Wld``), and I²/H² from tau² and the typical within-study variance of the logit
(metafor's definition).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import NDArray
from scipy import optimize, special, stats

from reviewflow.pooling.effects import escalc

FloatArray = NDArray[np.float64]

N_AGQ = 7
_NODES, _RAW_WEIGHTS = hermegauss(N_AGQ)
_LOG_WEIGHTS = np.log(_RAW_WEIGHTS / np.sqrt(2 * np.pi)) + _NODES**2 / 2  # w_k / phi(z_k)
_THETA_MAX = 20.0  # tau on the logit scale; far beyond any real heterogeneity


@dataclass(frozen=True)
class GlmmFit:
    k: int
    estimate: float  # logit of the pooled proportion
    se: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    pval: float
    tau2: float
    i2: float
    h2: float
    q_lrt: float
    q_lrt_pval: float
    q_wald: float | None  # None when a study has 0 events or only events
    q_wald_pval: float | None
    loglik: float
    test: str
    df: int | None


class _Likelihood:
    """The AGQ log-likelihood of (beta, theta = tau) for one set of counts."""

    def __init__(self, events: FloatArray, total: FloatArray) -> None:
        self.x = events
        self.n = total
        self.const = float(
            np.sum(
                special.gammaln(total + 1)
                - special.gammaln(events + 1)
                - special.gammaln(total - events + 1)
            )
        )
        self.u = np.zeros_like(events)  # warm start for the conditional modes

    def _g(self, beta: float, theta: float, u: FloatArray) -> FloatArray:
        eta = beta + theta * u
        x = self.x[..., None] if u.ndim == 2 else self.x
        n = self.n[..., None] if u.ndim == 2 else self.n
        return np.asarray(x * eta - n * np.logaddexp(0.0, eta) - u**2 / 2, dtype=float)

    def __call__(self, beta: float, theta: float) -> float:
        theta = abs(theta)  # the likelihood is symmetric in theta (lme4 uses theta >= 0)
        if theta == 0.0:
            return float(np.sum(self._g(beta, 0.0, np.zeros_like(self.x)))) + self.const
        u = self.u.copy()
        x, n = self.x, self.n
        current = self._g(beta, theta, u)
        for _ in range(200):
            p = special.expit(beta + theta * u)
            grad = theta * (x - n * p) - u
            curv = theta**2 * n * p * (1 - p) + 1
            step = grad / curv
            new = u + step
            value = self._g(beta, theta, new)
            worse = value < current - 1e-12
            while np.any(worse):  # damped Newton: never step downhill
                step = np.where(worse, step / 2, step)
                new = u + step
                value = self._g(beta, theta, new)
                worse = worse & (value < current - 1e-12)
            u, current = new, value
            if np.max(np.abs(step)) < 1e-11:
                break
        self.u = u
        p = special.expit(beta + theta * u)
        sd = 1 / np.sqrt(theta**2 * n * p * (1 - p) + 1)
        nodes = u[:, None] + sd[:, None] * _NODES[None, :]
        terms = self._g(beta, theta, nodes) + _LOG_WEIGHTS[None, :]
        per_study = np.log(sd) + special.logsumexp(terms, axis=1)
        return float(np.sum(per_study)) + self.const


def _best_beta(lik: _Likelihood, theta: float, beta: float) -> tuple[float, float]:
    """Maximise over beta for fixed theta (Newton on central differences)."""
    h = 1e-4
    value = lik(beta, theta)
    for _ in range(100):
        up, down = lik(beta + h, theta), lik(beta - h, theta)
        d1 = (up - down) / (2 * h)
        d2 = (up - 2 * value + down) / h**2
        step = -d1 / d2 if d2 < 0 else d1  # fall back to a gradient step if not concave
        step = float(np.clip(step, -2, 2))
        while True:
            candidate = lik(beta + step, theta)
            if candidate >= value - 1e-12 or abs(step) < 1e-14:
                break
            step /= 2
        beta, value = beta + step, candidate
        if abs(step) < 1e-10:
            break
    return beta, value


def fit_glmm(
    events: FloatArray, total: FloatArray, test: str = "z", level: float = 0.95
) -> GlmmFit:
    """ML fit of the binomial-normal model; ``test`` is "z" or "t" (k−1 df), as rma.glmm."""
    x = np.asarray(events, dtype=float)
    n = np.asarray(total, dtype=float)
    k = len(x)
    if k < 2:
        raise ValueError(f"GLMM needs at least 2 studies (got {k})")
    if test not in ("z", "t"):
        raise ValueError("test must be z or t")
    if x.sum() == 0 or x.sum() == n.sum():
        what = "no study has events" if x.sum() == 0 else "every patient is an event"
        raise ValueError(f"the GLMM has no finite estimate when {what}")
    lik = _Likelihood(x, n)
    p_common = float(np.clip(x.sum() / n.sum(), 1e-10, 1 - 1e-10))
    beta0 = float(special.logit(p_common))

    es = escalc("PLO", x, n)
    start = float(np.sqrt(max(float(np.var(es.yi) - np.mean(es.vi)), 0.01)))
    upper = max(_THETA_MAX, 4 * start)
    fast = _newton(lik, beta0, start)
    if fast is not None and abs(fast[1]) < 0.999 * upper:
        beta, theta, value = fast[0], abs(fast[1]), fast[2]
    else:
        beta, theta, value = _profile_search(lik, beta0, upper)
    at_zero_beta, at_zero = _best_beta(lik, 0.0, beta0)
    if at_zero >= value:
        theta, beta, value = 0.0, at_zero_beta, at_zero
    return _summarise(lik, es.vi, x, n, beta, theta, value, test, level)


def _newton(
    lik: _Likelihood,
    beta: float,
    theta: float,
    h: float = 1e-4,
) -> tuple[float, float, float] | None:
    """Joint Newton steps on central differences in (beta, theta): fast when the maximum is
    interior and well curved; None when it does not settle (the caller then searches)."""
    point = np.array([beta, theta])
    value = lik(*point)
    for _ in range(60):
        b, t = point
        f_bp, f_bm = lik(b + h, t), lik(b - h, t)
        f_tp, f_tm = lik(b, t + h), lik(b, t - h)
        f_pp, f_pm = lik(b + h, t + h), lik(b + h, t - h)
        f_mp, f_mm = lik(b - h, t + h), lik(b - h, t - h)
        grad = np.array([(f_bp - f_bm) / (2 * h), (f_tp - f_tm) / (2 * h)])
        hess = np.array(
            [
                [(f_bp - 2 * value + f_bm) / h**2, (f_pp - f_pm - f_mp + f_mm) / (4 * h**2)],
                [0.0, (f_tp - 2 * value + f_tm) / h**2],
            ]
        )
        hess[1, 0] = hess[0, 1]
        if not np.all(np.isfinite(hess)) or np.any(np.linalg.eigvalsh(hess) >= 0):
            return None  # not concave here: leave it to the bounded search
        step = -np.linalg.solve(hess, grad)
        scale = 1.0
        while True:
            candidate = point + scale * step
            new_value = lik(*candidate)
            if new_value >= value - 1e-12:
                break
            scale /= 2
            if scale < 1e-6:
                return None
        point, value = candidate, new_value
        if np.max(np.abs(scale * step)) < 1e-9:
            return float(point[0]), float(point[1]), value
    return None


def _profile_search(lik: _Likelihood, beta0: float, upper: float) -> tuple[float, float, float]:
    """Bounded search over theta, beta maximised inside: slow but sure."""
    state = {"beta": beta0}

    def profile(theta: float) -> float:
        beta, value = _best_beta(lik, theta, state["beta"])
        state["beta"] = beta
        return -value

    best = optimize.minimize_scalar(
        profile,
        bounds=(0.0, upper),
        method="bounded",
        options={"xatol": 1e-10, "maxiter": 500},
    )
    theta, beta = float(best.x), state["beta"]
    if theta > 0.999 * upper:
        raise ValueError(
            "the GLMM's tau² grows without bound (the studies' proportions are "
            "completely separated); use an inverse-variance method"
        )
    lik.u = np.zeros_like(lik.x)
    beta, value = _best_beta(lik, theta, beta)
    return beta, theta, value


def _summarise(
    lik: _Likelihood,
    vi: FloatArray,
    x: FloatArray,
    n: FloatArray,
    beta: float,
    theta: float,
    value: float,
    test: str,
    level: float,
) -> GlmmFit:
    k = len(x)
    se = _se_beta(lik, beta, theta)
    tau2 = theta**2
    df = None if test == "z" else k - 1
    crit = (
        float(stats.norm.isf((1 - level) / 2))
        if df is None
        else float(stats.t.isf((1 - level) / 2, df))
    )
    zval = beta / se
    pval = float(2 * (stats.norm.sf(abs(zval)) if df is None else stats.t.sf(abs(zval), df)))
    pi_half = crit * np.sqrt(se**2 + tau2)

    w = 1 / vi
    vt = (k - 1) / (np.sum(w) - np.sum(w**2) / np.sum(w))
    q_lrt = _lrt(x, n)
    q_wald: float | None = None
    q_wald_pval: float | None = None
    if np.all((x > 0) & (x < n)):
        yi = np.log(x / (n - x))
        wi = x * (n - x) / n
        q_wald = float(np.sum(wi * (yi - np.sum(wi * yi) / np.sum(wi)) ** 2))
        q_wald_pval = float(stats.chi2.sf(q_wald, k - 1))
    return GlmmFit(
        k=k,
        estimate=beta,
        se=se,
        ci_lower=beta - crit * se,
        ci_upper=beta + crit * se,
        pi_lower=float(beta - pi_half),
        pi_upper=float(beta + pi_half),
        pval=pval,
        tau2=tau2,
        i2=float(100 * tau2 / (vt + tau2)),
        h2=float(tau2 / vt + 1),
        q_lrt=q_lrt,
        q_lrt_pval=float(stats.chi2.sf(q_lrt, k - 1)),
        q_wald=q_wald,
        q_wald_pval=q_wald_pval,
        loglik=value,
        test=test,
        df=df,
    )


def _se_beta(lik: _Likelihood, beta: float, theta: float, h: float = 1e-4) -> float:
    """SE of beta from the finite-difference Hessian of −2 log L in (theta, beta), as lme4."""

    def dev(t: float, b: float) -> float:
        return -2 * lik(b, t)

    f0 = dev(theta, beta)
    h_tt = (dev(theta + h, beta) - 2 * f0 + dev(theta - h, beta)) / h**2
    h_bb = (dev(theta, beta + h) - 2 * f0 + dev(theta, beta - h)) / h**2
    h_tb = (
        dev(theta + h, beta + h)
        - dev(theta + h, beta - h)
        - dev(theta - h, beta + h)
        + dev(theta - h, beta - h)
    ) / (4 * h**2)
    hess = np.array([[h_tt, h_tb], [h_tb, h_bb]])
    if theta > 0 and np.all(np.linalg.eigvalsh(hess) > 0):
        return float(np.sqrt(2 * np.linalg.inv(hess)[1, 1]))
    return float(np.sqrt(2 / h_bb))


def _lrt(x: FloatArray, n: FloatArray) -> float:
    """Deviance of the common-proportion binomial model against the saturated one."""
    p = x.sum() / n.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(x > 0, x * np.log(x / (n * p)), 0.0)
        b = np.where(x < n, (n - x) * np.log((n - x) / (n * (1 - p))), 0.0)
    return float(max(0.0, 2 * np.sum(a + b)))
