"""Writing the PRISMA flow to files (SVG, PNG, PDF, the app's CSV) and summarising it in text."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from reviewflow.errors import InputError
from reviewflow.report.prisma import PrismaCounts
from reviewflow.report.prisma_csv import prisma_csv
from reviewflow.report.prisma_layout import Diagram, build_diagram, flow_notes
from reviewflow.report.prisma_svg import diagram_svg


def _target(path: Path) -> Path:
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    return path


def _replace(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file (never a half-written file)."""
    _target(path)
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    _replace(tmp, path)


def save_image(diagram: Diagram, path: Path, fmt: str) -> None:
    from reviewflow.report.prisma_plot import save_diagram

    _target(path)
    tmp = path.with_name(f".{path.name}.part")
    try:
        save_diagram(diagram, tmp, fmt)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    _replace(tmp, path)


def diagram_of(counts: PrismaCounts) -> Diagram:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return build_diagram(counts, flow_notes(counts, generated=today))


def write_flow_files(
    counts: PrismaCounts,
    *,
    svg: Path | None = None,
    png: Path | None = None,
    pdf: Path | None = None,
    csv: Path | None = None,
) -> list[Path]:
    """Write the requested files; returns the paths written."""
    written: list[Path] = []
    if svg or png or pdf:
        diagram = diagram_of(counts)
        title = f"PRISMA 2020 flow diagram: {counts.title}" if counts.title else ""
        if svg:
            write_text(svg, diagram_svg(diagram, title or "PRISMA 2020 flow diagram"))
            written.append(svg)
        for path, fmt in ((png, "png"), (pdf, "pdf")):
            if path:
                save_image(diagram, path, fmt)
                written.append(path)
    if csv:
        write_text(csv, prisma_csv(counts))
        written.append(csv)
    return written


def flow_summary(counts: PrismaCounts) -> list[str]:
    """The flow as indented text lines, then what is not final."""
    db, ot = counts.databases, counts.other
    lines = ["Identification (databases and registers)"]
    lines += [f"  {s.name} ({s.method}): {s.n:,}" for s in counts.sources if s.method != "other"]
    lines += [
        f"  duplicates removed: {db.duplicates:,}",
        f"  removed before screening: automation {db.removed_automation:,}, "
        f"other reasons {db.removed_other:,}",
        "Screening",
        f"  records screened: {db.screened:,}, excluded: {db.screened_excluded:,}",
        f"  reports sought: {db.sought:,}, not retrieved: {db.not_retrieved:,}",
        f"  reports assessed: {db.assessed:,}, excluded: {db.assessed_excluded:,}",
    ]
    lines += [f"    {reason}: {k:,}" for reason, k in db.exclusion_reasons]
    if counts.has_other:
        lines.append("Other methods")
        lines += [f"  {s.name}: {s.n:,}" for s in counts.sources if s.method == "other"]
        lines += [
            f"  not sought (duplicates, excluded, awaiting): {ot.identified - ot.sought:,}",
            f"  reports sought: {ot.sought:,}, not retrieved: {ot.not_retrieved:,}",
            f"  reports assessed: {ot.assessed:,}, excluded: {ot.assessed_excluded:,}",
        ]
        lines += [f"    {reason}: {k:,}" for reason, k in ot.exclusion_reasons]
    lines += [
        "Included",
        f"  studies: {counts.studies:,}, reports of included studies: {counts.reports:,}",
    ]
    failed = [c for c in counts.checks if not c.ok]
    if failed:
        lines.append("Not final yet:")
        lines += [f"  - {c.detail}" for c in failed]
    return lines
