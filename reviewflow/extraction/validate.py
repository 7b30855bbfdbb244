"""Checking extracted values against the form: types, ranges, choices, events ≤ total, required.

Values are stored as the reviewer typed them; :func:`check_value` says whether a text is a valid
value of its field and gives its normal form (``" Yes "`` → ``"yes"``, ``"12.50"`` → ``"12.5"``),
which is what two reviewers' values are compared on. Messages name the field by its label.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from reviewflow.extraction.forms import Form, FormField, Outcome

YES = ("yes", "y", "true", "1")
NO = ("no", "n", "false", "0")
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one text: ``problem`` is empty when the value is valid."""

    key: str
    text: str
    normal: str = ""
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class Problem:
    key: str
    message: str


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e15 else str(x)


def _range(f: FormField, x: float) -> str:
    unit = f" {f.unit}" if f.unit else ""
    if f.minimum is not None and x < f.minimum:
        return f"{f.label}: must be at least {_fmt(f.minimum)}{unit} (got {_fmt(x)})"
    if f.maximum is not None and x > f.maximum:
        return f"{f.label}: must be at most {_fmt(f.maximum)}{unit} (got {_fmt(x)})"
    return ""


def check_value(f: FormField, text: str) -> Checked:
    """Check one entered text. An empty text is valid here (it means "not entered");
    :func:`check_study` reports required fields left empty."""
    raw = text.strip()
    if not raw:
        return Checked(f.key, text)
    if f.type == "text":
        return Checked(f.key, text, raw)
    if f.type == "integer":
        if not _INTEGER.match(raw):
            return Checked(f.key, text, problem=f"{f.label}: must be a whole number (got {raw!r})")
        n = int(raw)
        return Checked(f.key, text, str(n), _range(f, n))
    if f.type == "number":
        if "," in raw:
            return Checked(
                f.key, text, problem=f"{f.label}: use a decimal point, not a comma (got {raw!r})"
            )
        if not _NUMBER.match(raw):
            return Checked(f.key, text, problem=f"{f.label}: must be a number (got {raw!r})")
        x = float(raw)
        if not math.isfinite(x):
            return Checked(f.key, text, problem=f"{f.label}: must be a finite number")
        normal = str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
        return Checked(f.key, text, normal, _range(f, x))
    if f.type == "choice":
        for choice in f.choices:
            if raw.lower() == choice.lower():
                return Checked(f.key, text, choice)
        return Checked(
            f.key, text, problem=f"{f.label}: must be one of {', '.join(f.choices)} (got {raw!r})"
        )
    if f.type == "yesno":
        low = raw.lower()
        if low in YES:
            return Checked(f.key, text, "yes")
        if low in NO:
            return Checked(f.key, text, "no")
        return Checked(f.key, text, problem=f"{f.label}: must be yes or no (got {raw!r})")
    if f.type == "date":
        try:
            return Checked(f.key, text, date.fromisoformat(raw).isoformat())
        except ValueError:
            return Checked(
                f.key, text, problem=f"{f.label}: must be a date YYYY-MM-DD (got {raw!r})"
            )
    raise AssertionError(f"unknown field type {f.type}")


def check_study(form: Form, values: Mapping[str, str], *, complete: bool = False) -> list[Problem]:
    """Every problem in one study's values (field order): each value's own check, then
    outcome rules (events ≤ total in each group; all of an outcome's parts or none).
    ``complete=True`` also reports required fields left empty."""
    problems: list[Problem] = []
    normal: dict[str, str] = {}
    for f in form.fields:
        text = values.get(f.key, "")
        checked = check_value(f, text)
        if checked.problem:
            problems.append(Problem(f.key, checked.problem))
        elif checked.normal:
            normal[f.key] = checked.normal
        elif complete and f.required:
            problems.append(Problem(f.key, f"{f.label}: required"))
    for o in form.outcomes:
        problems += _outcome_problems(form, o, normal, complete)
    return problems


def _outcome_problems(
    form: Form, o: Outcome, normal: Mapping[str, str], complete: bool
) -> list[Problem]:
    """events ≤ total (per group); with ``complete``, all of an outcome's parts or none."""
    problems = []
    key = f"outcome.{o.key}."
    for number in ("1", "2") if o.groups else ("",):
        ev, tot = f"{key}events{number}", f"{key}total{number}"
        if ev in normal and tot in normal and int(normal[ev]) > int(normal[tot]):
            group = f", {o.groups[int(number) - 1]}" if number else ""
            problems.append(
                Problem(ev, f"{o.label}{group}: events ({normal[ev]}) exceed total ({normal[tot]})")
            )
    keys = o.part_keys()
    given = [k for k in keys if k in normal]
    if complete and given and len(given) != len(keys):
        missing = next(k for k in keys if k not in normal)
        if o.groups:
            parts = "events and total" if o.kind == "binary" else "mean, SD and n"
            rule = f"give {parts} of both groups, or nothing"
            what = form.get(missing).label.removeprefix(f"{o.label}: ")
        else:
            rule = "give both or neither" if o.kind == "binary" else "give mean, SD and n"
            what = missing.rsplit(".", 1)[1]
        problems.append(Problem(missing, f"{o.label}: {what} missing ({rule})"))
    return problems


def problems_by_field(problems: list[Problem]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in problems:
        out.setdefault(p.key, p.message)
    return out


def normal_value(f: FormField, text: str) -> str | None:
    """The normal form of a valid value (``""`` when empty), or None when invalid."""
    checked = check_value(f, text)
    return None if checked.problem else checked.normal
