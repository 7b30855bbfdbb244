"""Numbers the way papers write them: ``43% (95% CI 34% to 53%)``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from reviewflow.pooling.analysis import PooledResult, SubgroupResult

if TYPE_CHECKING:
    from reviewflow.pooling.effect_analysis import EffectResult


def percent_decimals(p: float) -> int:
    """0 decimals for 10–90 %, 1 for 1–10 % (and 90–99 %), 2 closer to 0 or 1."""
    distance = min(p, 1 - p)
    if distance >= 0.1:
        return 0
    if distance >= 0.01:
        return 1
    return 2


def percent(p: float, decimals: int) -> str:
    value = round(100 * p, decimals)
    return f"{value + 0.0:.{decimals}f}%"  # + 0.0 turns -0.0 into 0.0


def format_proportion(
    estimate: float,
    lower: float,
    upper: float,
    level: float = 0.95,
    decimals: int | None = None,
    label: str = "CI",
) -> str:
    """``43% (95% CI 34% to 53%)``; decimals chosen from the estimate unless given."""
    d = percent_decimals(estimate) if decimals is None else decimals
    return (
        f"{percent(estimate, d)} ({round(100 * level):g}% {label} "
        f"{percent(lower, d)} to {percent(upper, d)})"
    )


def format_result(result: PooledResult, decimals: int | None = None) -> str:
    """The pooled sentence: estimate, CI, prediction interval."""
    d = percent_decimals(result.estimate) if decimals is None else decimals
    text = format_proportion(result.estimate, result.ci_lower, result.ci_upper, result.level, d)
    if result.method != "EE":
        text += (
            f"; {round(100 * result.level):g}% prediction interval "
            f"{percent(result.pi_lower, d)} to {percent(result.pi_upper, d)}"
        )
    return text


def format_heterogeneity(result: PooledResult | EffectResult) -> str:
    """``I² = 68%, τ² = 0.59, Q = 40.3 (df = 13), p < 0.001`` (LRT for the GLMM; no τ² for
    the Mantel–Haenszel and Peto methods)."""
    parts = []
    if result.method != "EE":
        parts.append(f"I² = {result.i2:.0f}%")
    if result.method not in ("EE", "MH", "PETO"):
        parts.append(f"τ² = {format_tau2(result.tau2)}")
    label = "Q" if result.q_kind == "Q" else "LRT"
    parts.append(f"{label} = {result.q:.2f} (df = {result.q_df}), {format_p(result.q_pval)}")
    return ", ".join(parts)


def format_tau2(tau2: float) -> str:
    if tau2 == 0:
        return "0"
    if tau2 >= 0.01:
        return f"{tau2:.2f}"
    return f"{tau2:.2g}"


def format_p(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def format_subgroups(result: SubgroupResult, decimals: int | None = None) -> list[str]:  # type: ignore[type-arg]
    lines = []
    for name, group in result.groups:
        text = (
            format_result(group, decimals)
            if isinstance(group, PooledResult)
            else format_effect_result(group, decimals)
        )
        lines.append(f"{name} (k = {group.k}): {text}")
    lines.append(
        f"Test for subgroup differences: Q = {result.q_between:.2f} "
        f"(df = {result.q_between_df}), {format_p(result.q_between_pval)}"
    )
    return lines


def effect_decimals(lower: float, upper: float, fixed: bool) -> int:
    """Decimals for an effect and its CI: 2 for ratios and SMDs (``fixed``, as RevMan); for
    differences and means enough to show the CI's width with two significant digits (0–4)."""
    if fixed:
        return 2
    width = abs(upper - lower)
    if not math.isfinite(width) or width == 0:
        return 2
    return min(4, max(0, 1 - math.floor(math.log10(width))))


def number(value: float, decimals: int) -> str:
    """A number with fixed decimals, −0 shown as 0 and a true minus sign."""
    text = f"{round(value, decimals) + 0.0:.{decimals}f}"
    return text.replace("-", "−")


def format_effect(
    estimate: float,
    lower: float,
    upper: float,
    level: float = 0.95,
    decimals: int = 2,
    label: str = "CI",
) -> str:
    """``0.49 (95% CI 0.34 to 0.70)``."""
    return (
        f"{number(estimate, decimals)} ({round(100 * level):g}% {label} "
        f"{number(lower, decimals)} to {number(upper, decimals)})"
    )


def format_effect_result(
    result: EffectResult, decimals: int | None = None, with_p: bool = False
) -> str:
    """The pooled sentence of an effect measure: estimate, CI, [p,] prediction interval."""
    d = _decimals(result) if decimals is None else decimals
    text = format_effect(result.estimate, result.ci_lower, result.ci_upper, result.level, d)
    if with_p:
        text += f", {format_p(result.pval)}"
    if result.method not in ("EE", "MH", "PETO"):
        text += (
            f"; {round(100 * result.level):g}% prediction interval "
            f"{number(result.pi_lower, d)} to {number(result.pi_upper, d)}"
        )
    return text


def _decimals(result: EffectResult) -> int:
    return effect_decimals(result.ci_lower, result.ci_upper, result.info.fixed_decimals)
