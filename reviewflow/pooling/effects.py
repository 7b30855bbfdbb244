"""Study-level effect sizes for proportions, as metafor's ``escalc`` computes them.

Measures (metafor's names): PLO (logit), PFT (Freeman–Tukey double arcsine), PAS (arcsine square
root), PR (raw proportion), PLN (log proportion). The continuity correction is metafor's default,
``add=1/2, to="only0"``: a study with zero events or with every patient an event gets 1/2 added to
its events and its non-events (so its total grows by 1); other studies are left alone. metafor
applies no correction for PFT and PAS (both are defined at 0 and 1); PR is corrected.

Study confidence intervals for the forest plot and the table are exact (Clopper–Pearson) by
default, or Wilson score intervals, computed on the counts themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

MEASURES = ("PLO", "PFT", "PAS", "PR", "PLN")
# metafor's escalc sets add=0 for these two (they are defined at 0 and 1).
_NO_CORRECTION = frozenset({"PFT", "PAS"})

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class EffectSizes:
    """One value per study: the transformed proportion ``yi`` and its sampling variance ``vi``."""

    measure: str
    yi: FloatArray
    vi: FloatArray
    events: FloatArray  # the counts as given (no correction)
    total: FloatArray


def escalc(
    measure: str,
    events: Sequence[float] | FloatArray,
    total: Sequence[float] | FloatArray,
    add: float = 0.5,
) -> EffectSizes:
    """Effect sizes and sampling variances, exactly as ``metafor::escalc(measure, xi, ni)``.

    ``add`` is the continuity correction applied, ``to="only0"``, for PLO and PLN.
    Raises ``ValueError`` for a measure that is not defined for a study (PLN or PLO with a
    correction of 0 and a zero cell); the caller validates the counts first.
    """
    measure = measure.upper()
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")
    x = np.asarray(events, dtype=float)
    n = np.asarray(total, dtype=float)
    xi = x.copy()
    mi = n - x
    if measure not in _NO_CORRECTION and add > 0:
        zero_cell = (xi == 0) | (mi == 0)
        xi = np.where(zero_cell, xi + add, xi)
        mi = np.where(zero_cell, mi + add, mi)
    ni = xi + mi
    pi = xi / ni
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PR":
            yi = pi
            vi = pi * (1 - pi) / ni
        elif measure == "PLN":
            yi = np.log(pi)
            vi = 1 / xi - 1 / ni
        elif measure == "PLO":
            yi = np.log(xi / mi)
            vi = 1 / xi + 1 / mi
        elif measure == "PAS":
            yi = np.arcsin(np.sqrt(pi))
            vi = 1 / (4 * ni)
        else:  # PFT
            yi = 0.5 * (np.arcsin(np.sqrt(xi / (ni + 1))) + np.arcsin(np.sqrt((xi + 1) / (ni + 1))))
            vi = 1 / (4 * ni + 2)
    if not (np.all(np.isfinite(yi)) and np.all(np.isfinite(vi))):
        raise ValueError(f"measure {measure} is undefined for a study with 0 events or all events")
    return EffectSizes(measure=measure, yi=yi, vi=vi, events=x, total=n)


def back_transform(
    measure: str,
    values: FloatArray | float,
    total: FloatArray | None = None,
) -> FloatArray:
    """From the measure's scale back to a proportion, clipped to [0, 1].

    PFT uses metafor's ``transf.ipft.hm``: the inverse of the double arcsine at the harmonic
    mean of the studies' sample sizes ``total``.
    """
    measure = measure.upper()
    y = np.asarray(values, dtype=float)
    if measure == "PR":
        p = y
    elif measure == "PLN":
        p = np.exp(y)
    elif measure == "PLO":
        p = 1 / (1 + np.exp(-y))
    elif measure == "PAS":
        p = np.sin(np.clip(y, 0, np.pi / 2)) ** 2
    elif measure == "PFT":
        if total is None:
            raise ValueError("PFT back-transformation needs the studies' sample sizes")
        n_hm = len(total) / np.sum(1 / np.asarray(total, dtype=float))
        p = ipft(y, n_hm)
    else:
        raise ValueError(f"unknown measure {measure!r}")
    return np.clip(p, 0.0, 1.0)


def ipft(y: FloatArray, n: float) -> FloatArray:
    """Inverse Freeman–Tukey double arcsine at sample size ``n`` (Miller 1978), as
    metafor's ``transf.ipft``: 0 below the value for 0 events, 1 above the value for n events."""
    y = np.asarray(y, dtype=float)
    s = np.sin(2 * y)
    with np.errstate(invalid="ignore", divide="ignore"):
        inner = 1 - (s + (s - 1 / s) / n) ** 2
        p = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(np.maximum(inner, 0)))
    low = y < np.arcsin(np.sqrt(1 / (n + 1))) / 2  # below the transform of 0 events
    high = y > np.pi / 2 - np.arcsin(np.sqrt(1 / (n + 1))) / 2  # above that of n events
    p = np.where(low, 0.0, np.where(high, 1.0, p))
    return np.asarray(p, dtype=float)


def clopper_pearson(
    events: FloatArray,
    total: FloatArray,
    level: float = 0.95,
) -> tuple[FloatArray, FloatArray]:
    """Exact binomial interval (as R's ``binom.test``): beta quantiles; 0 and 1 at the ends."""
    x = np.asarray(events, dtype=float)
    n = np.asarray(total, dtype=float)
    alpha = 1 - level
    with np.errstate(invalid="ignore"):
        lower = np.where(x > 0, stats.beta.ppf(alpha / 2, x, n - x + 1), 0.0)
        upper = np.where(x < n, stats.beta.ppf(1 - alpha / 2, x + 1, n - x), 1.0)
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


def wilson(
    events: FloatArray,
    total: FloatArray,
    level: float = 0.95,
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval without continuity correction (R's ``prop.test(correct=FALSE)``)."""
    x = np.asarray(events, dtype=float)
    n = np.asarray(total, dtype=float)
    z = stats.norm.ppf(1 - (1 - level) / 2)
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return np.maximum(centre - half, 0.0), np.minimum(centre + half, 1.0)


STUDY_INTERVALS = {"clopper-pearson": clopper_pearson, "wilson": wilson}
