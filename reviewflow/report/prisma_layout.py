"""The PRISMA 2020 flow diagram as geometry: boxes, wrapped text, arrows, in one coordinate
system (pixels, y downward) that both the SVG writer and the matplotlib renderer draw.

Layout follows the PRISMA 2020 template (Page et al., BMJ 2021;372:n71): phase labels on the
left (Identification, Screening, Included), a column "Identification of studies via databases
and registers" with its side boxes of removed/excluded records, and, when some records came
from other methods, a second column "… via other methods" whose assessed reports join the
included studies.

Text is wrapped with the advance widths of DejaVu Sans (the font matplotlib ships, so PNG/PDF
match exactly). It is one of the widest common sans-serif fonts, so the SVG, which names
Arial/Helvetica first, never overflows a box in a browser either.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from reviewflow.report.prisma import Column, PrismaCounts

# DejaVu Sans advance widths, characters 32..126, in 1/2048 em (from the font's hmtx table)
_REGULAR = [
    651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716, 1087, 2048,
    1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612, 1235,
    1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024,
    1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186, 569, 1995, 1298, 1253, 1300,
    1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690, 1303, 1716,
]  # fmt: skip
_BOLD = [
    713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748, 1425,
    1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 819, 819, 1716, 1716, 1716, 1188, 2048,
    1585, 1561, 1503, 1700, 1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038, 1714, 1741, 1501,
    1741, 1577, 1475, 1397, 1663, 1585, 2259, 1579, 1483, 1485, 936, 748, 936, 1716, 1024, 1024,
    1382, 1466, 1214, 1466, 1389, 891, 1466, 1458, 702, 702, 1362, 702, 2134, 1458, 1407, 1466,
    1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192, 1458, 748, 1458, 1716,
]  # fmt: skip
NBSP = "\u00a0"  # joins "(n = 12)" so a count never breaks across lines
_NOT_TEXT = ("Cc", "Zl", "Zp", "Cs")  # Unicode categories drawn as nothing (plain())
_WIDEST = 2259  # any other character is measured as the widest glyph: never an overflow

FONT_SIZE = 14.0
LINE_HEIGHT = 18.0
PAD = 8.0
MARGIN = 12.0
PHASE_W = 28.0
MAIN_W = 200.0
SIDE_W = 212.0
GAP = 28.0  # between a box and its side box (the horizontal arrow)
COLUMN_GAP = 30.0
ROW_GAP = 30.0  # between rows (the vertical arrows)
HEADER_H = 44.0

HEADER_DB = "Identification of studies via databases and registers"
HEADER_OTHER = "Identification of studies via other methods"
YELLOW, GREY, BLUE, WHITE = "#ffc000", "#d9d9d9", "#9dc3e6", "#ffffff"


def text_width(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    table = _BOLD if bold else _REGULAR
    units = sum(
        table[o - 32] if 32 <= (o := ord(" " if ch == NBSP else ch)) <= 126 else _WIDEST
        for ch in text
    )
    return units * size / 2048


def plain(text: str) -> str:
    """``text`` with each control character (CR, LF, tab, C0/C1 controls), line or paragraph
    separator, surrogate and U+FFFE/U+FFFF a space: source names and reasons come from other
    programs, and these are illegal in XML (the SVG) or drawn as a missing glyph (PNG/PDF)."""
    return "".join(
        " " if unicodedata.category(ch) in _NOT_TEXT or ch in "\ufffe\uffff" else ch for ch in text
    )


def wrap(text: str, width: float, size: float = FONT_SIZE, bold: bool = False) -> list[str]:
    """Greedy word wrap to ``width`` pixels; a word longer than a line is cut; control
    characters are spaces (:func:`plain`)."""
    lines: list[str] = []
    current = ""
    for word in plain(text).split(" "):
        if not word:
            continue
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size, bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while text_width(word, size, bold) > width:
            cut = len(word)
            while cut > 1 and text_width(word[:cut], size, bold) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current or not lines:
        lines.append(current)
    return lines


@dataclass
class Line:
    text: str
    x: float  # left edge (or centre, for centred boxes)
    y: float  # baseline
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class Para:
    """A paragraph of a box, wrapped to the box's width."""

    text: str
    indent: int = 0
    bold: bool = False
    italic: bool = False


