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

import pandas as pd

from reviewflow.errors import InputError

# what each role holds: count (whole ≥ 0), total (whole ≥ 1), real, sd (≥ 0), size (> 0),
# variance and se (> 0)
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

    rows: list[dict[str, object]] = []
    dropped: list[tuple[str, str]] = []
    for i, (_, record) in enumerate(frame.iterrows()):
        name = str(record[study]).strip() if study is not None else ""
        row: dict[str, object] = {"study": name or f"Study {i + 1}", "row": i + 1}
        missing = []
        for role, column in roles.items():
            value = _cell(record[column], ROLE_KINDS[role], where(i, column))
            if value is None:
                if not drop_missing:
                    raise InputError(f"{where(i, column)}: missing count")
                missing.append(f"{role} (column {column!r})")
            row[role] = value
        for events, total in _PAIRS:
            x, n = row.get(events), row.get(total)
            if isinstance(x, float) and isinstance(n, float) and x > n:
                raise InputError(f"{where(i, roles[events])}: {x:.0f} events > {n:.0f} total")
        if subgroup is not None:
            label = str(record[subgroup]).strip()
            if label == "" or label.lower() in ("nan", "na"):
                raise InputError(f"{where(i, subgroup)}: missing subgroup")
            row["subgroup"] = label
        for m in moderators:
            text = "" if record[m] is None else str(record[m]).strip()
            row[MODERATOR_PREFIX + m] = None if text.lower() in _MISSING else text
        if missing:
            dropped.append((str(row["study"]), "no " + ", no ".join(missing)))
            continue
        rows.append(row)
    columns = ["study", "row", *roles, *(["subgroup"] if subgroup else [])]
    columns += [MODERATOR_PREFIX + m for m in moderators]
    return CheckedTable(pd.DataFrame(rows, columns=columns), dropped)


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
    if math.isinf(number) and kind != "count" and kind != "total":
        raise InputError(f"{place}: {text} is not a finite number")
    if kind in ("count", "total"):
        if number < 0:
            raise InputError(f"{place}: negative count {text}")
        if not number.is_integer() or math.isinf(number):
            raise InputError(f"{place}: {text} is not a whole number")
        if kind == "total" and number == 0:
            raise InputError(f"{place}: total is 0")
    elif kind == "sd" and number < 0:
        raise InputError(f"{place}: negative standard deviation {text}")
    elif kind == "size" and number <= 0:
        raise InputError(f"{place}: the sample size must be positive (got {text})")
    elif kind in ("variance", "se") and number <= 0:
        what = "sampling variance" if kind == "variance" else "standard error"
        raise InputError(f"{place}: the {what} must be positive (got {text})")
    return number
