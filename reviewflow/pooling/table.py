"""Reading and checking the study table: one row per study, the columns a measure needs.

Every problem a reviewer can fix is an :class:`InputError` naming the file, the row and the
column, e.g. ``outcomes.csv: row 3 (line 4), column 'events': 12 events > 10 total``.

Columns by data type (the roles; the user names the columns with ``--events COL`` etc.):
proportions ``events, total``; two-group binary ``events1, total1, events2, total2``;
two-group continuous ``mean1, sd1, n1, mean2, sd2, n2``; one-group means ``mean, sd, n``;
generic inverse variance ``yi`` with ``vi`` or ``sei``, or ``estimate, ci_lower, ci_upper``.
A proportion count that is missing is an error (as before); for the other data types a
study with an empty cell is left out and reported, as metafor leaves out studies with NA.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reviewflow.errors import InputError

# what each role holds: count (whole ≥ 0), total (whole ≥ 1), real, sd (≥ 0), size (whole ≥ 1),
# variance and se (> 0); counts, totals and sizes are at most MAX_COUNT
ROLE_KINDS = {
    "events": "count",
    "total": "total",
    "events1": "count",
    "total1": "total",
    "events2": "count",
    "total2": "total",
    "mean": "real",
    "sd": "sd",
    "n": "size",
    "mean1": "real",
    "sd1": "sd",
    "n1": "size",
    "mean2": "real",
    "sd2": "sd",
    "n2": "size",
    "yi": "real",
    "vi": "variance",
    "sei": "se",
    "estimate": "real",
    "ci_lower": "real",
    "ci_upper": "real",
}
_PAIRS = (("events", "total"), ("events1", "total1"), ("events2", "total2"))
_MISSING = ("", "na", "nan", "none", "null")
MODERATOR_PREFIX = "moderator:"
# more people than live on Earth: 1e308 is a typing or export error, not a count (and breaks
# the arithmetic); well below 2**53, so every count is exact as a float
MAX_COUNT = 10**10
_WHOLE = ("count", "total", "size")


def flag(role: str) -> str:
    """The CLI option of a role: ``ci_lower`` → ``--ci-lower``."""
    return "--" + role.replace("_", "-")


@dataclass
class CheckedTable:
    """A checked study table (columns study, row (1-based, in the input), the roles,
    [subgroup], [moderator:COL]) and the studies left out, with the reason."""

    frame: pd.DataFrame
    dropped: list[tuple[str, str]] = field(default_factory=list)


def read_frame(path: Path) -> pd.DataFrame:
    """A CSV (or TSV) file as text cells, with one-line errors."""
    try:
        sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "empty file"
        raise InputError(f"{path}: cannot read as CSV ({message})") from None


def read_study_table(
    path: Path, events: str, total: str, study: str | None = None, subgroup: str | None = None
) -> pd.DataFrame:
    """Read a CSV (or TSV) study table and return a checked frame with columns
    ``study``, ``events``, ``total`` (and ``subgroup`` when asked)."""
    return check_study_table(
        read_frame(path),
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
    checked = check_table(
        frame,
        {"events": events, "total": total},
        study=study,
        subgroup=subgroup,
        source=source,
        header_lines=header_lines,
        drop_missing=False,
    )
    table = checked.frame.drop(columns="row")
    for role in ("events", "total"):
        table[role] = table[role].astype(int)
    return table


def check_table(
    frame: pd.DataFrame,
    roles: Mapping[str, str],
    *,
    study: str | None = "study",
    subgroup: str | None = None,
    moderators: Sequence[str] = (),
    source: str = "study table",
    header_lines: int | None = None,
    drop_missing: bool = True,
) -> CheckedTable:
    """Check the columns named in ``roles`` (role → column) and return them as numbers.

    A missing value leaves the study out (reported in ``dropped``) when ``drop_missing``, else
    it is an error. Moderator cells are kept as text (``moderator:COL``); a study without a
    moderator value stays in the table (the meta-regression leaves it out).
    """
    named: list[tuple[str, str | None]] = [(flag(r), c) for r, c in roles.items()]
    named += [("--study", study), ("--subgroup", subgroup)]
    named += [("--moderator", m) for m in moderators]
    for option, column in named:
        if column is not None and column not in frame.columns:
            known = ", ".join(repr(str(c)) for c in frame.columns)
            raise InputError(f"{source}: no column {column!r} ({option}); columns are {known}")
    if len(frame) == 0:
        raise InputError(f"{source}: no studies (the table has no rows)")

    def where(i: int, column: str) -> str:
        line = f" (line {i + 1 + header_lines})" if header_lines is not None else ""
        return f"{source}: row {i + 1}{line}, column {column!r}"

    # Whole columns at once (k = 10,000 in milliseconds); the first bad cell, in row order and
    # then column order, is read again by _cell for its message, as a row-by-row check would.
    k = len(frame)
    numbers: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    first_bad = np.full(k, len(roles), dtype=int)  # per row, the first column with an error
    for j, (role, column) in enumerate(roles.items()):
        values, empty, bad = _column(frame[column], ROLE_KINDS[role])
        if not drop_missing:
            bad |= empty
        numbers[role], missing[role] = values, empty
        first_bad = np.where(bad & (first_bad == len(roles)), j, first_bad)
    pair_bad = np.zeros(k, dtype=bool)
    for events, total in _PAIRS:
        if events in numbers and total in numbers:
            pair_bad |= numbers[events] > numbers[total]
    labels = None
    sub_bad = np.zeros(k, dtype=bool)
    if subgroup is not None:
        labels = frame[subgroup].astype(str).str.strip().to_numpy()
        sub_bad = np.isin(np.char.lower(labels.astype(str)), ("", "nan", "na"))
    failing = np.flatnonzero((first_bad < len(roles)) | pair_bad | sub_bad)
    if failing.size:
        i = int(failing[0])
        if first_bad[i] < len(roles):
            role, column = list(roles.items())[first_bad[i]]
            if _cell(frame[column].iloc[i], ROLE_KINDS[role], where(i, column)) is None:
                raise InputError(f"{where(i, column)}: missing count")
        for events, total in _PAIRS:
            if events in numbers and total in numbers and numbers[events][i] > numbers[total][i]:
                x, n = numbers[events][i], numbers[total][i]
                raise InputError(f"{where(i, roles[events])}: {x:.0f} events > {n:.0f} total")
        raise InputError(f"{where(i, str(subgroup))}: missing subgroup")

    names = (
        frame[study].astype(str).str.strip().to_numpy()
        if study is not None
        else np.full(k, "", dtype=object)
    )
    table = pd.DataFrame(
        {
            "study": [n or f"Study {i + 1}" for i, n in enumerate(names)],
            "row": np.arange(1, k + 1),
            **numbers,
        }
    )
    _refuse_repeated_rows(table, list(roles), source, header_lines)
    if labels is not None:
        table["subgroup"] = labels
    for m in moderators:
        text = frame[m].astype(str).str.strip()
        table[MODERATOR_PREFIX + m] = text.where(~text.str.lower().isin(_MISSING), None)
    gone = np.zeros(k, dtype=bool)
    for empty in missing.values():
        gone |= empty
    dropped = [
        (
            str(table["study"].iloc[i]),
            "no " + ", no ".join(f"{r} (column {c!r})" for r, c in roles.items() if missing[r][i]),
        )
        for i in np.flatnonzero(gone)
    ]
    return CheckedTable(table[~gone].reset_index(drop=True), dropped)


def _refuse_repeated_rows(
    table: pd.DataFrame, roles: list[str], source: str, header_lines: int | None
) -> None:
    """A study on two rows with the same numbers was entered twice (counting it twice). Two
    studies may share a label with different numbers: metafor accepts that, and real tables
    do it (dat.bcg names two trials "Rosenthal et al", dat.egger2001 three "Shechter")."""
    key = ["study", *roles]
    repeated = table.duplicated(subset=key, keep=False).to_numpy()
    if not repeated.any():
        return
    group = table.groupby(key, dropna=False, sort=False).ngroup().to_numpy()
    first = int(np.flatnonzero(repeated)[0])
    name = str(table["study"].iloc[first])
    rows = [int(i) + 1 for i in np.flatnonzero(group == group[first])]
    where = "rows " + ", ".join(map(str, rows))
    if header_lines is not None:
        where += " (lines " + ", ".join(str(r + header_lines) for r in rows) + ")"
    raise InputError(
        f"{source}: {where} give study {name!r} with the same numbers: entered twice? If these "
        f"are different studies, give them distinct labels (e.g. {name + ' a'!r}, {name + ' b'!r})"
    )


def _column(cells: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A column as numbers (NaN when empty), which cells are empty, and which are wrong (what
    :func:`_cell` would refuse)."""
    if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
        values = cells.to_numpy(dtype=float, na_value=np.nan).copy()
        return values, np.isnan(values), _wrong(values, np.isnan(values), kind)
    text = cells.astype(str).str.strip()
    empty = np.array(text.str.lower().isin(_MISSING), dtype=bool)
    values = np.array(pd.to_numeric(text.where(~empty), errors="coerce"), dtype=float)
    for i in np.flatnonzero(np.isnan(values) & ~empty):  # what to_numeric does not read
        try:
            values[i] = float(text.iloc[i])
        except ValueError:
            continue
    empty |= np.isnan(values) & text.str.lower().isin(("nan", "+nan", "-nan")).to_numpy()
    return values, empty, _wrong(values, empty, kind)


