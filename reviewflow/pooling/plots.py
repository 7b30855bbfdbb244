"""Funnel and bubble plots, in the manner of metafor's ``funnel`` and ``regplot``.

Funnel: each study's outcome against its standard error (the axis reversed, most precise on
top), the pooled estimate as a vertical line and the pseudo 95% confidence region around it;
with trim-and-fill, the imputed studies as open circles and the filled estimate as a dashed
line. Bubble: the outcome against a numeric moderator, circles sized by the study's weight in
the meta-regression, the fitted line with its confidence band (other moderators held at
their means, as regplot does). Ratios are drawn on a log axis with ratio labels; everything
else on the model scale.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from numpy.typing import NDArray
from scipy import stats

from reviewflow.errors import InputError
from reviewflow.pooling.forest import _save
from reviewflow.pooling.forest_columns import LOG_TICKS
from reviewflow.pooling.regression import MetaRegression, predict
from reviewflow.pooling.small_study import TrimFill

FloatArray = NDArray[np.float64]
_INK = "#1a1a1a"
_POINT = "#4d4d4d"
_LINE = "#1f4e79"
_FILL = "#b22222"


def _check(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png", ".pdf"):
        raise InputError(f"{path}: the plot must be .svg, .png or .pdf")
    return suffix


def _x(ratio: bool) -> Callable[[Any], FloatArray]:
    return (lambda v: np.exp(v)) if ratio else (lambda v: np.asarray(v, dtype=float))


def _ratio_axis(ax: plt.Axes, axis: str) -> None:
    """A log axis labelled 0.1, 0.2, 0.5, 1, 2, … (powers of ten over wide ranges)."""
    getattr(ax, f"set_{axis}scale")("log")
    low, high = getattr(ax, f"get_{axis}lim")()
    ticks = [t for t in LOG_TICKS if low <= t <= high]
    if len(ticks) > 9:
        ticks = [t for t in ticks if np.log10(t).is_integer()]
    target = getattr(ax, f"{axis}axis")
    target.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    target.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{v:g}"))
    target.set_minor_locator(matplotlib.ticker.NullLocator())


def funnel_plot(
    yi: FloatArray,
    vi: FloatArray,
    estimate: float,
    path: Path,
    label: str,
    ratio: bool = False,
    trimfill: TrimFill | None = None,
    title: str | None = None,
    dpi: int = 200,
) -> Path:
    """Draw the funnel plot (model-scale ``yi``, ``vi`` and pooled ``estimate``)."""
    suffix = _check(path)
    show = _x(ratio)
    se = np.sqrt(np.asarray(vi, dtype=float))
    filled_se = np.sqrt(trimfill.filled_vi) if trimfill is not None and trimfill.k0 else None
    top = float(max(se.max(), filled_se.max() if filled_se is not None else 0.0)) * 1.05
    fig, ax = plt.subplots(figsize=(6.0, 4.8))
    z = float(stats.norm.isf(0.025))
    centre = trimfill.estimate if trimfill is not None and trimfill.k0 else estimate
    grid = np.linspace(0, top, 100)
    ax.fill_betweenx(
        grid, show(centre - z * grid), show(centre + z * grid), color="#e8eef5", zorder=0
    )
    ax.plot(show(centre - z * grid), grid, color="#9db3cc", lw=0.8, zorder=1)
    ax.plot(show(centre + z * grid), grid, color="#9db3cc", lw=0.8, zorder=1)
    ax.axvline(float(show(estimate)), color=_LINE, lw=1.0, zorder=2)
    ax.scatter(show(yi), se, s=22, color=_POINT, zorder=3, label="studies")
    if trimfill is not None and trimfill.k0 and filled_se is not None:
        ax.scatter(
            show(trimfill.filled_yi), filled_se, s=22, facecolors="white", edgecolors=_FILL,
            zorder=3, label=f"imputed by trim-and-fill (k0 = {trimfill.k0})",
        )  # fmt: skip
        ax.axvline(float(show(trimfill.estimate)), color=_FILL, lw=1.0, ls=(0, (4, 3)), zorder=2)
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.12), ncol=2)
    ax.set_ylim(top, 0)
    if ratio:
        _ratio_axis(ax, "x")
    ax.set_xlabel(label, fontsize=9, color=_INK, parse_math=False)
    ax.set_ylabel("Standard error", fontsize=9, color=_INK)
    ax.tick_params(labelsize=8.5, colors=_INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(
            title, fontsize=11, fontweight="bold", color=_INK, loc="left", parse_math=False
        )
    fig.tight_layout()
    return _save(fig, path, suffix, dpi)


def bubble_plot(
    reg: MetaRegression,
    path: Path,
    label: str,
    ratio: bool = False,
    title: str | None = None,
    dpi: int = 200,
) -> Path:
    """Outcome against the first numeric moderator of the meta-regression ``reg``."""
    suffix = _check(path)
    numeric = [m for m in reg.moderators if m.numeric]
    if not numeric:
        raise InputError(f"{path}: a bubble plot needs a numeric moderator")
    column = numeric[0].column
    j = reg.terms.index(column)
    x = reg.X[:, j]
    w = 1 / (reg.vi + reg.tau2)
    grid = np.linspace(x.min(), x.max(), 200)
    X_new = np.tile(reg.X.mean(axis=0), (len(grid), 1))
    X_new[:, j] = grid
    fitted, low, high = predict(reg, X_new)
    show = _x(ratio)
    fig, ax = plt.subplots(figsize=(6.0, 4.8))
    ax.fill_between(grid, show(low), show(high), color="#e8eef5", zorder=0)
    ax.plot(grid, show(fitted), color=_LINE, lw=1.2, zorder=2)
    sizes = 20 + 400 * np.sqrt(w / w.max())
    ax.scatter(x, show(reg.yi), s=sizes, facecolors="none", edgecolors=_POINT, lw=1.0, zorder=3)
    if ratio:
        _ratio_axis(ax, "y")
        ax.axhline(1.0, color="#7f7f7f", lw=0.8, zorder=1)
    ax.set_xlabel(column, fontsize=9, color=_INK, parse_math=False)
    ax.set_ylabel(label, fontsize=9, color=_INK, parse_math=False)
    ax.tick_params(labelsize=8.5, colors=_INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    r2 = "" if reg.r2 is None else f"; R² = {reg.r2:.0f}%"
    ax.set_title(
        title or f"Meta-regression on {column}: QM = {reg.qm:.2f}, p = {reg.qm_pval:.2g}{r2}",
        fontsize=10,
        color=_INK,
        loc="left",
        parse_math=False,
    )
    fig.tight_layout()
    return _save(fig, path, suffix, dpi)
