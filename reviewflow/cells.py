"""Spreadsheet-safe cells: exported text never becomes a formula (CSV / formula injection).

Records come from other databases' exports and from colleagues; the exports are opened in Excel
or LibreOffice, which run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (a tab or a
carriage return first works too) as a formula (``=HYPERLINK(…)``, ``=cmd|'/c calc'!A1``).
OWASP's rule: such a text cell gets a leading single quote, and the CSV writer quotes fields
with separators and doubles quotes (Python's ``csv`` module does, RFC 4180). The full-width
forms (``＝＋－＠``) count too, as some spreadsheets fold them.

Real values are left as they are: numbers (``int``/``float``), and text that is a plain number
(``-0.49``, ``+3``, ``-1e-5``), which a spreadsheet reads as that number and never as a formula.
In an xlsx file the text is kept unchanged and written as a text cell with Excel's quote prefix
(what typing ``'=…`` does), so it is never a formula and nothing is added to it.
``unquote`` takes the quote off again where reviewflow reads a sheet it may have written
(``extraction import``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def dangerous(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula."""
    return text.startswith(TRIGGERS) and not _NUMBER.fullmatch(text)


def safe_cell(value: Any) -> Any:
    """``value`` for a CSV cell: text that could be a formula gets a leading ``'``."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def _needs_quote(text: str) -> bool:
    """Dangerous, or quotes before something dangerous (``'=x`` is written ``''=x``, which a
    spreadsheet shows as ``'=x``, and :func:`unquote` reads back as ``'=x``)."""
    return dangerous(text.lstrip("'"))


def unquote(text: str) -> str:
    """The inverse of :func:`safe_cell`, for sheets read back in: exactly one leading ``'`` is
    removed when the rest could be a formula (``'=x`` → ``=x``, ``''=x`` → ``'=x``); any other
    text is unchanged (``'quoted'``, ``'-12``)."""
    if text.startswith("'") and _needs_quote(text[1:]):
        return text[1:]
    return text


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: safe_cell(v) for k, v in row.items()}


def safe_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame with its text columns made safe for CSV (numeric columns,
    and the column names, are untouched)."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype.kind not in "biufcmM":  # not bool, number or date: text
            out[name] = out[name].map(safe_cell)
    return out


def protect_sheet(sheet: Any) -> None:
    """Every text cell of an openpyxl worksheet that could be a formula becomes a text cell with
    the quote prefix (openpyxl makes any string starting with ``=`` a formula)."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and dangerous(cell.value):
                cell.data_type = "s"
                cell.quotePrefix = True
