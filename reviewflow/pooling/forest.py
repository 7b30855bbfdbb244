"""Forest plots of pooled proportions, in the manner of R's meta/metafor ``forest``.

Columns: study, events, total, the plot (each study's proportion as a square sized by its
weight, with its CI), proportion and 95% CI as text, weight. Below: the pooled diamond, the
prediction interval bar, the heterogeneity line; with subgroups, a block per subgroup with its
own diamond and the test for subgroup differences. Axis in percent. SVG, PNG or PDF by suffix.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display needed
import matplotlib.pyplot as plt
from matplotlib.patches import Polygon
from matplotlib.ticker import FuncFormatter, MultipleLocator
from matplotlib.transforms import blended_transform_factory

from reviewflow.errors import InputError
from reviewflow.pooling.analysis import PooledResult, StudyResult, SubgroupResult
from reviewflow.pooling.format import (
    format_heterogeneity,
    format_p,
    percent,
    percent_decimals,
)

ROW_INCH = 0.24
_INK = "#1a1a1a"
_SQUARE = "#4d4d4d"
_DIAMOND = "#1f4e79"
_PI = "#b22222"


@dataclass
class _Row:
    kind: str  # "header", "study", "pooled", "pi", "text", "blank"
    label: str = ""
    study: StudyResult | None = None
    result: PooledResult | None = None
    bold: bool = False


def _model_label(result: PooledResult) -> str:
    if result.method == "EE":
        return "Common effect model"
    if result.method == "GLMM":
        return "Random effects model (GLMM)"
    return "Random effects model"


def _rows(result: PooledResult | SubgroupResult) -> list[_Row]:
    rows: list[_Row] = []
    if isinstance(result, SubgroupResult):
        # show each study with its weight in the overall model, as meta's forest does
        overall_rows: dict[tuple[str, int, int], list[StudyResult]] = {}
        for s in result.overall.studies:
            overall_rows.setdefault((s.study, s.events, s.total), []).append(s)
        used: Counter[tuple[str, int, int]] = Counter()
        for name, group in result.groups:
            rows.append(_Row("header", name, bold=True))
            for s in group.studies:
                key = (s.study, s.events, s.total)
                rows.append(
                    _Row("study", s.study, study=overall_rows[key][used[key]], result=group)
                )
                used[key] += 1
            rows.append(_Row("pooled", _model_label(group), result=group, bold=True))
            if group.k > 1:
                rows.append(_Row("text", "Heterogeneity: " + format_heterogeneity(group)))
            rows.append(_Row("blank"))
        overall = result.overall
    else:
        rows += [_Row("study", s.study, study=s) for s in result.studies]
        rows.append(_Row("blank"))
        overall = result
    rows.append(_Row("pooled", _model_label(overall), result=overall, bold=True))
    if overall.method != "EE":
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


def _axis_limits(result: PooledResult) -> tuple[float, float, float]:
    """Axis from a multiple of a round step below the lowest bound to one above the highest
    (within 0–100%), with 2–6 intervals: (low, high, step)."""
    lows = [s.ci_lower for s in result.studies] + [result.pi_lower, result.ci_lower]
    highs = [s.ci_upper for s in result.studies] + [result.pi_upper, result.ci_upper]
    lowest, highest = max(0.0, min(lows)), min(1.0, max(highs))
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25):
        low = max(0.0, math.floor(lowest / step + 1e-9) * step)
        high = min(1.0, math.ceil(highest / step - 1e-9) * step)
        if high - low <= 6 * step + 1e-9:
            break
    if high - low < 2 * step - 1e-9:  # at least two intervals
        high = min(1.0, low + 2 * step)
        low = max(0.0, high - 2 * step)
    return low, high, step


def forest_plot(
    result: PooledResult | SubgroupResult,
    path: Path,
    title: str | None = None,
    xlabel: str = "Proportion",
    dpi: int = 200,
) -> Path:
    """Draw the forest plot to ``path`` (.svg, .png or .pdf) and return the path."""
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png", ".pdf"):
        raise InputError(f"{path}: the forest plot must be .svg, .png or .pdf")
    overall = result.overall if isinstance(result, SubgroupResult) else result
    rows = _rows(result)
    decimals = percent_decimals(overall.estimate)
    n_rows = len(rows)
    header_in, footer_in = 0.55 + (0.3 if title else 0), 0.6
    height = header_in + footer_in + ROW_INCH * n_rows
    width = 10.0
    fig = plt.figure(figsize=(width, height))
    # the plot column sits between the count columns and the text columns (figure fractions)
    left, right = 0.41, 0.71
    ax = fig.add_axes((left, footer_in / height, right - left, ROW_INCH * n_rows / height))
    ax.set_ylim(n_rows - 0.5, -0.5)
    low, high, step = _axis_limits(overall)
    ax.set_xlim(low, high)
    text = blended_transform_factory(fig.transFigure, ax.transData)
    cols = {"study": 0.02, "events": 0.315, "total": 0.38, "ci": 0.905, "weight": 0.98}
    font: dict[str, Any] = {"fontsize": 9, "color": _INK, "va": "center"}
    max_weight = max(s.weight for s in overall.studies) or 1.0

    def put(x: float, y: float, s: str, ha: str = "left", bold: bool = False) -> None:
        fig.text(x, y, s, transform=text, ha=ha, fontweight="bold" if bold else "normal", **font)

    # column headings
    head_y = -1.1
    for key, label, ha in (
        ("study", "Study", "left"),
        ("events", "Events", "right"),
        ("total", "Total", "right"),
        ("ci", f"Proportion [{round(100 * overall.level):g}% CI]", "right"),
        ("weight", "Weight", "right"),
    ):
        put(cols[key], head_y, label, ha=ha, bold=True)
    if title:
        fig.text(
            0.02,
            1 - 0.25 / height,
            title,
            ha="left",
            va="center",
            fontsize=11,
            fontweight="bold",
            color=_INK,
        )

    for y, row in enumerate(rows):
        if row.kind == "header":
            put(cols["study"], y, row.label, bold=True)
        elif row.kind == "study" and row.study is not None:
            s = row.study
            put(cols["study"], y, s.study)
            put(cols["events"], y, f"{s.events}", ha="right")
            put(cols["total"], y, f"{s.total}", ha="right")
            put(
                cols["ci"],
                y,
                f"{percent(s.proportion, decimals)} "
                f"[{percent(s.ci_lower, decimals)}; {percent(s.ci_upper, decimals)}]",
                ha="right",
            )
            put(cols["weight"], y, f"{s.weight:.1f}%", ha="right")
            lo, hi = max(s.ci_lower, low), min(s.ci_upper, high)
            ax.plot([lo, hi], [y, y], color=_INK, lw=0.9, solid_capstyle="butt", zorder=2)
            for end, clipped, direction in ((lo, s.ci_lower < low, -1), (hi, s.ci_upper > high, 1)):
                if clipped:
                    ax.annotate(
                        "",
                        xy=(end, y),
                        xytext=(end - direction * 0.02, y),
                        arrowprops={"arrowstyle": "->", "color": _INK, "lw": 0.9},
                    )
            if low <= s.proportion <= high:
                size = 4 + 110 * (s.weight / max_weight)
                ax.scatter(
                    [s.proportion],
                    [y],
                    marker="s",
                    s=size,
                    color=_SQUARE,
                    edgecolors="none",
                    zorder=3,
                    clip_on=False,
                )
        elif row.kind == "pooled" and row.result is not None:
            r = row.result
            put(cols["study"], y, row.label, bold=True)
            put(cols["events"], y, f"{sum(s.events for s in r.studies)}", ha="right", bold=True)
            put(cols["total"], y, f"{sum(s.total for s in r.studies)}", ha="right", bold=True)
            put(
                cols["ci"],
                y,
                f"{percent(r.estimate, decimals)} "
                f"[{percent(r.ci_lower, decimals)}; {percent(r.ci_upper, decimals)}]",
                ha="right",
                bold=True,
            )
            share = (
                100.0
                if r is overall
                else sum(
                    row.study.weight
                    for row in rows
                    if row.kind == "study" and row.study is not None and row.result is r
                )
            )
            put(cols["weight"], y, f"{share:.1f}%", ha="right", bold=True)
            diamond = Polygon(
                [(r.ci_lower, y), (r.estimate, y - 0.36), (r.ci_upper, y), (r.estimate, y + 0.36)],
                closed=True,
                facecolor=_DIAMOND,
                edgecolor=_DIAMOND,
                zorder=3,
            )
            ax.add_patch(diamond)
        elif row.kind == "pi" and row.result is not None:
            r = row.result
            put(cols["study"], y, row.label)
            put(
                cols["ci"],
                y,
                f"[{percent(r.pi_lower, decimals)}; {percent(r.pi_upper, decimals)}]",
                ha="right",
            )
            ax.add_patch(
                plt.Rectangle(
                    (r.pi_lower, y - 0.14),
                    r.pi_upper - r.pi_lower,
                    0.28,
                    facecolor=_PI,
                    edgecolor=_PI,
                    alpha=0.85,
                    zorder=3,
                )
            )
        elif row.kind == "text":
            put(cols["study"], y, row.label)

    # reference line at the pooled estimate, from the first study down to the overall diamond
    last = max(y for y, row in enumerate(rows) if row.kind == "pooled")
    ax.plot([overall.estimate] * 2, [-0.5, last], color=_DIAMOND, lw=0.8, ls=(0, (4, 3)), zorder=1)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", left=False, labelleft=False)
    ax.tick_params(axis="x", labelsize=8.5, colors=_INK, length=3)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{100 * v:.0f}%"))
    ax.set_xlabel(xlabel, fontsize=9, color=_INK)
    ax.patch.set_alpha(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    # text stays text: editable in SVG, embedded TrueType in PDF (what journals ask for)
    try:
        with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
            fig.savefig(path, dpi=dpi, metadata=_metadata(suffix))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the forest plot ({exc.strerror})") from None
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
