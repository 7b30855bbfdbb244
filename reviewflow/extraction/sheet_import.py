"""Importing an existing extraction sheet (CSV) as consensus values, for reviews that started
elsewhere.

The sheet has a ``study`` column (the study label, e.g. "Chang 2018") and one column per form
field, named as in the export (``country``, ``outcome.mortality.events``…); a ``reports``
column is ignored. Empty cells are skipped. The whole file is checked first and imported in
one transaction: any bad value (wrong type, out of range, events > total, unknown column,
unknown study) is one error naming the file, the row and the column, and nothing is imported.
Values are stored with source ``imported`` (audit action ``consensus.import``). A cell that
the export neutralised (``'=…``, ``'+…``: reviewflow.cells) loses that one leading quote, so
an exported sheet imports back unchanged.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from reviewflow.cells import unquote
from reviewflow.errors import InputError
from reviewflow.extraction.consensus import IMPORTED, _put, consensus_of
from reviewflow.extraction.forms import Form
from reviewflow.extraction.studies import create_study
from reviewflow.extraction.validate import check_study, check_value
from reviewflow.store.engine import Store
from reviewflow.store.models import Study

IGNORED_COLUMNS = ("reports",)


@dataclass(frozen=True)
class SheetImport:
    studies: int
    values: int  # values stored or changed
    created_studies: tuple[str, ...]


@dataclass(frozen=True)
class _Row:
    line: int
    number: int
    study: str
    values: dict[str, str]


def _read(path: Path) -> tuple[list[str], list[_Row]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the sheet as UTF-8 CSV"
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise InputError(f"{path}: empty file (expected a header row with a 'study' column)")
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
        rows = []
        n = 0
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            n += 1
            if len(cells) != len(header):
                raise InputError(
                    f"{path}: row {n} (line {line}): {len(cells)} cells, the header has {len(header)}"
                )
            # a sheet reviewflow exported: '=… was neutralised on the way out (cells.safe_cell)
            values = {h: unquote(c) for h, c in zip(header, cells, strict=True)}
            rows.append(_Row(line, n, values.get("study", "").strip(), values))
    except csv.Error as exc:
        raise InputError(f"{path}: line {reader.line_num}: {exc}") from None
    return header, rows


def import_sheet(
    store: Store, form: Form, path: Path, actor: str, *, create_studies: bool = False
) -> SheetImport:
    """Check the whole sheet, then store its values as consensus in one transaction."""
    header, rows = _read(path)
    if "study" not in header:
        raise InputError(f"{path}: no 'study' column (columns: {', '.join(header)})")
    seen_cols: set[str] = set()
    for i, col_name in enumerate(header, 1):
        if col_name in seen_cols:
            raise InputError(f"{path}: column {i} ({col_name!r}) appears twice")
        seen_cols.add(col_name)
        if col_name != "study" and col_name not in IGNORED_COLUMNS and not form.has(col_name):
            raise InputError(
                f"{path}: column {i} ({col_name!r}) is not a field of the form {form.path.name}"
            )
    fields = [h for h in header if form.has(h)]
    checked: list[tuple[_Row, dict[str, str]]] = []
    seen_studies: dict[str, int] = {}
    for row in rows:
        where = f"{path}: row {row.number} (line {row.line})"
        if not row.study:
            raise InputError(f"{where}, column 'study': empty study label")
        if row.study in seen_studies:
            raise InputError(
                f"{where}, column 'study': {row.study!r} is also in row {seen_studies[row.study]}"
            )
        seen_studies[row.study] = row.number
        normal: dict[str, str] = {}
        for key in fields:
            result = check_value(form.get(key), row.values[key])
            if result.problem:
                raise InputError(f"{where}, column {key!r}: {result.problem}")
            if result.normal:
                normal[key] = result.normal
        for problem in check_study(form, normal):
            raise InputError(f"{where}, column {problem.key!r}: {problem.message}")
        checked.append((row, normal))

    stored = 0
    created: list[str] = []
    with store.write() as s:
        known = {st.label: st.id for st in s.exec(select(Study)).all()}
        for row, normal in checked:
            study_id = known.get(row.study)
            if study_id is None:
                if not create_studies:
                    raise InputError(
                        f"{path}: row {row.number} (line {row.line}), column 'study': no study "
                        f"labelled {row.study!r} in the review (see 'reviewflow studies list', "
                        "or import with --create-studies)"
                    )
                study_id = create_study(s, actor, row.study).id
                created.append(row.study)
            assert study_id is not None
            merged = consensus_of(s, study_id) | normal
            for problem in check_study(form, merged):
                raise InputError(
                    f"{path}: row {row.number} (line {row.line}), column {problem.key!r}: "
                    f"{problem.message} (with the consensus values already in the review)"
                )
            for key, value in normal.items():
                stored += _put(s, actor, study_id, key, value, IMPORTED, "consensus.import")
    return SheetImport(len(checked), stored, tuple(created))