def _wrong(values: np.ndarray, empty: np.ndarray, kind: str) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        bad = np.isnan(values) & ~empty  # not a number
        if kind in _WHOLE:
            bad |= ~empty & ((values < 0) | ~np.isfinite(values) | (values % 1 != 0))
            bad |= values > MAX_COUNT
            if kind != "count":
                bad |= values == 0
        else:
            bad |= np.isinf(values)
            if kind == "sd":
                bad |= values < 0
            elif kind in ("variance", "se"):
                bad |= values <= 0
    return bad


def _cell(value: object, kind: str, place: str) -> float | None:
    """One cell as a number of its kind, None when empty; InputError when it is wrong."""
    text = "" if value is None else str(value).strip()
    if text.lower() in _MISSING:
        return None
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"{place}: {text!r} is not a number") from None
    if math.isnan(number):
        return None
    if math.isinf(number) and kind not in _WHOLE:
        raise InputError(f"{place}: {text} is not a finite number")
    if kind == "size" and number <= 0:
        raise InputError(f"{place}: the sample size must be positive (got {text})")
    if kind in _WHOLE:
        if number < 0:
            raise InputError(f"{place}: negative count {text}")
        if not number.is_integer() or math.isinf(number):
            hint = " (round an effective sample size)" if kind == "size" else ""
            raise InputError(f"{place}: {text} is not a whole number{hint}")
        if number > MAX_COUNT:
            raise InputError(f"{place}: {text} is not a count (more than {MAX_COUNT:,})")
        if kind == "total" and number == 0:
            raise InputError(f"{place}: total is 0")
    elif kind == "sd" and number < 0:
        raise InputError(f"{place}: negative standard deviation {text}")
    elif kind in ("variance", "se") and number <= 0:
        what = "sampling variance" if kind == "variance" else "standard error"
        raise InputError(f"{place}: the {what} must be positive (got {text})")
    return number
