"""The effect measures reviewflow pools, by data type, and the study outcomes ``yi``/``vi``
each one computes (metafor's ``escalc`` names and defaults).

| data type | columns | measures (default first) | reported as |
|---|---|---|---|
| proportion | events, total | PLO, PFT, PAS, PR, PLN | a proportion (analysis.py) |
| binary (two groups) | events1, total1, events2, total2 | RR, OR, RD, PETO | exp(·) for RR, OR, PETO |
| continuous (two groups) | mean1, sd1, n1, mean2, sd2, n2 | MD, SMD, ROM | exp(·) for ROM |
| mean (one group) | mean, sd, n | MN, MNLN | exp(·) for MNLN |
| generic | yi + vi or sei, or estimate + ci_lower + ci_upper | GEN | exp(·) with transform "exp" |

Generic inverse variance from a printed estimate and CI (what RevMan users enter): on the
model scale yi = estimate and SE = (upper − lower)/(2·z), z the normal quantile of the CI's
level; with ``ci_scale="ratio"`` the three numbers are ratios (as papers print odds ratios)
and their logs are used, as metafor users compute them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from reviewflow.errors import InputError
from reviewflow.pooling.effects_binary import Tables, escalc_binary
from reviewflow.pooling.effects_continuous import escalc_one_mean, escalc_two_means

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Measure:
    name: str
    family: str
    label: str  # the axis label, e.g. "Risk ratio"
    exp: bool  # reported as exp(yi): a ratio, on a log axis

    @property
    def fixed_decimals(self) -> bool:
        """Ratios and SMDs are written with 2 decimals; the rest by the CI's width."""
        return self.exp or self.name == "SMD"


FAMILY_ROLES = {
    "proportion": ("events", "total"),
    "binary": ("events1", "total1", "events2", "total2"),
    "continuous": ("mean1", "sd1", "n1", "mean2", "sd2", "n2"),
    "mean": ("mean", "sd", "n"),
}
GENERIC_ROLES = (("yi", "vi"), ("yi", "sei"), ("estimate", "ci_lower", "ci_upper"))

_MEASURES = [
    Measure("PLO", "proportion", "Proportion", False),
    Measure("PFT", "proportion", "Proportion", False),
    Measure("PAS", "proportion", "Proportion", False),
    Measure("PR", "proportion", "Proportion", False),
    Measure("PLN", "proportion", "Proportion", False),
    Measure("RR", "binary", "Risk ratio", True),
    Measure("OR", "binary", "Odds ratio", True),
    Measure("RD", "binary", "Risk difference", False),
    Measure("PETO", "binary", "Peto odds ratio", True),
    Measure("MD", "continuous", "Mean difference", False),
    Measure("SMD", "continuous", "Standardised mean difference (Hedges' g)", False),
    Measure("ROM", "continuous", "Ratio of means", True),
    Measure("MN", "mean", "Mean", False),
    Measure("MNLN", "mean", "Mean (pooled on the log scale)", True),
    Measure("GEN", "generic", "Estimate", False),
]
MEASURES = {m.name: m for m in _MEASURES}
DEFAULT_MEASURE = {
    "proportion": "PLO",
    "binary": "RR",
    "continuous": "MD",
    "mean": "MN",
    "generic": "GEN",
}


def measure_info(name: str, transform: str = "none") -> Measure:
    """The measure; GEN with ``transform="exp"`` is a ratio."""
    m = MEASURES[name.upper()]
    if m.name == "GEN" and transform == "exp":
        return Measure("GEN", "generic", "Ratio", True)
    return m


def family_of(roles: Mapping[str, str]) -> str:
    """The data type from the columns given (role → column); InputError when they mix or
    are incomplete."""
    given = set(roles)
    for family, needed in FAMILY_ROLES.items():
        if given & set(needed):
            if given != set(needed):
                missing = [r for r in needed if r not in given]
                other = sorted(given - set(needed))
                if missing:
                    raise InputError(
                        f"pool: {family} data need {' '.join('--' + r for r in needed)} "
                        f"(missing {', '.join('--' + r for r in missing)})"
                    )
                raise InputError(
                    f"pool: {', '.join('--' + r.replace('_', '-') for r in other)} "
                    f"do not go with {' '.join('--' + r for r in needed)}"
                )
            return family
    for option in GENERIC_ROLES:
        if given == set(option):
            return "generic"
    if given:
        raise InputError(
            "pool: generic data need --yi with --vi or --sei, or --estimate --ci-lower "
            f"--ci-upper (got {', '.join('--' + r.replace('_', '-') for r in sorted(given))})"
        )
    raise InputError(
        "pool: say which columns hold the data: --events/--total (proportions), "
        "--events1/--total1/--events2/--total2, --mean1/--sd1/--n1/--mean2/--sd2/--n2, "
        "--mean/--sd/--n, or --yi with --vi or --sei"
    )


