"""Reading and checking the study table: one row per study with events and total.

Every problem a reviewer can fix is an :class:`InputError` naming the file, the row and the
column, e.g. ``outcomes.csv: row 3 (line 4), column 'events': 12 events > 10 total``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from reviewflow.errors import InputError


def read_study_table(
    path: Path, events: str, total: str, study: str | None = None, subgroup: str | None = None
) -> pd.DataFrame:
    """Read a CSV (or TSV) study table and return a checked frame with columns
    ``study``, ``events``, ``total`` (and ``subgroup`` when asked)."""
    try:
        sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "empty file"
        raise InputError(f"{path}: cannot read as CSV ({message})") from None
    return check_study_table(
        frame,
        events=events,
        total=total,
        study=study,
        subgroup=subgroup,
        source=str(path),
        header_lines=1,
    )


def check_study_table(
    frame: pd.DataFrame,
    events: str = "events",
    total: str = "total",
    study: str | None = "study",
    subgroup: str | None = None,
    source: str = "study table",
    header_lines: int | None = None,
) -> pd.DataFrame:
    """Validate counts and return a new frame with columns study, events, total[, subgroup].

    ``header_lines`` (for files) adds the line number to each message. Without a ``study``
    column, studies are named "Study 1", "Study 2", … in row order.
    """
    for role, column in (
        ("--events", events),
        ("--total", total),
        ("--study", study),
        ("--subgroup", subgroup),
    ):
        if column is not None and column not in frame.columns:
            known = ", ".join(repr(str(c)) for c in frame.columns)
            raise InputError(f"{source}: no column {column!r} ({role}); columns are {known}")
    if len(frame) == 0:
        raise InputError(f"{source}: no studies (the table has no rows)")

    def where(i: int, column: str) -> str:
        line = f" (line {i + 1 + header_lines})" if header_lines is not None else ""
        return f"{source}: row {i + 1}{line}, column {column!r}"

    def count(i: int, column: str, value: object) -> int:
        text = "" if value is None else str(value).strip()
        if text == "" or text.lower() in ("na", "nan", "none", "null"):
            raise InputError(f"{where(i, column)}: missing count")
        try:
            number = float(text)
        except ValueError:
            raise InputError(f"{where(i, column)}: {text!r} is not a number") from None
        if math.isnan(number):
            raise InputError(f"{where(i, column)}: missing count")
        if number < 0:
            raise InputError(f"{where(i, column)}: negative count {text}")
        if not number.is_integer() or math.isinf(number):
            raise InputError(f"{where(i, column)}: {text} is not a whole number")
        return int(number)

    rows = []
    for i, (_, record) in enumerate(frame.iterrows()):
        x = count(i, events, record[events])
        n = count(i, total, record[total])
        if n == 0:
            raise InputError(f"{where(i, total)}: total is 0")
        if x > n:
            raise InputError(f"{where(i, events)}: {x} events > {n} total")
        name = str(record[study]).strip() if study is not None else ""
        row: dict[str, object] = {"study": name or f"Study {i + 1}", "events": x, "total": n}
        if subgroup is not None:
            label = str(record[subgroup]).strip()
            if label == "" or label.lower() in ("nan", "na"):
                raise InputError(f"{where(i, subgroup)}: missing subgroup")
            row["subgroup"] = label
        rows.append(row)
    return pd.DataFrame(rows)
