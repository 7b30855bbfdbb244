"""Meta-regression: a mixed-effects model of the study outcomes on moderators, as
``rma(yi, vi, mods = ~ m1 + m2, method, test)``.

A moderator column whose values are all numbers enters as it is; any other column is
categorical and enters as dummies (treatment coding, the first level in sorted order as the
reference, each dummy named column + level as R's ``model.matrix`` names it: ``allocrandom``).
Studies without a value for a moderator are left out of the meta-regression (metafor's
``na.omit``) and reported. The result: coefficients with SE, z (t under Knapp–Hartung), p and
CI on the model scale; QM, the test that every coefficient but the intercept is 0 (chi² with m
df, or F with m and k − p df under Knapp–Hartung); the residual tau², I², H² and the test for
residual heterogeneity QE; and R², the share of tau² the moderators account for
(metafor: max(0, 100·(tau²₀ − tau²)/tau²₀), tau²₀ from the intercept-only model on the same
studies; for a common-effect model the weighted least-squares adjusted R²).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from reviewflow.errors import InputError
from reviewflow.pooling import rma

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Moderator:
    column: str
    numeric: bool
    levels: tuple[str, ...] = ()  # categorical: every level, the reference first


@dataclass(frozen=True)
class Coefficient:
    term: str
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lower: float
    ci_upper: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "estimate": self.estimate,
            "se": self.se,
            "zval": self.zval,
            "pval": self.pval,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
        }


@dataclass(frozen=True)
class MetaRegression:
    k: int
    method: str
    test: str
    level: float
    moderators: tuple[Moderator, ...]
    coefficients: tuple[Coefficient, ...]
    vcov: FloatArray
    qm: float
    qm_df: int
    qm_df2: int | None  # the F test's second df under Knapp–Hartung
    qm_pval: float
    tau2: float  # residual
    i2: float
    h2: float
    qe: float
    qe_df: int
    qe_pval: float
    r2: float | None  # percent; None for a model without intercept-only reference
    dropped: tuple[str, ...]  # studies without a moderator value
    used: NDArray[np.bool_]  # which studies of the pooled table are in the model
    X: FloatArray  # the model matrix, names in ``terms``
    terms: tuple[str, ...]
    yi: FloatArray  # the studies in the model
    vi: FloatArray

    def to_dict(self) -> dict[str, Any]:
        """The keys the ``--json`` object gains with ``--moderator``."""
        return {
            "moderators": [c.to_dict() for c in self.coefficients],
            "qm": self.qm,
            "qm_df": self.qm_df,
            "qm_df2": self.qm_df2,
            "qm_pval": self.qm_pval,
            "r2": self.r2,
            "tau2_residual": self.tau2,
            "i2_residual": self.i2,
            "h2_residual": self.h2,
            "qe": self.qe,
            "qe_df": self.qe_df,
            "qe_pval": self.qe_pval,
            "k_regression": self.k,
            "moderator_test": self.test,
            "moderators_dropped": list(self.dropped),
            "moderator_columns": [
                {
                    "column": m.column,
                    "type": "numeric" if m.numeric else "categorical",
                    "levels": list(m.levels),
                }
                for m in self.moderators
            ],
        }


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def design(
    values: Mapping[str, Sequence[str | None]], source: str
) -> tuple[FloatArray, list[str], tuple[Moderator, ...], NDArray[np.bool_]]:
    """The model matrix (intercept first), its column names, the moderators, and which
    studies have every moderator value."""
    columns = list(values)
    if not columns:
        raise InputError(f"{source}: no moderator")
    k = len(values[columns[0]])
    complete = np.ones(k, dtype=bool)
    for column in columns:
        complete &= np.array([v is not None for v in values[column]])
    blocks: list[FloatArray] = [np.ones((int(complete.sum()), 1))]
    names = ["intrcpt"]
    moderators = []
    for column in columns:
        cells = [v for v, ok in zip(values[column], complete, strict=True) if ok]
        numbers = [_number(str(v)) for v in cells]
        if all(n is not None for n in numbers):
            blocks.append(np.array(numbers, dtype=float).reshape(-1, 1))
            names.append(column)
            moderators.append(Moderator(column, True))
            continue
        levels = sorted({str(v) for v in cells})
        if len(levels) < 2:
            raise InputError(f"{source}: moderator {column!r} has only one value ({levels[0]!r})")
        blocks.append(
            np.array([[1.0 if v == level else 0.0 for level in levels[1:]] for v in cells])
        )
        names += [f"{column}{level}" for level in levels[1:]]
        moderators.append(Moderator(column, False, tuple(levels)))
    return np.hstack(blocks), names, tuple(moderators), complete


def _adjusted_r2(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """``summary(lm(yi ~ X, weights = 1/vi))$adj.r.squared`` (X with its intercept)."""
    w = 1 / vi
    k, p = X.shape
    xtw = X.T * w
    beta = np.linalg.solve(xtw @ X, xtw @ yi)
    rss = float(np.sum(w * (yi - X @ beta) ** 2))
    mean = float(np.sum(w * yi) / np.sum(w))
    tss = float(np.sum(w * (yi - mean) ** 2))
    if tss == 0:
        return 0.0
    return 1 - (rss / tss) * (k - 1) / (k - p)


def meta_regression(
    yi: FloatArray,
    vi: FloatArray,
    values: Mapping[str, Sequence[str | None]],
    names: Sequence[str],
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    source: str = "study table",
) -> MetaRegression:
    """Fit the meta-regression of ``yi`` on the moderator columns in ``values`` (text cells
    per study, None when missing); ``names`` labels the studies for the report."""
    X, terms, moderators, used = design(values, source)
    y, v = np.asarray(yi, dtype=float)[used], np.asarray(vi, dtype=float)[used]
    k, p = X.shape
    try:
        fit = rma.fit_model(y, v, X, method, test, level)
    except (ValueError, ArithmeticError) as exc:
        raise InputError(f"{source}: meta-regression: {exc}") from None
    if method == "EE":
        r2: float | None = max(0.0, 100 * _adjusted_r2(y, v, X)) if np.var(y) > 0 else 0.0
    else:
        tau2_0 = rma.estimate_tau2(y, v, np.ones((k, 1)), method)[0]
        r2 = 0.0 if tau2_0 == 0 else max(0.0, 100 * (tau2_0 - fit.tau2) / tau2_0)
    coefficients = tuple(
        Coefficient(
            term=terms[j],
            estimate=float(fit.beta[j]),
            se=float(fit.se[j]),
            zval=float(fit.zval[j]),
            pval=float(fit.pval[j]),
            ci_lower=float(fit.ci_lower[j]),
            ci_upper=float(fit.ci_upper[j]),
        )
        for j in range(p)
    )
    return MetaRegression(
        k=k,
        method=fit.method,
        test=fit.test,
        level=level,
        moderators=moderators,
        coefficients=coefficients,
        vcov=fit.vcov,
        qm=fit.qm,
        qm_df=fit.qm_df,
        qm_df2=fit.df,
        qm_pval=fit.qm_pval,
        tau2=fit.tau2,
        i2=fit.i2,
        h2=fit.h2,
        qe=fit.qe,
        qe_df=k - p,
        qe_pval=fit.qe_pval,
        r2=r2,
        dropped=tuple(str(n) for n, ok in zip(names, used, strict=True) if not ok),
        used=used,
        X=X,
        terms=tuple(terms),
        yi=y,
        vi=v,
    )


def predict(reg: MetaRegression, X_new: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fitted values and their CI at new rows of the model matrix (model scale)."""
    beta = np.array([c.estimate for c in reg.coefficients])
    fitted = X_new @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", X_new, reg.vcov, X_new))
    if reg.qm_df2 is None:
        crit = float(stats.norm.isf((1 - reg.level) / 2))
    else:
        crit = float(stats.t.isf((1 - reg.level) / 2, reg.qm_df2))
    return fitted, fitted - crit * se, fitted + crit * se
