"""Small-study effects: Egger's regression test and trim-and-fill, as metafor's defaults.

``egger`` is ``regtest(res)`` (model "rma", predictor "sei"): the model of ``res`` (its tau²
method and test) with the standard error as a moderator; the test of its coefficient is the
test for funnel-plot asymmetry, and the intercept is the "limit estimate" (the effect as the
SE goes to 0). For Mantel–Haenszel and Peto models metafor uses the studies' escalc outcomes
and a common-effect model, and so does this.

``trimfill`` is ``trimfill(res)`` (estimator L0, side chosen as metafor does: by the sign of
the SE's coefficient in that regression; missing studies are imputed on the other side):
iteratively trim the k0 most extreme studies, re-estimate, count again from the ranks, until
k0 settles; then mirror the k0 studies about the trimmed estimate and fit the filled data.
As in metafor, the model of the filled data uses the tau² method of ``res`` with a z test
(metafor does not carry ``test`` over), while with k0 = 0 the result is ``res`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reviewflow.pooling import rma

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class EggerTest:
    statistic: float  # z, or t under Knapp–Hartung
    pval: float
    df: int | None
    limit_estimate: float  # model scale
    limit_ci_lower: float
    limit_ci_upper: float
    method: str
    test: str

    def to_dict(self, reporting: Any) -> dict[str, Any]:
        """``reporting`` maps the model scale to the reader's (exp for ratios)."""
        return {
            "statistic": self.statistic,
            "pval": self.pval,
            "df": self.df,
            "limit_estimate": float(reporting(self.limit_estimate)),
            "limit_ci_lower": float(reporting(self.limit_ci_lower)),
            "limit_ci_upper": float(reporting(self.limit_ci_upper)),
            "limit_theta": self.limit_estimate,
            "method": self.method,
            "test": self.test,
        }


@dataclass(frozen=True)
class TrimFill:
    k0: int
    se_k0: float
    side: str  # the side where studies are missing: "left" or "right"
    estimate: float  # model scale, the filled data's model
    se: float
    ci_lower: float
    ci_upper: float
    pval: float
    tau2: float
    test: str
    filled_yi: FloatArray  # the imputed studies
    filled_vi: FloatArray

    def to_dict(self, reporting: Any) -> dict[str, Any]:
        return {
            "k0": self.k0,
            "se_k0": self.se_k0,
            "side": self.side,
            "estimate": float(reporting(self.estimate)),
            "ci_lower": float(reporting(self.ci_lower)),
            "ci_upper": float(reporting(self.ci_upper)),
            "theta": self.estimate,
            "se": self.se,
            "pval": self.pval,
            "tau2": self.tau2,
            "test": self.test,
            "filled": [
                {"yi": float(y), "vi": float(v), "estimate": float(reporting(y))}
                for y, v in zip(self.filled_yi, self.filled_vi, strict=True)
            ],
        }


def egger(
    yi: FloatArray, vi: FloatArray, method: str = "REML", test: str = "z", level: float = 0.95
) -> EggerTest:
    """``regtest(rma(yi, vi, method, test))``; ValueError for fewer than 3 studies."""
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = len(yi)
    if k < 3:
        raise ValueError(f"Egger's test needs at least 3 studies (got {k})")
    _differ(vi, "Egger's test")
    X = np.column_stack([np.ones(k), np.sqrt(vi)])
    fit = rma.fit_model(yi, vi, X, method, test, level)
    return EggerTest(
        statistic=float(fit.zval[1]),
        pval=float(fit.pval[1]),
        df=fit.df,
        limit_estimate=float(fit.beta[0]),
        limit_ci_lower=float(fit.ci_lower[0]),
        limit_ci_upper=float(fit.ci_upper[0]),
        method=fit.method,
        test=fit.test,
    )


def _beta(yi: FloatArray, vi: FloatArray, method: str) -> float:
    if len(yi) == 1:  # metafor fits one study as itself (tau² = 0)
        return float(yi[0])
    return float(rma.fit_model(yi, vi, np.ones((len(yi), 1)), method, "z").beta[0])


def _differ(vi: FloatArray, what: str) -> None:
    """The SE as a moderator needs SEs that differ (metafor stops on the rank-deficient model)."""
    if np.ptp(vi) <= 1e-12 * np.max(vi):
        raise ValueError(f"{what} needs studies whose standard errors differ (all are the same)")


def _side(yi: FloatArray, vi: FloatArray, method: str) -> str:
    _differ(vi, "trim-and-fill (choosing the side)")
    X = np.column_stack([np.ones(len(yi)), np.sqrt(vi)])
    slope = rma.fit_model(yi, vi, X, method, "z").beta[1]
    return "right" if slope < 0 else "left"


def trimfill(
    yi: FloatArray,
    vi: FloatArray,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    side: str | None = None,
    maxiter: int = 100,
) -> TrimFill:
    """``trimfill(rma(yi, vi, method, test))`` with the L0 estimator; ValueError for k < 2 or
    when the algorithm does not settle within ``maxiter`` rounds."""
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = len(yi)
    if k < 2:
        raise ValueError(f"trim-and-fill needs at least 2 studies (got {k})")
    side = side or _side(yi, vi, method)
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * yi, kind="stable")
    y, v = sign * yi[order], vi[order]
    k0, previous, iterations = 0, -1, 0
    se_k0, beta = 0.0, 0.0
    while k0 != previous:
        previous = k0
        iterations += 1
        if iterations > maxiter:
            raise ValueError("trim-and-fill did not converge")
        beta = _beta(y[: k - k0], v[: k - k0], method)
        centred = y - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(centred) * ranks
        sr = float(np.sum(signed[signed > 0]))
        estimate = (4 * sr - k * (k + 1)) / (2 * k - 1)
        var_sr = (
            k * (k + 1) * (2 * k + 1)
            + 10 * estimate**3
            + 27 * estimate**2
            + 17 * estimate
            - 18 * k * estimate**2
            - 18 * k * estimate
            + 6 * k**2 * estimate
        ) / 24
        se_k0 = max(0.0, 4 * float(np.sqrt(var_sr)) / (2 * k - 1)) if var_sr >= 0 else float("nan")
        k0 = max(0, int(np.round(estimate)))  # R's round: halves to even, as np.round
    if k0 == 0:
        f = rma.fit(yi, vi, method, test, level)
        return TrimFill(
            0, se_k0, side, f.estimate, f.se, f.ci_lower, f.ci_upper, f.pval, f.tau2, f.test,
            np.array([]), np.array([]),
        )  # fmt: skip
    filled_y = sign * (2 * beta - y[k - k0 :])
    filled_v = v[k - k0 :]
    f = rma.fit(np.concatenate([yi, filled_y]), np.concatenate([vi, filled_v]), method, "z", level)
    return TrimFill(
        k0, se_k0, side, f.estimate, f.se, f.ci_lower, f.ci_upper, f.pval, f.tau2, f.test,
        filled_y, filled_v,
    )  # fmt: skip
