"""Conflicts and their resolution, stage by stage.

A record is in conflict at a stage when :mod:`reviewflow.screening.flow` says so: every required
reviewer has decided and they do not all agree on include or exclude ("maybe" always needs
reconciling; at full text, exclusions for different reasons too). Only then are the reviewers'
decisions shown side by side: this is where reconciliation starts and blinding ends, for that
record only. A resolution is the final decision (include or exclude, with a reason), by the
adjudicator or by the reviewers together; it is audited (``resolution.set``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from reviewflow.access.guard import require_lead
from reviewflow.errors import InputError
from reviewflow.screening import flow
from reviewflow.screening.decisions import (
    ScreeningRules,
    check_fulltext_reason,
    check_stage,
    reviewer_row,
)
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import Decision, Record, Resolution, Reviewer, utcnow


@dataclass(frozen=True)
class ReviewerDecision:
    reviewer: str
    decision: str
    reason: str
    note: str
    decided_at: datetime
    labels: tuple[str, ...] = ()  # the reviewer's own labels, shown once in conflict


@dataclass(frozen=True)
class Conflict:
    record_id: int
    stage: str
    title: str
    year: int | None
    pmid: str
    decisions: list[ReviewerDecision]  # every reviewer's, side by side
    resolution: str = ""  # the final decision once resolved
    resolution_reason: str = ""
    resolution_note: str = ""
    resolved_by: str = ""


def _stage_state(session: Session, stage: str, rules: ScreeningRules) -> flow.StageState:
    f = flow.review_flow(session, rules.reviewers_per_record)
    return f.title_abstract if stage == flow.TITLE_ABSTRACT else f.full_text


def conflicts(
    store: Store, stage: str, rules: ScreeningRules | None = None, include_resolved: bool = False
) -> list[Conflict]:
    """The records of the stage in conflict (and, with ``include_resolved``, the ones whose
    conflict was resolved), each with every reviewer's decision."""
    require_lead(store, "reconciliation")
    rules = rules or ScreeningRules()
    check_stage(stage)
    with store.read() as s:
        state = _stage_state(s, stage, rules)
        ids = set(state.ids(flow.CONFLICT))
        resolutions: dict[int, Resolution] = {}
        if include_resolved:
            for res in s.exec(select(Resolution).where(Resolution.stage == stage)).all():
                if res.record_id in state.resolved:
                    resolutions[res.record_id] = res
            # a resolved record counts only if its reviewers had decided (a real conflict)
            ids |= {r for r in resolutions if state.decided_by.get(r, 0) >= 1}
        return _load(s, stage, sorted(ids), resolutions)


def _load(
    s: Session, stage: str, ids: list[int], resolutions: dict[int, Resolution]
) -> list[Conflict]:
    if not ids:
        return []
    names = {i: n for i, n in s.execute(select(Reviewer.id, Reviewer.name)).all()}
    by_record: dict[int, list[ReviewerDecision]] = {i: [] for i in ids}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for d in s.exec(
            select(Decision)
            .where(Decision.stage == stage, col(Decision.record_id).in_(chunk))
            .order_by(col(Decision.reviewer_id))
        ).all():
            by_record[d.record_id].append(
                ReviewerDecision(
                    names.get(d.reviewer_id, "?"),
                    d.decision,
                    d.reason,
                    d.note,
                    d.decided_at,
                    tuple(d.labels),
                )  # fmt: skip
            )
    records = {r.id: r for r in s.exec(select(Record).where(col(Record.id).in_(ids))).all()}
    out = []
    for rid in ids:
        rec = records[rid]
        res = resolutions.get(rid)
        out.append(
            Conflict(
                rid,
                stage,
                rec.title,
                rec.year,
                rec.pmid,
                by_record[rid],
                res.decision if res else "",
                res.reason if res else "",
                res.note if res else "",
                res.resolved_by if res else "",
            )  # fmt: skip
        )
    return out


def resolve(
    store: Store,
    resolved_by: str | tuple[str, ...] | list[str],
    record_id: int,
    stage: str,
    decision: str,
    reason: str,
    note: str = "",
    rules: ScreeningRules | None = None,
) -> Resolution:
    """Record the final decision on a conflict. ``resolved_by`` is the adjudicator's name or the
    two reviewers' names (reconciling together). Only records in conflict (or already resolved,
    to revise the resolution) can be resolved; the reason is required."""
    require_lead(store, "reconciliation")
    rules = rules or ScreeningRules()
    check_stage(stage)
    if decision not in (flow.INCLUDE, flow.EXCLUDE):
        raise InputError(f"a resolution is include or exclude, not {decision!r}")
    if not reason.strip():
        raise InputError("a resolution needs a reason")
    if stage == flow.FULL_TEXT and decision == flow.EXCLUDE:
        reason = check_fulltext_reason(reason, rules)  # review.toml's, or "Other: …"
    names = [resolved_by] if isinstance(resolved_by, str) else list(resolved_by)
    with store.write() as s:
        people = [reviewer_row(s, n) for n in names]
        if len(people) == 1 and people[0].role != "adjudicator":
            raise InputError(
                f"{names[0]!r} is not an adjudicator in review.toml: a reviewer resolves a "
                "conflict only together with the other reviewer"
            )
        state = _stage_state(s, stage, rules)
        if state.outcome.get(record_id) not in (flow.CONFLICT,) and record_id not in state.resolved:
            raise InputError(f"record {record_id}: not in conflict at {stage}")
        if len(people) > 1:
            decided = set(
                s.exec(
                    select(Decision.reviewer_id).where(
                        Decision.record_id == record_id, Decision.stage == stage
                    )
                ).all()
            )
            if not {p.id for p in people} <= decided:
                raise InputError(
                    f"record {record_id}: only the reviewers who screened it resolve it together"
                )
        row = s.exec(
            select(Resolution).where(Resolution.record_id == record_id, Resolution.stage == stage)
        ).first()
        before = None
        if row is None:
            row = Resolution(record_id=record_id, stage=stage, decision=decision)
        else:
            before = {"decision": row.decision, "reason": row.reason, "note": row.note,
                      "resolved_by": row.resolved_by}  # fmt: skip
        row.decision, row.reason, row.note = decision, reason, note
        row.resolved_by, row.resolved_at = " + ".join(names), utcnow()
        s.add(row)
        s.flush()
        audit(s, row.resolved_by, "resolution.set", "resolution", row.id, before,
              {"stage": stage, "decision": decision, "reason": reason, "note": note,
               "resolved_by": row.resolved_by}, record_id=record_id)  # fmt: skip
        return row
