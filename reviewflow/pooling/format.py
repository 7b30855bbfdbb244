"""Numbers the way papers write them: ``43% (95% CI 34% to 53%)``."""

from __future__ import annotations

from reviewflow.pooling.analysis import PooledResult, SubgroupResult


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


def format_heterogeneity(result: PooledResult) -> str:
    """``I² = 68%, τ² = 0.59, Q = 40.3 (df = 13), p < 0.001`` (LRT for the GLMM)."""
    parts = []
    if result.method != "EE":
        parts += [f"I² = {result.i2:.0f}%", f"τ² = {format_tau2(result.tau2)}"]
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


def format_subgroups(result: SubgroupResult, decimals: int | None = None) -> list[str]:
    lines = []
    for name, group in result.groups:
        lines.append(f"{name} (k = {group.k}): {format_result(group, decimals)}")
    lines.append(
        f"Test for subgroup differences: Q = {result.q_between:.2f} "
        f"(df = {result.q_between_df}), {format_p(result.q_between_pval)}"
    )
    return lines
