"""The PRISMA 2020 flow diagram as PNG or PDF, drawn with matplotlib from the same geometry as
the SVG (:mod:`reviewflow.report.prisma_layout`).

Why not convert the SVG: cairosvg and rsvg need the system cairo library; matplotlib is already a
dependency (forest plots), ships DejaVu Sans (the font the layout measures with) and writes both
PNG and PDF. One layout unit is one point, so the PDF has the SVG's proportions exactly.
"""

from __future__ import annotations

import math
from pathlib import Path

from reviewflow.report.prisma_layout import Diagram
from reviewflow.report.prisma_svg import ARROW_HEAD, STROKE

PNG_DPI = 200


def _head(p0: tuple[float, float], p1: tuple[float, float]) -> list[tuple[float, float]]:
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    bx, by = p1[0] - ux * ARROW_HEAD, p1[1] - uy * ARROW_HEAD
    half = ARROW_HEAD / 2
    return [p1, (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]


def save_diagram(diagram: Diagram, out: Path, fmt: str, dpi: int = PNG_DPI) -> None:
    """Write the diagram to ``out`` as ``png`` or ``pdf``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, Patch, Polygon, Rectangle

    w, h = diagram.width, diagram.height
    fig = Figure(figsize=(w / 72, h / 72))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")
    font = {"family": "DejaVu Sans"}
    for box in diagram.boxes:
        patch: Patch
        if box.rounded:
            patch = FancyBboxPatch(
                (box.x, box.y), box.w, box.h, boxstyle="round,pad=0,rounding_size=8",
                facecolor=box.fill, edgecolor="none",
            )  # fmt: skip
        else:
            patch = Rectangle(
                (box.x, box.y), box.w, box.h, facecolor=box.fill, edgecolor=STROKE, linewidth=1.2
            )
        ax.add_patch(patch)
        for line in box.lines:
            ax.text(
                line.x,
                line.y,
                line.text,
                fontsize=diagram.font_size,
                fontweight="bold" if line.bold else "normal",
                fontstyle="italic" if line.italic else "normal",
                ha="center" if box.centred else "left",
                va="baseline",
                rotation=90 if box.vertical else 0,
                rotation_mode="anchor",
                parse_math=False,  # source names and reasons are text, never mathtext
                fontdict=font,
            )
    for arrow in diagram.arrows:
        pts = arrow.points
        head = _head(pts[-2], pts[-1])
        # the line stops at the base of the head so the tip stays sharp
        base = ((head[1][0] + head[2][0]) / 2, (head[1][1] + head[2][1]) / 2)
        xs = [p[0] for p in pts[:-1]] + [base[0]]
        ys = [p[1] for p in pts[:-1]] + [base[1]]
        ax.plot(xs, ys, color=STROKE, linewidth=1.4, solid_capstyle="butt")
        ax.add_patch(Polygon(head, closed=True, facecolor=STROKE, edgecolor="none"))
    for line in diagram.notes:
        ax.text(
            line.x, line.y, line.text, fontsize=diagram.note_size, color="#333333",
            ha="left", va="baseline", fontdict=font, parse_math=False,
        )  # fmt: skip
    fig.savefig(str(out), format=fmt, dpi=dpi, facecolor="white")
