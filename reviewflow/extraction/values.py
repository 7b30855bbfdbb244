"""A reviewer's own extracted values: saved as entered, one short transaction each, audited.

Blinding lives here: every read takes the reviewer and selects only that reviewer's rows, so
the extraction screen of one reviewer can never show another's values. Comparing reviewers is
:mod:`reviewflow.extraction.consensus`'s job (the discrepancy view).

Audit rows: entity ``extraction_value``, action ``extraction.set``, ``before``/``after`` =
``{"study_id", "field", "value"}`` (``before`` null for a first entry).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from reviewflow.errors import InputError
from reviewflow.extraction.forms import Form
from reviewflow.extraction.validate import Problem, check_study, check_value
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import ExtractionValue, Reviewer, Study, utcnow

ENTITY = "extraction_value"
SET = "extraction.set"


@dataclass(frozen=True)
class Saved:
    """What :func:`save_value` stored, and whether the value is valid for its field."""

    study_id: int
    key: str
    text: str
    changed: bool
    problem: str = ""


@dataclass(frozen=True)
class Progress:
    """How far a reviewer is with one study: fields filled out of the form's fields."""

    filled: int
    total: int
    required_missing: int
    problems: int

    @property
    def done(self) -> bool:
        return self.required_missing == 0 and self.problems == 0 and self.filled > 0


def reviewer_row(session: Session, name: str) -> Reviewer:
    row = session.exec(select(Reviewer).where(Reviewer.name == name)).first()
    if row is None or row.id is None:
        raise InputError(f"review.toml: no reviewer named {name!r}; add a [[reviewers]] entry")
    return row


def save_value(
    store: Store, reviewer: str, form: Form, study_id: int, key: str, text: str
) -> Saved:
    """Store ``text`` as ``reviewer``'s value of ``key`` for the study, committed with its
    audit row before returning. Invalid text is kept too (nothing typed is lost) and the
    problem is returned; consensus and export accept only valid values."""
    f = form.get(key)
    problem = check_value(f, text).problem
    for attempt in (1, 2):  # two windows of one reviewer may race to insert the row
        try:
            with store.write() as s:
                me = reviewer_row(s, reviewer)
                if s.get(Study, study_id) is None:
                    raise InputError(f"study {study_id}: no such study")
                row = s.exec(
                    select(ExtractionValue).where(
                        ExtractionValue.study_id == study_id,
                        ExtractionValue.reviewer_id == me.id,
                        ExtractionValue.field == key,
                    )
                ).first()
                if row is not None and row.value == text:
                    return Saved(study_id, key, text, False, problem)
                before = (
                    None
                    if row is None
                    else {"study_id": study_id, "field": key, "value": row.value}
                )
                if row is None:
                    assert me.id is not None
                    row = ExtractionValue(
                        study_id=study_id, reviewer_id=me.id, field=key, value=text
                    )
                else:
                    row.value, row.updated_at = text, utcnow()
                s.add(row)
                s.flush()
                audit(s, reviewer, SET, ENTITY, row.id, before,
                      {"study_id": study_id, "field": key, "value": text})  # fmt: skip
                return Saved(study_id, key, text, True, problem)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def my_values(store: Store, reviewer: str, study_id: int) -> dict[str, str]:
    """``reviewer``'s own values for one study (field → text as entered); never anyone else's."""
    with store.read() as s:
        me = reviewer_row(s, reviewer)
        rows = s.exec(
            select(ExtractionValue).where(
                ExtractionValue.study_id == study_id, ExtractionValue.reviewer_id == me.id
            )
        ).all()
        return {r.field: r.value for r in rows}


def my_progress(
    store: Store, reviewer: str, form: Form, study_ids: list[int]
) -> dict[int, Progress]:
    """``reviewer``'s progress on each study (from their own values only)."""
    keys = set(form.keys())
    with store.read() as s:
        me = reviewer_row(s, reviewer)
        values: dict[int, dict[str, str]] = defaultdict(dict)
        if study_ids:
            rows = s.exec(
                select(ExtractionValue).where(
                    ExtractionValue.reviewer_id == me.id,
                    col(ExtractionValue.study_id).in_(study_ids),
                )
            ).all()
            for r in rows:
                values[r.study_id][r.field] = r.value
    return {sid: progress_of(form, values.get(sid, {}), keys) for sid in study_ids}


def progress_of(form: Form, values: dict[str, str], keys: set[str] | None = None) -> Progress:
    keys = keys if keys is not None else set(form.keys())
    filled = sum(1 for k, v in values.items() if k in keys and v.strip())
    problems = check_study(form, values, complete=filled > 0)
    missing = sum(1 for p in problems if p.message.endswith(": required"))
    return Progress(filled, len(keys), missing, len(problems) - missing)


def my_problems(store: Store, reviewer: str, form: Form, study_id: int) -> list[Problem]:
    return check_study(form, my_values(store, reviewer, study_id), complete=True)


def my_screening_notes(store: Store, reviewer: str, record_ids: list[int]) -> list[str]:
    """``reviewer``'s own screening notes on the given reports (never another's)."""
    from reviewflow.store.models import Decision

    if not record_ids:
        return []
    with store.read() as s:
        me = reviewer_row(s, reviewer)
        rows = s.exec(
            select(Decision).where(
                Decision.reviewer_id == me.id, col(Decision.record_id).in_(record_ids)
            )
        ).all()
        return [f"{d.stage} (record {d.record_id}): {d.note}" for d in rows if d.note.strip()]