@dataclass
class Box:
    id: str
    x: float
    y: float
    w: float
    h: float
    fill: str = WHITE
    rounded: bool = False
    centred: bool = False
    vertical: bool = False  # phase labels: text rotated 90° counter-clockwise
    paragraphs: list[Para] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


@dataclass
class Arrow:
    points: list[tuple[float, float]]


@dataclass
class Diagram:
    width: float
    height: float
    boxes: list[Box]
    arrows: list[Arrow]
    notes: list[Line]
    font_size: float = FONT_SIZE
    note_size: float = FONT_SIZE * 0.8

    def all_text(self) -> str:
        return "\n".join(
            [line.text for b in self.boxes for line in b.lines] + [n.text for n in self.notes]
        )


def n(value: int) -> str:
    return f"(n = {value:,})".replace(" ", NBSP)


def _para(text: str, indent: int = 0, bold: bool = False, italic: bool = False) -> Para:
    return Para(text, indent, bold, italic)


def _content_height(box: Box) -> float:
    count = 0
    for p in box.paragraphs:
        count += len(wrap(p.text, box.w - 2 * PAD - p.indent, bold=p.bold))
    return count * LINE_HEIGHT + 2 * PAD - (LINE_HEIGHT - FONT_SIZE)


def _set_lines(box: Box) -> None:
    """Wrap the box's paragraphs into positioned lines, vertically centred."""
    wrapped: list[tuple[str, Para]] = []
    for p in box.paragraphs:
        width = (box.h if box.vertical else box.w) - 2 * PAD - p.indent
        wrapped.extend((line, p) for line in wrap(p.text, width, bold=p.bold))
    block = len(wrapped) * LINE_HEIGHT - (LINE_HEIGHT - FONT_SIZE)
    if box.vertical:  # rotated: lines stack along x; baseline offsets are handled by renderers
        x0 = box.x + box.w / 2 - block / 2 + FONT_SIZE * 0.8
        box.lines = [
            Line(t, x0 + i * LINE_HEIGHT, box.y + box.h / 2, bold=p.bold, italic=p.italic)
            for i, (t, p) in enumerate(wrapped)
        ]
        return
    top = box.y + (box.h - block) / 2 + FONT_SIZE * 0.8
    box.lines = [
        Line(
            t,
            box.x + box.w / 2 if box.centred else box.x + PAD + p.indent,
            top + i * LINE_HEIGHT,
            bold=p.bold,
            italic=p.italic,
        )
        for i, (t, p) in enumerate(wrapped)
    ]


def _identified(counts: PrismaCounts) -> Box:
    paras = [_para("Records identified from:")]
    db = [s for s in counts.sources if s.method == "database"]
    reg = [s for s in counts.sources if s.method == "register"]
    paras.append(_para(f"Databases {n(counts.source_total('database'))}", 10))
    paras += [_para(f"{s.name} {n(s.n)}", 24) for s in db]
    paras.append(_para(f"Registers {n(counts.source_total('register'))}", 10))
    paras += [_para(f"{s.name} {n(s.n)}", 24) for s in reg]
    return Box("database_results", 0, 0, MAIN_W, 0, paragraphs=paras)


def _awaiting(pending: int, conflicts: int) -> list[Para]:
    """Records without an outcome yet: shown, in italics, so an unfinished flow is visible."""
    out = []
    if pending:
        out.append(_para(f"Awaiting a decision {n(pending)}", italic=True))
    if conflicts:
        out.append(_para(f"Conflicts to resolve {n(conflicts)}", italic=True))
    return out


def _column_boxes(prefix: str, c: Column) -> dict[str, Box]:
    reasons = [_para(f"{reason} {n(k)}", 10) for reason, k in c.exclusion_reasons]
    return {
        "sought": Box(
            f"{prefix}_sought_reports",
            0,
            0,
            MAIN_W,
            0,
            paragraphs=[_para(f"Reports sought for retrieval {n(c.sought)}")],
        ),  # fmt: skip
        "not_retrieved": Box(
            f"{prefix}_notretrieved_reports",
            0,
            0,
            SIDE_W,
            0,
            paragraphs=[_para(f"Reports not retrieved {n(c.not_retrieved)}")],
        ),  # fmt: skip
        "assessed": Box(
            f"{prefix}_assessed",
            0,
            0,
            MAIN_W,
            0,
            paragraphs=[_para(f"Reports assessed for eligibility {n(c.assessed)}")],
        ),  # fmt: skip
        "excluded": Box(
            f"{prefix}_excluded",
            0,
            0,
            SIDE_W,
            0,
            paragraphs=[
                _para(f"Reports excluded {n(c.assessed_excluded)}" + (":" if reasons else ""))
            ]
            + reasons
            + _awaiting(c.assessment_pending, c.assessment_conflicts),
        ),  # fmt: skip
    }


