"""Forest plots in the manner of R's meta/metafor ``forest``, for every measure.

Columns left to right: the study, its data (events/total, or mean/SD/n, per group), the plot
(each study's estimate as a square sized by its weight, with its CI; arrows where a CI leaves
the axis), the estimate and CI as text, the weight, then any extra columns. Below: the pooled
diamond, the prediction interval bar, the heterogeneity line; with subgroups, a block per
subgroup with its own diamond and the test for subgroup differences. Ratios are drawn on a log
axis; two-group and generic measures get a line of no effect (1 for ratios, 0 otherwise).
SVG, PNG or PDF by suffix.

The columns are :class:`Column` values (``forest_columns.py`` builds them per data type); to
add a column per study (e.g. risk of bias), pass ``extra_columns`` to :func:`forest_plot`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display needed
import matplotlib.pyplot as plt
from matplotlib.patches import Polygon
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from reviewflow.errors import InputError
from reviewflow.pooling.analysis import SubgroupResult
from reviewflow.pooling.format import format_heterogeneity, format_p

ROW_INCH = 0.24
_INK = "#1a1a1a"
_SQUARE = "#4d4d4d"
_DIAMOND = "#1f4e79"
_PI = "#b22222"
_NULL = "#7f7f7f"


@dataclass(frozen=True)
class Column:
    """A text column: its heading, width (inches), the text for a study, and the (bold) text
    for a pooled row from the studies in its block and the pooled result."""

    heading: str
    width: float
    study: Callable[[Any], str]
    pooled: Callable[[Sequence[Any], Any], str] | None = None
    align: str = "right"
    group: str = ""  # a heading over the adjacent columns of the same group ("Experimental")


@dataclass(frozen=True)
class Axis:
    log: bool  # ratios: a log axis
    null: float | None  # the line of no effect (None: none drawn)
    label: str
    low: float
    high: float
    ticks: tuple[float, ...]
    tick_text: Callable[[float], str]


@dataclass(frozen=True)
class Layout:
    """What a forest plot shows of one kind of result (forest_columns.py makes these)."""

    data_columns: Sequence[Column]
    result_columns: Sequence[Column]
    point: Callable[[Any], tuple[float, float, float] | None]  # study → estimate, CI
    axis: Axis
    study_key: Callable[[Any], tuple[Any, ...]]  # identifies a study across subgroups
    interval: Callable[[float, float], str]  # "[low; high]" as the estimate column writes it
    extra: Sequence[Column] = field(default_factory=tuple)


@dataclass
class _Row:
    kind: str  # "header", "study", "pooled", "pi", "text", "blank"
    label: str = ""
    study: Any = None
    result: Any = None
    studies: Sequence[Any] = ()


def model_label(result: Any) -> str:
    if result.method in ("EE", "MH", "PETO"):
        return {
            "MH": "Common effect model (Mantel–Haenszel)",
            "PETO": "Common effect model (Peto)",
        }.get(result.method, "Common effect model")
    if result.method == "GLMM":
        return "Random effects model (GLMM)"
    return "Random effects model"


def _rows(result: Any, key: Callable[[Any], tuple[Any, ...]]) -> list[_Row]:
    rows: list[_Row] = []
    if isinstance(result, SubgroupResult):
        # show each study with its weight in the overall model, as meta's forest does
        overall_rows: dict[tuple[Any, ...], list[Any]] = {}
        for s in result.overall.studies:
            overall_rows.setdefault(key(s), []).append(s)
        used: Counter[tuple[Any, ...]] = Counter()
        for name, group in result.groups:
            rows.append(_Row("header", name))
            shown = []
            for s in group.studies:
                k = key(s)
                shown.append(overall_rows[k][used[k]])
                rows.append(_Row("study", s.study, study=shown[-1], result=group))
                used[k] += 1
            rows.append(_Row("pooled", model_label(group), result=group, studies=shown))
            if group.k > 1:
                rows.append(_Row("text", "Heterogeneity: " + format_heterogeneity(group)))
            rows.append(_Row("blank"))
        overall = result.overall
    else:
        rows += [_Row("study", s.study, study=s) for s in result.studies]
        rows.append(_Row("blank"))
        overall = result
    rows.append(_Row("pooled", model_label(overall), result=overall, studies=overall.studies))
    if overall.method not in ("EE", "MH", "PETO"):
        rows.append(_Row("pi", "Prediction interval", result=overall))
    rows.append(_Row("text", "Heterogeneity: " + format_heterogeneity(overall)))
    if isinstance(result, SubgroupResult):
        rows.append(
            _Row(
                "text",
                f"Test for subgroup differences: χ² = {result.q_between:.2f}, "
                f"df = {result.q_between_df} ({format_p(result.q_between_pval)})",
            )
        )
    return rows


def forest_plot(
    result: Any,
    path: Path,
    title: str | None = None,
    xlabel: str | None = None,
    dpi: int = 200,
    extra_columns: Sequence[Column] = (),
    groups: Sequence[str] = (),
) -> Path:
    """Draw the forest plot of a pooled result (proportions or an effect measure, with or
    without subgroups) to ``path`` (.svg, .png or .pdf) and return the path; ``groups``
    names the two groups above their columns (default Experimental, Control)."""
    from reviewflow.pooling.forest_columns import layout_for

    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png", ".pdf"):
        raise InputError(f"{path}: the forest plot must be .svg, .png or .pdf")
    overall = result.overall if isinstance(result, SubgroupResult) else result
    lay = layout_for(overall, groups)
    axis = lay.axis if xlabel is None else _relabel(lay.axis, xlabel)
    right = [*lay.result_columns, *lay.extra, *extra_columns]
    rows = _rows(result, lay.study_key)
    study_width = max(2.3, 0.075 * max(len(r.label) for r in rows if r.kind != "text"))
    plot_width, margin, gap = 3.0, 0.2, 0.3
    left_width = margin + study_width + sum(c.width for c in lay.data_columns)
    width = left_width + gap + plot_width + sum(c.width for c in right) + margin
    grouped = any(c.group for c in (*lay.data_columns, *right))
    n_rows = len(rows)
    header_in = 0.55 + (0.3 if title else 0) + (0.22 if grouped else 0)
    footer_in = 0.6
    height = header_in + footer_in + ROW_INCH * n_rows
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes(
        (
            (left_width + gap) / width,
            footer_in / height,
            plot_width / width,
            ROW_INCH * n_rows / height,
        )
    )
    ax.set_ylim(n_rows - 0.5, -0.5)
    if axis.log:
        ax.set_xscale("log")
    ax.set_xlim(axis.low, axis.high)
    text = blended_transform_factory(fig.transFigure, ax.transData)
    font: dict[str, Any] = {"fontsize": 9, "color": _INK, "va": "center"}

    def put(x_in: float, y: float, s: str, ha: str = "right", bold: bool = False) -> None:
        fig.text(
            x_in / width,
            y,
            s,
            transform=text,
            ha=ha,
            fontweight="bold" if bold else "normal",
            parse_math=False,  # a study label is text, never mathtext ("$\\x$" would not draw)
            **font,
        )

    # columns: (x of the text in inches, column)
    placed: list[tuple[float, Column]] = []
    x = margin + study_width
    for c in lay.data_columns:
        x += c.width
        placed.append((x, c))
    x = left_width + gap + plot_width
    for c in right:
        x += c.width
        placed.append((x, c))
    head_y = -1.1
    put(margin, head_y, "Study", ha="left", bold=True)

    def cell(x_in: float, c: Column, y: float, value: str, bold: bool = False) -> None:
        # right-aligned text ends at the column's right edge; left-aligned starts a gap into it
        x = x_in if c.align == "right" else x_in - c.width + 0.15
        put(x, y, value, ha=c.align, bold=bold)

    for x_in, c in placed:
        cell(x_in, c, head_y, c.heading, bold=True)
    _group_headings(put, placed, head_y - 0.95)
    if title:
        fig.text(
            0.02, 1 - 0.25 / height, title, ha="left", va="center", fontsize=11,
            fontweight="bold", color=_INK, parse_math=False,
        )  # fmt: skip
    max_weight = max((s.weight for s in overall.studies), default=1.0) or 1.0

    for y, row in enumerate(rows):
        if row.kind == "header":
            put(margin, y, row.label, ha="left", bold=True)
        elif row.kind == "study":
            put(margin, y, row.label, ha="left")
            for x_in, c in placed:
                cell(x_in, c, y, c.study(row.study))
            point = lay.point(row.study)
            if point is not None:
                _draw_study(ax, axis, y, point, row.study.weight / max_weight)
        elif row.kind == "pooled":
            r = row.result
            put(margin, y, row.label, ha="left", bold=True)
            for x_in, c in placed:
                if c.pooled is not None:
                    cell(x_in, c, y, c.pooled(row.studies, r), bold=True)
            diamond = Polygon(
                [(r.ci_lower, y), (r.estimate, y - 0.36), (r.ci_upper, y), (r.estimate, y + 0.36)],
                closed=True,
                facecolor=_DIAMOND,
                edgecolor=_DIAMOND,
                zorder=3,
            )
            ax.add_patch(diamond)
        elif row.kind == "pi":
            r = row.result
            put(margin, y, row.label, ha="left")
            ci_x, ci_col = placed[len(lay.data_columns)]
            cell(ci_x, ci_col, y, lay.interval(r.pi_lower, r.pi_upper))
            ax.plot(
                [r.pi_lower, r.pi_upper], [y, y], color=_PI, lw=5, alpha=0.85,
                solid_capstyle="butt", zorder=3,
            )  # fmt: skip
        elif row.kind == "text":
            put(margin, y, row.label, ha="left")

    last = max(y for y, row in enumerate(rows) if row.kind == "pooled")
    ax.plot([overall.estimate] * 2, [-0.5, last], color=_DIAMOND, lw=0.8, ls=(0, (4, 3)), zorder=1)
    if axis.null is not None:
        ax.plot([axis.null] * 2, [-0.5, n_rows - 0.5], color=_NULL, lw=0.9, zorder=1)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", left=False, labelleft=False)
    ax.tick_params(axis="x", labelsize=8.5, colors=_INK, length=3)
    ax.xaxis.set_major_locator(FixedLocator(list(axis.ticks)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: axis.tick_text(v)))
    ax.set_xlabel(axis.label, fontsize=9, color=_INK, parse_math=False)
    ax.patch.set_alpha(0)
    return _save(fig, path, suffix, dpi)


def _group_headings(put: Callable[..., None], placed: list[tuple[float, Column]], y: float) -> None:
    """One heading centred over each run of columns with the same group."""
    i = 0
    while i < len(placed):
        group = placed[i][1].group
        j = i
        while j + 1 < len(placed) and placed[j + 1][1].group == group:
            j += 1
        if group:
            start = placed[i][0] - placed[i][1].width
            put((start + placed[j][0]) / 2 + 0.1, y, group, ha="center", bold=True)
        i = j + 1


def _draw_study(
    ax: Any, axis: Axis, y: float, point: tuple[float, float, float], share: float
) -> None:
    estimate, low, high = point
    lo, hi = max(low, axis.low), min(high, axis.high)
    if lo < hi:
        ax.plot([lo, hi], [y, y], color=_INK, lw=0.9, solid_capstyle="butt", zorder=2)
    for end, clipped, direction in ((lo, low < axis.low, -1), (hi, high > axis.high, 1)):
        if clipped:
            back = (
                end * (1.06 if direction < 0 else 1 / 1.06)
                if axis.log
                else end - direction * (axis.high - axis.low) * 0.02
            )
            ax.annotate(
                "",
                xy=(end, y),
                xytext=(back, y),
                arrowprops={"arrowstyle": "->", "color": _INK, "lw": 0.9},
            )
    if axis.low <= estimate <= axis.high:
        ax.scatter(
            [estimate], [y], marker="s", s=4 + 110 * share, color=_SQUARE, edgecolors="none",
            zorder=3, clip_on=False,
        )  # fmt: skip


def _relabel(axis: Axis, label: str) -> Axis:
    return Axis(axis.log, axis.null, label, axis.low, axis.high, axis.ticks, axis.tick_text)


def _save(fig: Any, path: Path, suffix: str, dpi: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # text stays text: editable in SVG, embedded TrueType in PDF (what journals ask for)
    try:
        with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
            fig.savefig(path, dpi=dpi, metadata=_metadata(suffix))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the plot ({exc.strerror})") from None
    finally:
        plt.close(fig)
    return path


def _metadata(suffix: str) -> dict[str, str | None]:
    # reproducible files: no creation dates in SVG/PDF
    if suffix == ".svg":
        return {"Date": None}
    if suffix == ".pdf":
        return {"CreationDate": None}
    return {}
