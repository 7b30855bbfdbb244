"""Continuous outcomes (mean, SD, n), as ``metafor::escalc`` computes them.

Two groups: MD (raw mean difference, m1 − m2, variance sd1²/n1 + sd2²/n2: metafor's default
vtype "LS", no equal-variance assumption), SMD (Hedges' g: the difference over the pooled SD,
times the exact small-sample correction Γ(m/2)/(√(m/2) Γ((m−1)/2)) with m = n1 + n2 − 2, and
variance 1/n1 + 1/n2 + g²/(2(n1 + n2))), ROM (log ratio of means, log(m1/m2), variance
sd1²/(n1 m1²) + sd2²/(n2 m2²)). One group: MN (the mean, variance sd²/n) and MNLN (the log
mean, variance sd²/(n m²)).

A study whose measure is not defined comes back as NaN, as in metafor (which then leaves it
out of the model): ROM when m1/m2 ≤ 0, SMD when n1 + n2 ≤ 3, MNLN when the mean is 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import special

TWO_GROUP_MEASURES = ("MD", "SMD", "ROM")
ONE_GROUP_MEASURES = ("MN", "MNLN")

FloatArray = NDArray[np.float64]


def hedges_correction(m: FloatArray) -> FloatArray:
    """metafor's ``.cmicalc``: exact bias correction of d with m degrees of freedom (NaN for
    m ≤ 1)."""
    m = np.asarray(m, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.exp(special.gammaln(m / 2) - np.log(np.sqrt(m / 2)) - special.gammaln((m - 1) / 2))
    return np.where(m <= 1, np.nan, c)


def escalc_two_means(
    measure: str,
    mean1: FloatArray,
    sd1: FloatArray,
    n1: FloatArray,
    mean2: FloatArray,
    sd2: FloatArray,
    n2: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """``yi`` and ``vi`` as ``escalc(measure, m1i, sd1i, n1i, m2i, sd2i, n2i)``."""
    measure = measure.upper()
    m1, s1, k1, m2, s2, k2 = (np.asarray(a, dtype=float) for a in (mean1, sd1, n1, mean2, sd2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "MD":
            yi = m1 - m2
            vi = s1**2 / k1 + s2**2 / k2
        elif measure == "SMD":
            m = k1 + k2 - 2
            sdp = np.sqrt(((k1 - 1) * s1**2 + (k2 - 1) * s2**2) / m)
            yi = hedges_correction(m) * (m1 - m2) / sdp
            vi = 1 / k1 + 1 / k2 + yi**2 / (2 * (k1 + k2))
        elif measure == "ROM":
            yi = np.log(m1 / m2)
            vi = s1**2 / (k1 * m1**2) + s2**2 / (k2 * m2**2)
        else:
            raise ValueError(f"unknown measure {measure!r}; choose MD, SMD or ROM")
    return _undefined_to_nan(yi, vi)


def escalc_one_mean(
    measure: str, mean: FloatArray, sd: FloatArray, n: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``yi`` and ``vi`` as ``escalc(measure, mi, sdi, ni)`` for MN and MNLN."""
    measure = measure.upper()
    m, s, k = (np.asarray(a, dtype=float) for a in (mean, sd, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "MN":
            yi = m
            vi = s**2 / k
        elif measure == "MNLN":
            yi = np.log(m)
            vi = s**2 / (k * m**2)
        else:
            raise ValueError(f"unknown measure {measure!r}; choose MN or MNLN")
    return _undefined_to_nan(yi, vi)


def _undefined_to_nan(yi: FloatArray, vi: FloatArray) -> tuple[FloatArray, FloatArray]:
    bad = ~(np.isfinite(yi) & np.isfinite(vi))
    return (
        np.asarray(np.where(bad, np.nan, yi), dtype=float),
        np.asarray(np.where(bad, np.nan, vi), dtype=float),
    )
