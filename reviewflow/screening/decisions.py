"""A reviewer's own decisions: decide, revise, undo, note, label, and "report not retrieved".

Every change is one short write transaction with its audit row, committed before the function
returns: when the screening screen moves on, the decision is on disk. Every function here takes
the reviewer and touches only that reviewer's own decision (blinding lives in the data layer).

Audit rows (``entity`` = ``decision``): ``decision.set`` (new or revised), ``decision.note``,
``decision.labels``, ``decision.undo``. ``before``/``after`` hold the decision's state (stage,
decision, reason, note, labels) or null; an undo row names the row it undid in
``after["undoes"]``.

A note or labels written before deciding are kept as a ``decision.draft_note`` /
``decision.draft_labels`` row (``entity`` = ``decision_draft``, ``after`` = stage, note and
labels) until the decision takes them; so are the note and labels of a decision undone back to
"not decided". Undoing a decision keeps its note and labels; undoing a note or label change puts
the previous note or labels back.

Reasons: at full text an exclusion needs one, from review.toml's list or the reviewer's own
("Other: …", :func:`other_reason`); at title/abstract a reason is optional and, when given,
from review.toml's ``title_abstract_exclusion_reasons``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, cast
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from reviewflow.access.guard import behind_rls, require_self
from reviewflow.errors import InputError, ReviewflowError
from reviewflow.screening import flow
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import (
    DECISIONS,
    STAGES,
    AuditEntry,
    Decision,
    FulltextRetrieval,
    Record,
    Resolution,
    Reviewer,
    utcnow,
)
from reviewflow.store.sql import id_in
from reviewflow.workspace import DEFAULT_EXCLUSION_REASONS, ReviewConfig

ENTITY = "decision"
SET, NOTE, LABELS, UNDO = "decision.set", "decision.note", "decision.labels", "decision.undo"
DRAFT_ENTITY, DRAFT, DRAFT_LABELS = "decision_draft", "decision.draft_note", "decision.draft_labels"
OTHER_PREFIX = "Other: "  # a full-text exclusion reason the reviewer wrote (not in the list)
MAX_REASON = 200  # Decision.reason's length
MAX_LABEL, MAX_LABELS = 40, 20


@dataclass(frozen=True)
class ScreeningRules:
    """What review.toml says about screening."""

    reviewers_per_record: int = 2
    exclusion_reasons: tuple[str, ...] = tuple(DEFAULT_EXCLUSION_REASONS)  # full text
    title_abstract_reasons: tuple[str, ...] = ()  # optional at title/abstract
    suggested_labels: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: ReviewConfig) -> ScreeningRules:
        return cls(config.reviewers_per_record, tuple(config.exclusion_reasons),
                   tuple(config.title_abstract_reasons), tuple(config.suggested_labels))  # fmt: skip


@dataclass(frozen=True)
class MyDecision:
    """One reviewer's decision on one record at one stage (never anyone else's)."""

    record_id: int
    stage: str
    decision: str
    reason: str = ""
    note: str = ""
    decided_at: datetime | None = None
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """What a call changed: the decision before and after (None = no decision)."""

    record_id: int
    stage: str
    before: MyDecision | None
    after: MyDecision | None
    extra: dict[str, Any] = field(default_factory=dict)


def check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise InputError(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
    return stage


def reviewer_row(session: Session, name: str) -> Reviewer:
    row = session.exec(select(Reviewer).where(Reviewer.name == name)).first()
    if row is None or row.id is None:
        raise InputError(f"review.toml: no reviewer named {name!r}; add a [[reviewers]] entry")
    return row


def _state(d: Decision | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"stage": d.stage, "decision": d.decision, "reason": d.reason, "note": d.note,
            "labels": list(d.labels)}  # fmt: skip


def as_mine(d: Decision | None) -> MyDecision | None:
    if d is None:
        return None
    return MyDecision(d.record_id, d.stage, d.decision, d.reason, d.note, d.decided_at,
                      tuple(d.labels))  # fmt: skip


def other_reason(text: str) -> str:
    """The reason stored for a full-text exclusion the reviewer words themselves."""
    text = " ".join(text.split())
    if not text:
        raise InputError("an 'Other' exclusion reason needs a few words")
    reason = OTHER_PREFIX + text
    if len(reason) > MAX_REASON:
        raise InputError(
            f"an 'Other' exclusion reason is at most {MAX_REASON - len(OTHER_PREFIX)} "
            f"characters ({len(text)} given)"
        )
    return reason


def is_other(reason: str) -> bool:
    return reason.startswith(OTHER_PREFIX) and bool(reason[len(OTHER_PREFIX) :].strip())


def check_fulltext_reason(reason: str, rules: ScreeningRules) -> str:
    """A full-text exclusion reason: one of review.toml's, or the reviewer's own ("Other: …")."""
    if not reason:
        raise InputError("a full-text exclusion needs a reason (review.toml's list, or Other)")
    if reason in rules.exclusion_reasons:
        return reason
    if reason.startswith(OTHER_PREFIX):
        return other_reason(reason[len(OTHER_PREFIX) :])
    raise InputError(
        f"exclusion reason {reason!r} is not in review.toml's [screening] "
        f"fulltext_exclusion_reasons (or write your own as '{OTHER_PREFIX}…')"
    )


def clean_labels(labels: Sequence[str]) -> list[str]:
    """Labels as stored: trimmed, inner spaces single, empty ones dropped, each once (any
    case; the first spelling kept), in the order given."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in labels:
        label = " ".join(str(raw).split())
        if not label or label.casefold() in seen:
            continue
        if len(label) > MAX_LABEL or any(c in label for c in ",;"):
            raise InputError(
                f"label {label!r}: a label is at most {MAX_LABEL} characters, without , or ;"
            )
        seen.add(label.casefold())
        out.append(label)
    if len(out) > MAX_LABELS:
        raise InputError(f"at most {MAX_LABELS} labels on a decision ({len(out)} given)")
    return out


