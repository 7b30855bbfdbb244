"""The PRISMA 2020 flow diagram as a hand-written SVG (no drawing library needed)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from reviewflow.report.prisma_layout import Diagram, Line

FONT_FAMILY = "Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif"
STROKE = "#1a1a1a"
ARROW_HEAD = 8.0


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _text(line: Line, anchor: str, size: float, rotate: bool = False) -> str:
    attrs = [f'x="{_num(line.x)}"', f'y="{_num(line.y)}"']
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if line.bold:
        attrs.append('font-weight="bold"')
    if line.italic:
        attrs.append('font-style="italic"')
    if rotate:
        attrs.append(f'transform="rotate(-90 {_num(line.x)} {_num(line.y)})"')
    if size:
        attrs.append(f'font-size="{_num(size)}"')
    return f"<text {' '.join(attrs)}>{escape(line.text)}</text>"


def diagram_svg(diagram: Diagram, title: str = "PRISMA 2020 flow diagram") -> str:
    """The diagram as a standalone SVG document (UTF-8 text)."""
    w, h = diagram.width, diagram.height
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_num(w)}" '
        f'height="{_num(h)}" viewBox="0 0 {_num(w)} {_num(h)}" '
        f'font-family="{FONT_FAMILY}" font-size="{_num(diagram.font_size)}">',
        f"<title>{escape(title)}</title>",
        "<defs>",
        f'<marker id="arrowhead" viewBox="0 0 10 10" refX="10" refY="5" '
        f'markerWidth="{_num(ARROW_HEAD)}" markerHeight="{_num(ARROW_HEAD)}" '
        f'markerUnits="userSpaceOnUse" orient="auto">',
        f'<path d="M0,0 L10,5 L0,10 z" fill="{STROKE}"/>',
        "</marker>",
        "</defs>",
        f'<rect x="0" y="0" width="{_num(w)}" height="{_num(h)}" fill="#ffffff"/>',
    ]
    for box in diagram.boxes:
        radius = ' rx="8" ry="8"' if box.rounded else ""
        stroke = "none" if box.rounded else STROKE
        out.append(f"<g id={quoteattr(box.id)}>")
        out.append(
            f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.w)}" '
            f'height="{_num(box.h)}"{radius} fill="{box.fill}" stroke="{stroke}" '
            'stroke-width="1.2"/>'
        )
        anchor = "middle" if box.centred else "start"
        for line in box.lines:
            out.append(_text(line, anchor, 0, rotate=box.vertical))
        out.append("</g>")
    for arrow in diagram.arrows:
        pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in arrow.points)
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{STROKE}" stroke-width="1.4" '
            'marker-end="url(#arrowhead)"/>'
        )
    if diagram.notes:
        out.append('<g id="notes" fill="#333333">')
        out.extend(_text(line, "start", diagram.note_size) for line in diagram.notes)
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
