"""A reviewer's own extracted values: saved as entered, one short transaction each, audited.

Blinding lives here: every read takes the reviewer and selects only that reviewer's rows, so
the extraction screen of one reviewer can never show another's values. Comparing reviewers is
:mod:`reviewflow.extraction.consensus`'s job (the discrepancy view).

Audit rows: entity ``extraction_value``, action ``extraction.set``, ``before``/``after`` =
``{"study_id", "field", "value"}`` (``before`` null for a first entry).

Finishing a study: :func:`mark_finished` records that a reviewer has finished extracting a study
(refused while a required field is empty or a value is invalid); :func:`reopen` takes it back.
Only finished extractions are compared (:mod:`.consensus`). Editing a value of a finished study
is allowed and keeps it finished: the comparison always uses the current values, so a correction
made after finishing (for instance after the consensus meeting) is compared at once; a value
made invalid after finishing shows as a discrepancy, never as an agreement. Audit rows: entity
``extraction_status``, actions ``extraction.finished`` / ``extraction.reopened``,
``before``/``after`` = ``{"study_id", "finished_at"}``. Reads of the status are blinded like
the values: :func:`my_finished` returns the reviewer's own status only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from reviewflow.access.guard import require_self
from reviewflow.errors import InputError
from reviewflow.extraction.forms import Form
from reviewflow.extraction.validate import Problem, check_study, check_value
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import (
    ExtractionStatus,
    ExtractionValue,
    Reviewer,
    Study,
    utcnow,
)

ENTITY = "extraction_value"
SET = "extraction.set"
STATUS_ENTITY = "extraction_status"
FINISHED, REOPENED = "extraction.finished", "extraction.reopened"


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
    problem is returned; consensus and export accept only valid values. A choice is stored as
    the form spells it."""
    require_self(store, reviewer, "extraction")
    f = form.get(key)
    checked = check_value(f, text)
    problem = checked.problem
    if f.type == "choice" and checked.normal:
        text = checked.normal  # the form's own spelling: "rct" is stored as "RCT"
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
    require_self(store, reviewer, "extraction")
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
    require_self(store, reviewer, "extraction")
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
    require_self(store, reviewer, "extraction")
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


# -- finishing a study -----------------------------------------------------------------------
def _status_row(s: Session, study_id: int, reviewer_id: int | None) -> ExtractionStatus | None:
    return s.exec(
        select(ExtractionStatus).where(
            ExtractionStatus.study_id == study_id, ExtractionStatus.reviewer_id == reviewer_id
        )
    ).first()


def _extractor(s: Session, reviewer: str, study_id: int) -> tuple[Reviewer, Study]:
    me = reviewer_row(s, reviewer)  # the adjudicator extracts too, as one of the team
    study = s.get(Study, study_id)
    if study is None:
        raise InputError(f"study {study_id}: no such study")
    return me, study


def _stamp(study_id: int, at: datetime | None) -> dict[str, object]:
    return {"study_id": study_id, "finished_at": at.isoformat() if at is not None else None}


def mark_finished(store: Store, reviewer: str, form: Form, study_id: int) -> bool:
    """Record that ``reviewer`` has finished extracting the study (one transaction, audited).
    Refused with one line naming the fields while a required field is empty, a value is
    invalid or an outcome is half-given. Returns False when it was finished already."""
    require_self(store, reviewer, "extraction")
    with store.write() as s:
        me, study = _extractor(s, reviewer, study_id)
        rows = s.exec(
            select(ExtractionValue).where(
                ExtractionValue.study_id == study_id, ExtractionValue.reviewer_id == me.id
            )
        ).all()
        problems = check_study(form, {r.field: r.value for r in rows}, complete=True)
        if problems:
            raise InputError(
                f"{study.label}: not finished, {len(problems)} field"
                f"{'s' * (len(problems) != 1)} to fix: " + "; ".join(p.message for p in problems)
            )
        row = _status_row(s, study_id, me.id)
        if row is not None and row.finished_at is not None:
            return False
        before = None if row is None else _stamp(study_id, None)
        now = utcnow()
        if row is None:
            assert me.id is not None
            row = ExtractionStatus(study_id=study_id, reviewer_id=me.id)
        row.finished_at, row.updated_at = now, now
        s.add(row)
        s.flush()
        audit(s, reviewer, FINISHED, STATUS_ENTITY, row.id, before, _stamp(study_id, now))
        return True


def reopen(store: Store, reviewer: str, study_id: int) -> bool:
    """Take back ``reviewer``'s "finished" on the study (one transaction, audited): the study is
    no longer compared until they finish it again. Returns False when it was not finished."""
    require_self(store, reviewer, "extraction")
    with store.write() as s:
        me, _study = _extractor(s, reviewer, study_id)
        row = _status_row(s, study_id, me.id)
        if row is None or row.finished_at is None:
            return False
        before = _stamp(study_id, row.finished_at)
        row.finished_at, row.updated_at = None, utcnow()
        s.add(row)
        s.flush()
        audit(s, reviewer, REOPENED, STATUS_ENTITY, row.id, before, _stamp(study_id, None))
        return True


def my_finished(store: Store, reviewer: str, study_ids: list[int]) -> set[int]:
    """The studies (of ``study_ids``) that ``reviewer`` has finished; never anyone else's status."""
    require_self(store, reviewer, "extraction")
    if not study_ids:
        return set()
    with store.read() as s:
        me = reviewer_row(s, reviewer)
        rows = s.exec(
            select(ExtractionStatus.study_id).where(
                ExtractionStatus.reviewer_id == me.id,
                col(ExtractionStatus.study_id).in_(study_ids),
                col(ExtractionStatus.finished_at).is_not(None),
            )
        ).all()
        return set(rows)