def resolve_measure(family: str, measure: str | None) -> str:
    """The measure for the data type (its default when None); InputError when it does not fit."""
    if measure is None:
        return DEFAULT_MEASURE[family]
    name = measure.upper()
    if name not in MEASURES:
        raise InputError(f"unknown measure {measure!r}; choose {', '.join(MEASURES)}")
    if MEASURES[name].family != family:
        fitting = ", ".join(m.name for m in _MEASURES if m.family == family)
        needs = " ".join("--" + r for r in FAMILY_ROLES.get(MEASURES[name].family, ("yi", "vi")))
        raise InputError(
            f"pool: --measure {name} needs {needs}; for these columns choose {fitting}"
        )
    return name


def tables_of(frame: pd.DataFrame) -> Tables:
    return Tables.from_counts(
        frame["events1"].to_numpy(float),
        frame["total1"].to_numpy(float),
        frame["events2"].to_numpy(float),
        frame["total2"].to_numpy(float),
    )


def study_outcomes(
    measure: str,
    frame: pd.DataFrame,
    source: str,
    ci_scale: str = "model",
    level: float = 0.95,
    header_lines: int | None = None,
) -> tuple[FloatArray, FloatArray, list[str | None]]:
    """``yi``, ``vi`` per study of a checked table, and for each study that cannot be computed
    (NaN) the reason; InputError where metafor would stop (a negative mean for MNLN, a
    sampling variance of 0)."""
    family = MEASURES[measure].family
    rows = frame["row"].to_numpy()

    def at(i: int) -> str:  # "file.csv: row 3 (line 4)"
        line = f" (line {rows[i] + header_lines})" if header_lines is not None else ""
        return f"{source}: row {rows[i]}{line}"

    def col(name: str) -> FloatArray:
        return frame[name].to_numpy(dtype=float)

    if family == "binary":
        yi, vi = escalc_binary(measure, tables_of(frame))
    elif family == "continuous":
        yi, vi = escalc_two_means(
            measure, col("mean1"), col("sd1"), col("n1"), col("mean2"), col("sd2"), col("n2")
        )
    elif family == "mean":
        if measure == "MNLN" and np.any(col("mean") < 0):
            raise InputError(f"{at(int(np.argmax(col('mean') < 0)))}: MNLN needs means ≥ 0")
        yi, vi = escalc_one_mean(measure, col("mean"), col("sd"), col("n"))
    else:
        yi, vi = _generic(frame, at, ci_scale, level)
    zero = vi == 0
    if np.any(zero):
        raise InputError(
            f"{at(int(np.argmax(zero)))}: the study's sampling variance is 0 (SD 0), "
            "it cannot be weighted"
        )
    reasons = [None if np.isfinite(y) else _why(measure) for y in yi]
    return yi, vi, reasons


def _why(measure: str) -> str:
    return {
        "ROM": "log ratio of means undefined (a mean is 0 or the means have opposite signs)",
        "SMD": "Hedges' g undefined (n1 + n2 ≤ 3)",
        "MNLN": "log mean undefined (mean 0)",
    }.get(measure, f"{measure} undefined for this study")


def _generic(
    frame: pd.DataFrame, at: Callable[[int], str], ci_scale: str, level: float
) -> tuple[FloatArray, FloatArray]:
    if "yi" in frame.columns:
        yi = frame["yi"].to_numpy(dtype=float)
        if "vi" in frame.columns:
            return yi, frame["vi"].to_numpy(dtype=float)
        return yi, frame["sei"].to_numpy(dtype=float) ** 2
    est, low, high = (frame[c].to_numpy(dtype=float) for c in ("estimate", "ci_lower", "ci_upper"))
    for i in range(len(est)):
        if not low[i] <= est[i] <= high[i]:
            raise InputError(
                f"{at(i)}: the estimate {est[i]:g} is not inside its CI {low[i]:g} to {high[i]:g}"
            )
        if low[i] == high[i]:
            raise InputError(f"{at(i)}: the CI has no width ({low[i]:g} to {high[i]:g})")
        if ci_scale == "ratio" and low[i] <= 0:
            raise InputError(
                f"{at(i)}: a ratio and its CI must be positive (got {low[i]:g}); "
                "give --ci-scale model for values on the log scale"
            )
    if ci_scale == "ratio":
        est, low, high = np.log(est), np.log(low), np.log(high)
    z = float(stats.norm.isf((1 - level) / 2))
    sei = (high - low) / (2 * z)
    return est, sei**2


def to_reporting(measure: Measure, values: FloatArray | float) -> FloatArray:
    """From the model scale to the scale a reader sees (exp for ratios)."""
    y = np.asarray(values, dtype=float)
    return np.exp(y) if measure.exp else y
