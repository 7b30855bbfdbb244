"""Where each record stands in the review: the single definition that status, screening queues,
reconciliation and PRISMA all use.

- The records to screen at title/abstract are the records that are not an (active) duplicate of
  another record and were not removed before screening.
- A record's outcome at a stage is its resolution if it has one; otherwise, once the required
  number of reviewers have decided, their common decision if they all agree on include or
  exclude; otherwise a conflict ("maybe" always needs reconciliation; at full text, exclusions
  for different reasons too). Before that it is pending.
- The full-text stage takes the records whose title/abstract outcome is include. A report
  marked "not retrieved" is not assessed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, text, union
from sqlmodel import Session, col, select

from reviewflow.store.models import (
    Decision,
    DuplicateLink,
    FulltextRetrieval,
    PrescreenRemoval,
    Record,
    Resolution,
)

TITLE_ABSTRACT = "title-abstract"
FULL_TEXT = "full-text"
PENDING, CONFLICT, INCLUDE, EXCLUDE, NOT_RETRIEVED = (
    "pending", "conflict", "include", "exclude", "not-retrieved",
)  # fmt: skip


def duplicate_ids(session: Session) -> set[int]:
    """Records that are an active duplicate of a kept record."""
    rows = session.execute(select(DuplicateLink.record_id).where(DuplicateLink.undone_at.is_(None)))  # type: ignore[union-attr]
    return set(rows.scalars())


def removed_before_screening(session: Session) -> set[int]:
    return set(session.execute(select(PrescreenRemoval.record_id)).scalars())


def left_out_of_screening() -> CompoundSelect:
    """The ids of the records :func:`title_abstract_ids` leaves out (active duplicates and
    records removed before screening), as a SQL subquery."""
    return union(
        select(DuplicateLink.record_id).where(col(DuplicateLink.undone_at).is_(None)),
        select(PrescreenRemoval.record_id),
    )


def in_title_abstract() -> ColumnElement[bool]:
    """The same rule as :func:`title_abstract_ids` as a SQL condition on ``record.id``, so a
    screening queue can page through 100,000 records in SQL without loading them all."""
    return col(Record.id).not_in(left_out_of_screening())


def title_abstract_ids(session: Session) -> list[int]:
    """The records to screen at title/abstract, in record order."""
    query = select(Record.id).where(in_title_abstract()).order_by(col(Record.id))
    return [i for i in session.execute(query).scalars() if i is not None]


@dataclass
class StageState:
    """Every record of a stage with its outcome, and the reasons behind exclusions."""

    stage: str
    outcome: dict[int, str] = field(default_factory=dict)
    decided_by: dict[int, int] = field(default_factory=dict)  # record → how many reviewers
    resolved: set[int] = field(default_factory=set)
    exclusion_reason: dict[int, str] = field(default_factory=dict)

    def ids(self, outcome: str) -> list[int]:
        return [r for r, o in self.outcome.items() if o == outcome]

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcome.values() if o == outcome)


def stage_state(session: Session, stage: str, required: int, record_ids: list[int]) -> StageState:
    wanted = set(record_ids)
    state = StageState(stage)
    decisions: dict[int, list[Any]] = defaultdict(list)  # rows (record_id, decision, reason)
    few = len(wanted) <= 500  # one record's outcome (a screening decision) need not read all
    # plain columns, not ORM objects: 200,000 decisions load in a fraction of the time
    query = select(Decision.record_id, Decision.decision, Decision.reason).where(
        Decision.stage == stage
    )
    res_query = select(Resolution).where(Resolution.stage == stage)
    if few:
        query = query.where(col(Decision.record_id).in_(wanted))
        res_query = res_query.where(col(Resolution.record_id).in_(wanted))
    for d in session.execute(query).all():
        if d.record_id in wanted:
            decisions[d.record_id].append(d)
    resolutions = {
        r.record_id: r for r in session.execute(res_query).scalars() if r.record_id in wanted
    }
    for rid in record_ids:
        ds = decisions.get(rid, [])
        state.decided_by[rid] = len(ds)
        if rid in resolutions:
            res = resolutions[rid]
            state.outcome[rid] = res.decision
            state.resolved.add(rid)
            if res.decision == EXCLUDE and res.reason:
                state.exclusion_reason[rid] = res.reason
        elif len(ds) < required:
            state.outcome[rid] = PENDING
        elif len({d.decision for d in ds}) == 1 and ds[0].decision in (INCLUDE, EXCLUDE):
            state.outcome[rid] = ds[0].decision
            reasons = {d.reason for d in ds if d.reason}
            if ds[0].decision == EXCLUDE and len(reasons) == 1:
                state.exclusion_reason[rid] = reasons.pop()
            elif ds[0].decision == EXCLUDE and reasons and stage == FULL_TEXT:
                # both excluded for different reasons: that needs reconciling for PRISMA (at
                # title/abstract a reason is optional and PRISMA lists none: no conflict)
                state.outcome[rid] = CONFLICT
        else:
            state.outcome[rid] = CONFLICT
    return state


def screening_status(session: Session, required: int) -> dict[int, str]:
    """Where every record stands: ``duplicate``, ``removed`` (before screening),
    ``title-abstract: pending|conflict|exclude``, ``full-text: not-retrieved|pending|conflict|
    exclude`` or ``included``. Unblinded (it follows from every reviewer's decisions)."""
    status = {r: "duplicate" for r in duplicate_ids(session)}
    status |= {r: "removed" for r in removed_before_screening(session) if r not in status}
    f = review_flow(session, required)
    for rid, outcome in f.title_abstract.outcome.items():
        status[rid] = f"{TITLE_ABSTRACT}: {outcome}"
    for rid in f.not_retrieved:
        status[rid] = f"{FULL_TEXT}: {NOT_RETRIEVED}"
    for rid, outcome in f.full_text.outcome.items():
        status[rid] = "included" if outcome == INCLUDE else f"{FULL_TEXT}: {outcome}"
    return status


def not_retrieved_ids(session: Session) -> set[int]:
    rows = session.execute(
        select(FulltextRetrieval.record_id).where(FulltextRetrieval.status == "not_retrieved")
    )
    return set(rows.scalars())


@dataclass
class ReviewFlow:
    title_abstract: StageState
    full_text: StageState
    sought: list[int]  # reports sought for retrieval (title/abstract includes)
    not_retrieved: list[int]


def sought_ids(session: Session, required: int, *, behind_rls: bool = False) -> list[int]:
    """The reports sought for retrieval (the title/abstract includes), in record order.

    ``behind_rls``: on a PostgreSQL team-role connection, where row-level security hides the
    other reviewers' decisions, the same rule is asked of the ``reviewflow_sought`` function
    that ``reviewflow team setup-postgres`` installs (it returns ids, never a decision)."""
    if behind_rls:
        rows = session.execute(text("SELECT * FROM reviewflow_sought(:n)"), {"n": required})
        return [int(r[0]) for r in rows]
    return review_flow(session, required).sought


def review_flow(session: Session, required: int) -> ReviewFlow:
    ta = stage_state(session, TITLE_ABSTRACT, required, title_abstract_ids(session))
    sought = ta.ids(INCLUDE)
    missing = not_retrieved_ids(session)
    assessed = [r for r in sought if r not in missing]
    ft = stage_state(session, FULL_TEXT, required, assessed)
    return ReviewFlow(ta, ft, sought, [r for r in sought if r in missing])