def flow_notes(counts: PrismaCounts, generated: str = "") -> list[str]:
    """The lines under the diagram: where the numbers come from, and what is not final yet."""
    when = f" on {generated}" if generated else ""
    notes = [
        f"Every number was counted by reviewflow from the review database{when}. "
        "Layout: PRISMA 2020 flow diagram (Page MJ et al. BMJ 2021;372:n71)."
    ]
    failed = [c for c in counts.checks if not c.ok]
    if failed:
        notes.append("Not final yet:")
        notes += [f"\u2013 {c.detail}" for c in failed]
    return notes


def build_diagram(counts: PrismaCounts, notes: list[str] | None = None) -> Diagram:
    """Place every box of the PRISMA 2020 template for ``counts`` (notes: :func:`flow_notes`)."""
    if notes is None:
        notes = flow_notes(counts)
    db = counts.databases
    other = counts.has_other
    x_main = MARGIN + PHASE_W + 10
    x_side = x_main + MAIN_W + GAP
    x_omain = x_side + SIDE_W + COLUMN_GAP
    x_oside = x_omain + MAIN_W + GAP
    width = (x_oside + SIDE_W if other else x_side + SIDE_W) + MARGIN

    rows: list[dict[str, Box]] = []
    removed = Box(
        "removed_before_screening", 0, 0, SIDE_W, 0,
        paragraphs=[
            _para("Records removed before screening:"),
            _para(f"Duplicate records removed {n(db.duplicates)}", 10),
            _para(f"Records marked as ineligible by automation tools {n(db.removed_automation)}", 10),
            _para(f"Records removed for other reasons {n(db.removed_other)}", 10),
        ],
    )  # fmt: skip
    rows.append({"main": _identified(counts), "side": removed})
    rows.append(
        {
            "main": Box(
                "records_screened",
                0,
                0,
                MAIN_W,
                0,
                paragraphs=[_para(f"Records screened {n(db.screened)}")],
            ),
            "side": Box(
                "records_excluded",
                0,
                0,
                SIDE_W,
                0,
                paragraphs=[_para(f"Records excluded {n(db.screened_excluded)}")]
                + _awaiting(db.screening_pending, db.screening_conflicts),
            ),
        }  # fmt: skip
    )
    dbc = _column_boxes("dbr", db)
    rows.append({"main": dbc["sought"], "side": dbc["not_retrieved"]})
    rows.append({"main": dbc["assessed"], "side": dbc["excluded"]})
    rows.append(
        {
            "main": Box(
                "new_studies",
                0,
                0,
                MAIN_W,
                0,
                paragraphs=[
                    _para(f"Studies included in review {n(counts.studies)}"),
                    _para(f"Reports of included studies {n(counts.reports)}"),
                ],
            )
        }  # fmt: skip
    )
    if other:
        o = counts.other
        paras = [_para("Records identified from:")]
        paras += [_para(f"{s.name} {n(s.n)}", 10) for s in counts.sources if s.method == "other"]
        rows[0]["omain"] = Box("other_results", 0, 0, MAIN_W, 0, paragraphs=paras)
        not_sought = o.identified - o.sought
        if not_sought:
            rows[0]["oside"] = Box(
                "other_not_sought", 0, 0, SIDE_W, 0,
                paragraphs=[
                    _para(f"Records not sought for retrieval {n(not_sought)}:"),
                    _para(f"Duplicates {n(o.duplicates)}", 10),
                    _para(f"Removed before screening {n(o.removed_automation + o.removed_other)}", 10),
                    _para(f"Excluded on title/abstract {n(o.screened_excluded)}", 10),
                    _para(f"Awaiting screening {n(o.screening_pending + o.screening_conflicts)}", 10),
                ],
            )  # fmt: skip
        oc = _column_boxes("other", o)
        rows[2]["omain"], rows[2]["oside"] = oc["sought"], oc["not_retrieved"]
        rows[3]["omain"], rows[3]["oside"] = oc["assessed"], oc["excluded"]

    x_of = {"main": x_main, "side": x_side, "omain": x_omain, "oside": x_oside}
    y = MARGIN + HEADER_H + ROW_GAP * 0.6
    row_top: list[float] = []
    row_h: list[float] = []
    boxes: list[Box] = []
    for row in rows:
        height = max(_content_height(b) for b in row.values())
        height = max(height, 2 * LINE_HEIGHT + 2 * PAD - (LINE_HEIGHT - FONT_SIZE))
        row_top.append(y)
        row_h.append(height)
        for slot, b in row.items():
            b.x = x_of[slot]
            own = _content_height(b)
            # main boxes keep their own height, centred on the row; side boxes too
            b.h = max(own, 2 * LINE_HEIGHT + 2 * PAD - (LINE_HEIGHT - FONT_SIZE))
            b.y = y + (height - b.h) / 2
            boxes.append(b)
        y += height + ROW_GAP
    bottom = y - ROW_GAP

    arrows: list[Arrow] = []
    for i, row in enumerate(rows):
        main = row["main"]
        if "side" in row:
            mid = row_top[i] + row_h[i] / 2
            arrows.append(Arrow([(main.x + main.w, mid), (row["side"].x, mid)]))
        if i + 1 < len(rows):
            below = rows[i + 1]["main"]
            arrows.append(
                Arrow([(main.x + main.w / 2, main.y + main.h), (main.x + main.w / 2, below.y)])
            )
    if other:
        o0, o2, o3 = rows[0]["omain"], rows[2]["omain"], rows[3]["omain"]
        cx = x_omain + MAIN_W / 2
        if "oside" in rows[0]:
            mid = row_top[0] + row_h[0] / 2
            arrows.append(Arrow([(o0.x + o0.w, mid), (rows[0]["oside"].x, mid)]))
        arrows.append(Arrow([(cx, o0.y + o0.h), (cx, o2.y)]))
        arrows.append(Arrow([(cx, o2.y + o2.h), (cx, o3.y)]))
        for i in (2, 3):
            mid = row_top[i] + row_h[i] / 2
            arrows.append(Arrow([(x_omain + MAIN_W, mid), (x_oside, mid)]))
        inc = rows[4]["main"]
        mid = inc.y + inc.h / 2
        arrows.append(Arrow([(cx, o3.y + o3.h), (cx, mid), (inc.x + inc.w, mid)]))

    header_top = MARGIN
    boxes.append(
        Box("newstud", x_main, header_top, x_side + SIDE_W - x_main, HEADER_H, fill=YELLOW,
            rounded=True, centred=True, paragraphs=[_para(HEADER_DB, bold=True)])
    )  # fmt: skip
    if other:
        boxes.append(
            Box("othstud", x_omain, header_top, x_oside + SIDE_W - x_omain, HEADER_H, fill=GREY,
                rounded=True, centred=True, paragraphs=[_para(HEADER_OTHER, bold=True)])
        )  # fmt: skip
    phases = [
        ("identification", "Identification", row_top[0], row_top[0] + row_h[0]),
        ("screening", "Screening", row_top[1], row_top[3] + row_h[3]),
        ("included", "Included", row_top[4], row_top[4] + row_h[4]),
    ]
    for pid, label, top, end in phases:
        boxes.append(
            Box(pid, MARGIN, top, PHASE_W, end - top, fill=BLUE, rounded=True, centred=True,
                vertical=True, paragraphs=[_para(label, bold=True)])
        )  # fmt: skip
    for b in boxes:
        _set_lines(b)

    note_lines: list[Line] = []
    ny = bottom + ROW_GAP
    note_size = FONT_SIZE * 0.8
    for note in notes:
        for line in wrap(note, width - 2 * MARGIN, size=note_size):
            note_lines.append(Line(line, MARGIN, ny + note_size * 0.8))
            ny += note_size * 1.3
    height = ny + MARGIN
    return Diagram(width, height, boxes, arrows, note_lines, FONT_SIZE, note_size)
