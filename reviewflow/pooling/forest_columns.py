"""What the forest plot shows for each kind of result: its data columns, the estimate and
weight columns, and the axis (percent for proportions; a log axis with a line of no effect at
1 for ratios; a linear axis with a line at 0 for differences and generic estimates; none for a
one-group mean)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from reviewflow.pooling.analysis import PooledResult
from reviewflow.pooling.effect_analysis import EffectResult
from reviewflow.pooling.forest import Axis, Column, Layout
from reviewflow.pooling.format import effect_decimals, number, percent, percent_decimals

_COUNT_W, _CI_W, _WEIGHT_W = 0.65, 1.95, 0.75
_GROUPS = {"1": "Experimental", "2": "Control"}


def _weight_column() -> Column:
    return Column(
        "Weight",
        _WEIGHT_W,
        lambda s: f"{s.weight:.1f}%",
        lambda studies, _r: f"{sum(s.weight for s in studies):.1f}%",
    )


def _value(role: str) -> Callable[[Any], str]:
    return lambda s: f"{s.data[role]:g}"


def _sum(role: str) -> Callable[[Sequence[Any], Any], str]:
    return lambda studies, _r: f"{sum(s.data[role] for s in studies):g}"


def layout_for(result: Any, groups: Sequence[str] = ()) -> Layout:
    """The layout of a result; ``groups`` names the two groups of a two-group measure
    (default Experimental, Control)."""
    if isinstance(result, PooledResult):
        return _proportions(result)
    assert isinstance(result, EffectResult)
    return _effects(result, dict(zip(("1", "2"), groups, strict=True)) if groups else _GROUPS)


def _proportions(result: PooledResult) -> Layout:
    d = percent_decimals(result.estimate)

    def ci(estimate: float, low: float, high: float) -> str:
        return f"{percent(estimate, d)} [{percent(low, d)}; {percent(high, d)}]"

    data = [
        Column("Events", _COUNT_W, lambda s: f"{s.events}",
               lambda st, _r: f"{sum(s.events for s in st)}"),
        Column("Total", _COUNT_W, lambda s: f"{s.total}",
               lambda st, _r: f"{sum(s.total for s in st)}"),
    ]  # fmt: skip
    results = [
        Column(
            f"Proportion [{round(100 * result.level):g}% CI]",
            _CI_W,
            lambda s: ci(s.proportion, s.ci_lower, s.ci_upper),
            lambda _st, r: ci(r.estimate, r.ci_lower, r.ci_upper),
        ),
        _weight_column(),
    ]
    lows = [s.ci_lower for s in result.studies] + [result.pi_lower, result.ci_lower]
    highs = [s.ci_upper for s in result.studies] + [result.pi_upper, result.ci_upper]
    low, high, step = _percent_limits(max(0.0, min(lows)), min(1.0, max(highs)))
    ticks = tuple(np.round(np.arange(low, high + step / 2, step), 10))
    axis = Axis(False, None, "Proportion", low, high, ticks, lambda v: f"{100 * v:.0f}%")
    return Layout(
        data,
        results,
        lambda s: (s.proportion, s.ci_lower, s.ci_upper),
        axis,
        lambda s: (s.study, s.events, s.total),
        lambda low, high: f"[{percent(low, d)}; {percent(high, d)}]",
    )


def _percent_limits(lowest: float, highest: float) -> tuple[float, float, float]:
    """From a multiple of a round step below the lowest bound to one above the highest
    (within 0–100%), with 2–6 intervals: (low, high, step)."""
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25):
        low = max(0.0, math.floor(lowest / step + 1e-9) * step)
        high = min(1.0, math.ceil(highest / step - 1e-9) * step)
        if high - low <= 6 * step + 1e-9:
            break
    if high - low < 2 * step - 1e-9:  # at least two intervals
        high = min(1.0, low + 2 * step)
        low = max(0.0, high - 2 * step)
    return low, high, step


def _data_columns(result: EffectResult, names: dict[str, str]) -> list[Column]:
    if result.family == "binary":
        return [
            Column(head, _COUNT_W, _value(role), _sum(role), group=names[g])
            for g in ("1", "2")
            for head, role in (("Events", f"events{g}"), ("Total", f"total{g}"))
        ]
    if result.family in ("continuous", "mean"):
        suffixes = ("1", "2") if result.family == "continuous" else ("",)
        columns = []
        for g in suffixes:
            for head, role in (("Mean", f"mean{g}"), ("SD", f"sd{g}"), ("N", f"n{g}")):
                columns.append(
                    Column(
                        head,
                        0.6,
                        _value(role),
                        _sum(role) if head == "N" else None,
                        group=names.get(g, ""),
                    )
                )
        return columns
    return [
        Column("yi", 0.65, lambda s: number(s.yi, 3) if s.yi is not None else ""),
        Column("SE", 0.65, lambda s: number(math.sqrt(s.vi), 3) if s.vi is not None else ""),
    ]


def _effects(result: EffectResult, names: dict[str, str]) -> Layout:
    info = result.info
    d = effect_decimals(result.ci_lower, result.ci_upper, info.fixed_decimals)

    def ci(estimate: float | None, low: float | None, high: float | None) -> str:
        if estimate is None or low is None or high is None:
            return "not estimable"
        return f"{number(estimate, d)} [{number(low, d)}; {number(high, d)}]"

    label = info.label.split(" (")[0]
    results = [
        Column(
            f"{label} [{round(100 * result.level):g}% CI]",
            _CI_W + 0.2,
            lambda s: ci(s.estimate, s.ci_lower, s.ci_upper),
            lambda _st, r: ci(r.estimate, r.ci_lower, r.ci_upper),
        ),
        _weight_column(),
    ]
    null = None if result.family == "mean" else (1.0 if info.exp else 0.0)
    lows = [s.ci_lower for s in result.studies if s.ci_lower is not None]
    highs = [s.ci_upper for s in result.studies if s.ci_upper is not None]
    lows += [result.ci_lower, result.pi_lower]
    highs += [result.ci_upper, result.pi_upper]
    axis = (
        _log_axis(min(lows), max(highs), info.label)
        if info.exp
        else _linear_axis(min(lows), max(highs), null, info.label)
    )
    return Layout(
        _data_columns(result, names),
        results,
        lambda s: None if s.estimate is None else (s.estimate, s.ci_lower, s.ci_upper),
        axis,
        lambda s: (s.study, s.row),
        lambda low, high: f"[{number(low, d)}; {number(high, d)}]",
    )


LOG_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0,
              50.0, 100.0, 200.0, 500.0, 1000.0)  # fmt: skip


def _ratio_text(v: float) -> str:
    return f"{v:g}"


def _log_axis(lowest: float, highest: float, label: str) -> Axis:
    """A log axis through 1, out to the ticks just beyond the lowest and highest bounds (the
    pooled CI and PI always inside; study CIs beyond 1000-fold get arrows)."""
    lowest = max(min(lowest, 1.0), LOG_TICKS[0])
    highest = min(max(highest, 1.0), LOG_TICKS[-1])
    low = max(t for t in LOG_TICKS if t <= lowest * (1 + 1e-9))
    high = min(t for t in LOG_TICKS if t >= highest * (1 - 1e-9))
    if low == high:
        low, high = low / 2, high * 2
    ticks = [t for t in LOG_TICKS if low <= t <= high]
    if len(ticks) > 9:  # wide: an axis from power of ten to power of ten
        low = 10.0 ** math.floor(math.log10(lowest) + 1e-9)
        high = 10.0 ** math.ceil(math.log10(highest) - 1e-9)
        ticks = [t for t in LOG_TICKS if low <= t <= high and math.log10(t).is_integer()]
    return Axis(True, 1.0, label, low, high, tuple(ticks), _ratio_text)


def _linear_axis(lowest: float, highest: float, null: float | None, label: str) -> Axis:
    if null is not None:
        lowest, highest = min(lowest, null), max(highest, null)
    span = highest - lowest or abs(highest) or 1.0
    raw = span / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    low = math.floor(lowest / step + 1e-9) * step
    high = math.ceil(highest / step - 1e-9) * step
    ticks = tuple(np.round(np.arange(low, high + step / 2, step), 10))
    decimals = len(f"{step:.10f}".rstrip("0").split(".")[1])
    return Axis(False, null, label, low, high, ticks, lambda v: number(v, decimals))