def _own(session: Session, reviewer_id: int, record_id: int, stage: str) -> Decision | None:
    return session.exec(
        select(Decision).where(
            Decision.record_id == record_id,
            Decision.reviewer_id == reviewer_id,
            Decision.stage == stage,
        )
    ).first()


def check_in_stage(
    session: Session, record_id: int, stage: str, rules: ScreeningRules, rls: bool = False
) -> None:
    """Refuse a decision on a record that is not in the stage (a duplicate, removed, not
    included at title/abstract, report not retrieved) or whose conflict was already resolved."""
    if session.get(Record, record_id) is None:
        raise InputError(f"record {record_id}: no such record in the review")
    in_ta = session.exec(select(Record.id).where(Record.id == record_id, flow.in_title_abstract()))
    if in_ta.first() is None:
        raise InputError(f"record {record_id}: a duplicate or removed before screening")
    if stage == flow.FULL_TEXT:
        if rls:
            included = record_id in flow.sought_ids(session, rules.reviewers_per_record,
                                                    behind_rls=True)  # fmt: skip
        else:
            ta = flow.stage_state(
                session, flow.TITLE_ABSTRACT, rules.reviewers_per_record, [record_id]
            )
            included = ta.outcome[record_id] == flow.INCLUDE
        if not included:
            raise InputError(f"record {record_id}: not included at title/abstract")
        if record_id in _not_retrieved(session, record_id):
            raise InputError(f"record {record_id}: its report was marked not retrieved")
    resolved = session.exec(
        select(Resolution.id).where(Resolution.record_id == record_id, Resolution.stage == stage)
    ).first()
    if resolved is not None:
        raise ReviewflowError(f"record {record_id}: already reconciled at {stage}; it is final")


def _not_retrieved(session: Session, record_id: int) -> set[int]:
    row = session.exec(
        select(FulltextRetrieval).where(FulltextRetrieval.record_id == record_id)
    ).first()
    return {record_id} if row is not None and row.status == "not_retrieved" else set()


def check_decision(stage: str, decision: str, reason: str, rules: ScreeningRules) -> str:
    """The reason to store with ``decision`` (refused if it does not fit the stage's rules)."""
    if decision not in DECISIONS:
        raise InputError(f"unknown decision {decision!r}: use one of {', '.join(DECISIONS)}")
    if decision != "exclude":
        return ""  # a reason goes with an exclusion only
    if stage == flow.FULL_TEXT:
        return check_fulltext_reason(reason, rules)
    if reason and reason not in rules.title_abstract_reasons:
        raise InputError(
            f"exclusion reason {reason!r} is not in review.toml's "
            "[screening] title_abstract_exclusion_reasons"
        )
    return reason  # optional at title/abstract


