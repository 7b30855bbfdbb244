"""Common-effect pooling of 2×2 tables without study variances: Mantel–Haenszel
(``metafor::rma.mh``) for OR, RR and RD, and Peto's one-step odds ratio (``rma.peto``).

metafor's defaults throughout: the pooled estimate uses the tables as they are (no continuity
correction, ``add=c(1/2, 0)``, ``to=c("only0", "none")``); the heterogeneity test, I² and H²
use each study's escalc outcome (with the 1/2 correction), leaving out studies with no events
in both groups or only events in both (``drop00=c(TRUE, FALSE)``): those studies stay in the
estimate (for RD they carry weight) but not in Q. MH standard errors: Robins–Breslow–Greenland
(OR), Greenland–Robins (RR, RD); OR also gives the Cochran–Mantel–Haenszel test and Tarone's
test of homogeneity of the odds ratios (metafor's ``MH`` and ``TA``; CMH with its continuity
correction, ``correct=TRUE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from reviewflow.pooling.effects_binary import Tables, escalc_binary, peto_parts

FloatArray = NDArray[np.float64]
MH_MEASURES = ("OR", "RR", "RD")


@dataclass(frozen=True)
class TableFit:
    """A pooled log OR / log RR / RD (the measure's scale) from the tables."""

    method: str  # "MH" or "PETO"
    measure: str
    k: int  # tables in the estimate
    k_yi: int  # studies in the heterogeneity test
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pval: float
    q: float
    q_df: int
    q_pval: float
    i2: float
    h2: float
    weights: FloatArray  # percent, one per table
    yi: FloatArray  # escalc outcomes (NaN for a study not in Q)
    vi: FloatArray
    cmh: float | None = None
    cmh_pval: float | None = None
    tarone: float | None = None
    tarone_pval: float | None = None


def _table_fit(
    method: str,
    measure: str,
    beta: float,
    se: float,
    q: float,
    weights: FloatArray,
    yi: FloatArray,
    vi: FloatArray,
    level: float,
    testable: bool = True,
    extra: dict[str, float | None] | None = None,
) -> TableFit:
    """The z-based CI and p of ``beta``, and Q's p-value, I² = (Q − df)/Q and H² = Q/df on the
    studies with an outcome (``testable``: Peto's Q needs two tables with variance)."""
    k_yi = int(np.sum(~np.isnan(yi)))
    if k_yi > 1 and testable:
        q_pval = float(stats.chi2.sf(q, k_yi - 1))
        # Q = 0 (studies with identical estimates): metafor's max(0, -Inf), I² = 0
        i2 = max(0.0, 100 * (q - (k_yi - 1)) / q) if q > 0 else 0.0
        h2 = q / (k_yi - 1)
    else:
        q_pval, i2, h2 = 1.0, 0.0, 1.0
    crit = float(stats.norm.isf((1 - level) / 2))
    return TableFit(
        method=method,
        measure=measure,
        k=len(yi),
        k_yi=k_yi,
        estimate=beta,
        se=se,
        ci_lower=beta - crit * se,
        ci_upper=beta + crit * se,
        pval=float(2 * stats.norm.sf(abs(beta / se))),
        q=q,
        q_df=max(k_yi - 1, 0),
        q_pval=q_pval,
        i2=float(i2),
        h2=float(h2),
        weights=100 * weights / np.sum(weights),
        yi=yi,
        vi=vi,
        **(extra or {}),  # type: ignore[arg-type]
    )


def mantel_haenszel(tables: Tables, measure: str = "OR", level: float = 0.95) -> TableFit:
    """``rma.mh(ai, bi, ci, di, measure)``; ValueError when the estimate is not defined
    (OR: no events, or no non-events, on one side of every table; RR: no events in a group)."""
    measure = measure.upper()
    if measure not in MH_MEASURES:
        raise ValueError(f"Mantel–Haenszel pools OR, RR or RD, not {measure}")
    k = len(tables.ai)
    if k < 1:
        raise ValueError("no studies")
    yi, vi = escalc_binary(measure, tables, add=0.5, drop00=True)
    ai, bi, ci, di = tables.ai, tables.bi, tables.ci, tables.di
    n1, n2 = tables.n1, tables.n2
    ni = n1 + n2
    extra: dict[str, float | None] = {}
    if measure == "OR":
        pi_, qi = ai / ni + di / ni, bi / ni + ci / ni
        ri, si = (ai / ni) * di, (bi / ni) * ci
        r, s = float(np.sum(ri)), float(np.sum(si))
        if r == 0 or s == 0:
            raise ValueError("the Mantel–Haenszel odds ratio is not defined (a zero margin)")
        beta = float(np.log(r / s))
        se = float(
            np.sqrt(
                0.5
                * (
                    np.sum(pi_ * ri) / r**2
                    + np.sum(pi_ * si + qi * ri) / (r * s)
                    + np.sum(qi * si) / s**2
                )
            )
        )
        extra = _or_tests(tables, r / s)
        weights = si
    elif measure == "RR":
        r, s = float(np.sum(ai * (n2 / ni))), float(np.sum(ci * (n1 / ni)))
        if np.sum(ai) == 0 or np.sum(ci) == 0:
            raise ValueError("the Mantel–Haenszel risk ratio is not defined (no events in a group)")
        beta = float(np.log(r / s))
        se = float(np.sqrt(np.sum((n1 / ni) * (n2 / ni) * (ai + ci) - (ai / ni) * ci) / (r * s)))
        weights = ci * n1 / ni
    else:  # RD
        denom = float(np.sum(n1 * (n2 / ni)))
        beta = float(np.sum(ai * (n2 / ni) - ci * (n1 / ni)) / denom)
        se = float(
            np.sqrt(
                (
                    beta
                    * np.sum(
                        ci * (n1 / ni) ** 2
                        - ai * (n2 / ni) ** 2
                        + (n1 / ni) * (n2 / ni) * (n2 - n1) / 2
                    )
                    + np.sum(ai * (n2 - ci) / ni + ci * (n1 - ai) / ni) / 2
                )
                / denom**2
            )
        )
        weights = n1 * n2 / ni
    keep = ~np.isnan(yi)
    q = max(0.0, float(np.sum((yi[keep] - beta) ** 2 / vi[keep]))) if keep.any() else 0.0
    return _table_fit("MH", measure, beta, se, q, weights, yi, vi, level, extra=extra)


def _or_tests(tables: Tables, or_mh: float) -> dict[str, float | None]:
    """The CMH test (with continuity correction) and Tarone's test, as rma.mh computes them."""
    ai, bi, ci, di = tables.ai, tables.bi, tables.ci, tables.di
    n1, n2 = tables.n1, tables.n2
    ni = n1 + n2
    xt, yt = ai + ci, bi + di
    out: dict[str, float | None] = {}
    if np.sum(xt) > 0 and np.sum(yt) > 0:
        cmh = (abs(float(np.sum(ai - (n1 / ni) * xt))) - 0.5) ** 2 / float(
            np.sum((n1 / ni) * (n2 / ni) * (xt * (yt / (ni - 1))))
        )
        out.update(cmh=cmh, cmh_pval=float(stats.chi2.sf(cmh, 1)))
    if or_mh == 1:
        n11 = (n1 / ni) * xt
    else:
        a = or_mh * (n1 + xt) + (n2 - xt)
        b = np.sqrt(a**2 - 4 * n1 * xt * or_mh * (or_mh - 1))
        n11 = (a - b) / (2 * (or_mh - 1))
    pos = (n11 > 0) & (xt > 0) & (yt > 0)
    n11 = n11[pos]
    n12 = n1[pos] - n11
    n21 = xt[pos] - n11
    n22 = n11 - n1[pos] - xt[pos] + ni[pos]
    inv = 1 / (1 / n11 + 1 / n12 + 1 / n21 + 1 / n22)
    bd = max(0.0, float(np.sum((ai[pos] - n11) ** 2 / inv)))
    tarone = max(0.0, bd - float(np.sum(ai[pos] - n11)) ** 2 / float(np.sum(inv)))
    k_pos = int(np.sum(pos))
    out["tarone"] = tarone
    out["tarone_pval"] = float(stats.chi2.sf(tarone, k_pos - 1)) if k_pos > 1 else None
    return out


def peto(tables: Tables, level: float = 0.95) -> TableFit:
    """``rma.peto(ai, bi, ci, di)``: the log odds ratio sum(O − E)/sum(V), variance 1/sum(V)."""
    k = len(tables.ai)
    if k < 1:
        raise ValueError("no studies")
    yi, vi = escalc_binary("PETO", tables, add=0.5, drop00=True)
    o_e, v = peto_parts(tables.ai, tables.bi, tables.ci, tables.di)
    v = np.nan_to_num(v, nan=0.0, posinf=0.0)
    total_v = float(np.sum(v))
    if total_v == 0:
        raise ValueError(
            "one of the two outcomes never occurred in any table: Peto's method cannot be used"
        )
    beta = float(np.sum(o_e) / total_v)
    se = float(np.sqrt(1 / total_v))
    pos = v > 0
    q = max(0.0, float(np.sum(o_e[pos] ** 2 / v[pos]) - np.sum(o_e) ** 2 / total_v))
    return _table_fit("PETO", "PETO", beta, se, q, v, yi, vi, level, testable=int(np.sum(pos)) > 1)