def decide(
    store: Store,
    reviewer: str,
    record_id: int,
    stage: str,
    decision: str,
    reason: str = "",
    note: str | None = None,
    rules: ScreeningRules | None = None,
) -> Change:
    """Record (or revise) ``reviewer``'s decision; committed with its audit row on return.
    ``note=None`` keeps the current note."""
    require_self(store, reviewer, "screening")
    rules = rules or ScreeningRules()
    check_stage(stage)
    reason = check_decision(stage, decision, reason, rules)
    for attempt in (1, 2):  # the same reviewer in two windows may race to insert the row
        try:
            with store.write() as s:
                me = reviewer_row(s, reviewer)
                assert me.id is not None
                check_in_stage(s, record_id, stage, rules, behind_rls(store))
                row = _own(s, me.id, record_id, stage)
                before = _state(row)
                old = as_mine(row)
                if row is None:
                    draft_text, draft_tags = draft(s, reviewer, record_id, stage)
                    row = Decision(record_id=record_id, reviewer_id=me.id, stage=stage,
                                   decision=decision, reason=reason,
                                   note=draft_text if note is None else note,
                                   labels=draft_tags)  # fmt: skip
                else:
                    row.decision, row.reason, row.decided_at = decision, reason, utcnow()
                    if note is not None:
                        row.note = note
                s.add(row)
                s.flush()
                audit(s, reviewer, SET, ENTITY, row.id, before, _state(row), record_id=record_id)
                return Change(record_id, stage, old, as_mine(row))
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def draft(session: Session, reviewer: str, record_id: int, stage: str) -> tuple[str, list[str]]:
    """The note and labels ``reviewer`` wrote on a record they have not decided."""
    rows = session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.record_id == record_id,
            AuditEntry.entity == DRAFT_ENTITY,
            AuditEntry.actor == reviewer,
        )
        .order_by(col(AuditEntry.id).desc())
    ).all()
    latest = next((e.after for e in rows if e.after and e.after.get("stage") == stage), None)
    if not latest:
        return "", []
    return str(latest.get("note", "")), [str(x) for x in latest.get("labels", [])]


def _save_draft(
    session: Session,
    reviewer: str,
    record_id: int,
    stage: str,
    note: str | None = None,
    labels: list[str] | None = None,
) -> None:
    """Keep a note and/or labels for the decision to come (None: as they are)."""
    old_note, old_labels = draft(session, reviewer, record_id, stage)
    new_note = old_note if note is None else note
    new_labels = old_labels if labels is None else labels
    if (new_note, new_labels) != (old_note, old_labels):
        action = DRAFT if new_note != old_note else DRAFT_LABELS
        audit(session, reviewer, action, DRAFT_ENTITY, None,
              {"stage": stage, "note": old_note, "labels": old_labels},
              {"stage": stage, "note": new_note, "labels": new_labels},
              record_id=record_id)  # fmt: skip


def set_note(store: Store, reviewer: str, record_id: int, stage: str, note: str) -> Change:
    """Change the note on the reviewer's own decision; on a record they have not decided yet,
    keep it until they decide (``Change.extra["draft"]``)."""
    return _annotate(store, reviewer, record_id, stage, note=note)


def set_labels(
    store: Store, reviewer: str, record_id: int, stage: str, labels: Sequence[str]
) -> Change:
    """Replace the labels on the reviewer's own decision (see :func:`clean_labels`); on a
    record they have not decided yet, keep them until they decide (``Change.extra["draft"]``,
    the labels kept). Audited (``decision.labels`` / ``decision.draft_labels``)."""
    return _annotate(store, reviewer, record_id, stage, labels=labels)


def _annotate(
    store: Store,
    reviewer: str,
    record_id: int,
    stage: str,
    *,
    note: str | None = None,
    labels: Sequence[str] | None = None,
) -> Change:
    """A new note or new labels (the other one as it is) on the reviewer's own decision, or
    kept as a draft until they decide."""
    require_self(store, reviewer, "screening")
    check_stage(stage)
    tags = None if labels is None else clean_labels(labels)
    with store.write() as s:
        me = reviewer_row(s, reviewer)
        assert me.id is not None
        row = _own(s, me.id, record_id, stage)
        if row is None:
            if s.get(Record, record_id) is None:
                raise InputError(f"record {record_id}: no such record in the review")
            _save_draft(s, reviewer, record_id, stage, note, tags)
            return Change(record_id, stage, None, None, {"draft": note if tags is None else tags})
        before, old = _state(row), as_mine(row)
        if tags is not None:
            if list(row.labels) == tags:
                return Change(record_id, stage, old, old)  # the same labels: no audit row
            row.labels = tags
        if note is not None:
            row.note = note
        s.add(row)
        action = NOTE if tags is None else LABELS
        audit(s, reviewer, action, ENTITY, row.id, before, _state(row), record_id=record_id)
        return Change(record_id, stage, old, as_mine(row))


def my_labels(store: Store, reviewer: str, stage: str) -> dict[int, list[str]]:
    """``reviewer``'s own labels at the stage, record id → labels (on their decisions, and
    those waiting on records they have not decided yet); records without labels left out.
    Never another reviewer's."""
    require_self(store, reviewer, "screening")
    check_stage(stage)
    out: dict[int, list[str]] = {}
    with store.read() as s:
        me = reviewer_row(s, reviewer)
        own = and_(col(Decision.reviewer_id) == me.id, col(Decision.stage) == stage)
        for e in s.exec(  # oldest first: the latest draft of a record wins
            select(AuditEntry)
            .where(AuditEntry.entity == DRAFT_ENTITY, AuditEntry.actor == reviewer)
            .order_by(col(AuditEntry.id))
        ):
            if e.record_id is not None and e.after and e.after.get("stage") == stage:
                out[e.record_id] = [str(x) for x in e.after.get("labels", [])]
        taken = s.execute(  # a decided record's draft went to its decision
            select(Decision.record_id).where(
                own, id_in(col(Decision.record_id), list(out), sqlite=store.is_sqlite)
            )
        ).scalars()
        for rid in list(taken):
            del out[rid]
        tagged = s.execute(  # only decisions with labels: no need to read every decision
            select(Decision.record_id, Decision.labels).where(
                own, cast(Decision.labels, Text) != "[]"
            )
        ).all()
    out |= {int(rid): [str(x) for x in tags] for rid, tags in tagged}
    return {rid: tags for rid, tags in sorted(out.items()) if tags}


def labels_used(store: Store, reviewer: str) -> list[str]:
    """Every label ``reviewer`` has used, at either stage, most used first (to suggest them)."""
    counts: dict[str, int] = {}
    spelling: dict[str, str] = {}
    for stage in STAGES:
        for tags in my_labels(store, reviewer, stage).values():
            for tag in tags:
                key = tag.casefold()
                spelling.setdefault(key, tag)
                counts[key] = counts.get(key, 0) + 1
    return [spelling[k] for k in sorted(counts, key=lambda k: (-counts[k], k))]


def _stage_of(entry: AuditEntry) -> str | None:
    for state in (entry.after, entry.before):
        if state and state.get("stage"):
            return str(state["stage"])
    return None


def last_changed(store: Store, reviewer: str, stage: str) -> int | None:
    """The record of ``reviewer``'s most recent change at ``stage`` that is not undone yet (what
    ``u`` undoes after a restart), or None."""
    require_self(store, reviewer, "screening")
    check_stage(stage)
    undone: set[int] = set()
    with store.read() as s:
        rows = s.exec(
            select(AuditEntry)
            .where(AuditEntry.entity == ENTITY, AuditEntry.actor == reviewer)
            .order_by(col(AuditEntry.id).desc())
            .limit(2000)  # enough to get past any run of undos; keeps start-up fast
        )
        for e in rows:  # newest first
            state = e.after or e.before or {}
            if state.get("stage") != stage:
                continue
            if e.action == UNDO:  # an undo comes after what it undid
                undone.add(int(state.get("undoes", 0)))
            elif e.id not in undone and e.record_id is not None:
                return e.record_id
    return None


def undo(store: Store, reviewer: str, record_id: int, stage: str) -> Change | None:
    """Put the reviewer's decision on the record back as it was before their last change to it
    (found in the audit trail); the undo is audited too. None when there is nothing to undo."""
    require_self(store, reviewer, "screening")
    check_stage(stage)
    with store.write() as s:
        me = reviewer_row(s, reviewer)
        assert me.id is not None
        entries = s.exec(
            select(AuditEntry)
            .where(
                AuditEntry.record_id == record_id,
                AuditEntry.entity == ENTITY,
                AuditEntry.actor == reviewer,
            )
            .order_by(col(AuditEntry.id).desc())
        ).all()
        mine = [e for e in entries if _stage_of(e) == stage]
        undone = {int(e.after["undoes"]) for e in mine if e.action == UNDO and e.after}
        undone |= {int(e.before["undoes"]) for e in mine if e.action == UNDO and e.before}
        target = next((e for e in mine if e.action != UNDO and e.id not in undone), None)
        if target is None:
            return None
        resolved = s.exec(
            select(Resolution.id).where(
                Resolution.record_id == record_id, Resolution.stage == stage
            )
        ).first()
        if resolved is not None:
            raise ReviewflowError(f"record {record_id}: already reconciled at {stage}; it is final")
        row = _own(s, me.id, record_id, stage)
        before, old = _state(row), as_mine(row)
        restored = target.before
        marker = {"undoes": target.id, "stage": stage}
        # undoing a decision keeps the note and labels written on it; undoing a note (label)
        # change puts the note (labels) back as they were
        kept_note = row.note if row is not None and target.action != NOTE else None
        kept_labels = list(row.labels) if row is not None and target.action != LABELS else None
        if restored is None:
            if row is not None:
                s.delete(row)
                _save_draft(s, reviewer, record_id, stage, kept_note, kept_labels)
            after = None
        else:
            if row is None:
                row = Decision(record_id=record_id, reviewer_id=me.id, stage=stage,
                               decision=str(restored["decision"]))  # fmt: skip
            row.decision = str(restored["decision"])
            row.reason = str(restored.get("reason", ""))
            row.note = kept_note if kept_note is not None else str(restored.get("note", ""))
            old_labels = restored.get("labels", row.labels)  # rows before 0011 have none
            row.labels = kept_labels if kept_labels is not None else [str(x) for x in old_labels]
            row.decided_at = utcnow()
            s.add(row)
            s.flush()
            after = as_mine(row)
        audit(s, reviewer, UNDO, ENTITY, row.id if row is not None else None,
              {**(before or {}), **marker}, {**((_state(row) or {}) if after else {}), **marker},
              record_id=record_id)  # fmt: skip
        return Change(record_id, stage, old, after)


def my_decision(store: Store, reviewer: str, record_id: int, stage: str) -> MyDecision | None:
    require_self(store, reviewer, "screening")
    with store.read() as s:
        me = reviewer_row(s, reviewer)
        assert me.id is not None
        return as_mine(_own(s, me.id, record_id, stage))


def my_decisions(store: Store, reviewer: str, stage: str) -> list[MyDecision]:
    """Every decision of this reviewer at the stage (only theirs), in record order."""
    require_self(store, reviewer, "screening")
    check_stage(stage)
    with store.read() as s:
        me = reviewer_row(s, reviewer)
        rows = s.exec(
            select(Decision)
            .where(Decision.reviewer_id == me.id, Decision.stage == stage)
            .order_by(col(Decision.record_id))
        ).all()
        return [m for m in map(as_mine, rows) if m is not None]


# -- full-text retrieval ----------------------------------------------------------------------
RETRIEVAL_ENTITY = "fulltext_retrieval"


def set_retrieval(
    store: Store, actor: str, record_id: int, retrieved: bool, note: str = ""
) -> str | None:
    """Mark a report "not retrieved" (or retrieved again). Returns the previous status."""
    require_self(store, actor, "full-text retrieval")
    status = "retrieved" if retrieved else "not_retrieved"
    with store.write() as s:
        reviewer_row(s, actor)
        if session_record(s, record_id) is None:
            raise InputError(f"record {record_id}: no such record in the review")
        row = s.exec(
            select(FulltextRetrieval).where(FulltextRetrieval.record_id == record_id)
        ).first()
        before = None if row is None else {"status": row.status, "note": row.note}
        if row is None:
            row = FulltextRetrieval(record_id=record_id, status=status)
        row.status, row.updated_by, row.updated_at = status, actor, utcnow()
        if note:
            row.note = note
        s.add(row)
        s.flush()
        audit(s, actor, "retrieval.set", RETRIEVAL_ENTITY, row.id, before,
              {"status": row.status, "note": row.note}, record_id=record_id)  # fmt: skip
        return None if before is None else str(before["status"])


def session_record(session: Session, record_id: int) -> Record | None:
    return session.get(Record, record_id)


def retrieval_status(store: Store, record_ids: Sequence[int]) -> dict[int, str]:
    with store.read() as s:
        rows = s.exec(
            select(FulltextRetrieval).where(col(FulltextRetrieval.record_id).in_(list(record_ids)))
        ).all()
    return {r.record_id: r.status for r in rows}
