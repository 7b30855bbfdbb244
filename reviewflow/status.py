"""Counts per stage, for ``reviewflow status``: a plain dict, stable keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from reviewflow.access.guard import may_see_unblinded
from reviewflow.screening import flow
from reviewflow.store import Store
from reviewflow.store.models import (
    AuditEntry,
    ConsensusValue,
    DuplicateCandidate,
    FulltextRetrieval,
    Record,
    RecordSource,
    RobConsensus,
    SearchRun,
    StudyReport,
)
from reviewflow.workspace import ReviewConfig


def _stage_counts(state: flow.StageState, unblinded: bool) -> dict[str, int | None]:
    return {
        "records": len(state.outcome),
        "pending": state.count(flow.PENDING),
        # how many records the reviewers disagree on is for the adjudicator's eyes only
        "conflicts": state.count(flow.CONFLICT) if unblinded else None,
        "resolved": len(state.resolved),
        "included": state.count(flow.INCLUDE),
        "excluded": state.count(flow.EXCLUDE),
    }


PAUSE = 300  # seconds: a longer gap between two decisions is a break, not screening time
MEASURED = 60  # seconds of screening time below which no rate is given (None): too little to
# measure, or decisions made by a program (the demo's simulated reviewers: "1.2e+06/hour")


def screening_speed(store: Store) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """Per stage and reviewer: ``decisions`` (decision rows set, revisions included) and
    ``per_hour``, the decisions made within a working stretch (at most :data:`PAUSE` seconds
    after the one before) divided by the time those stretches took, or None for less than
    :data:`MEASURED` seconds of it. The adjudicator sees every
    reviewer's; anyone else in a protected review only their own."""
    who = store.identity
    own = None if may_see_unblinded(store) else (who.name if who else "")
    query = select(AuditEntry.actor, AuditEntry.at, AuditEntry.after).where(
        AuditEntry.action == "decision.set"
    )
    if own is not None:
        query = query.where(AuditEntry.actor == own)
    with store.read() as s:
        rows = s.execute(query.order_by(col(AuditEntry.at), col(AuditEntry.id))).all()
    times: dict[tuple[str, str], list[float]] = {}
    for actor, at, after in rows:
        stage = str((after or {}).get("stage", ""))
        times.setdefault((stage, actor), []).append(at.timestamp())
    out: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for (stage, actor), ts in sorted(times.items()):
        gaps = [b - a for a, b in zip(ts, ts[1:], strict=False) if b - a <= PAUSE]
        busy = sum(gaps)
        rate = round(len(gaps) / busy * 3600, 1) if busy >= MEASURED else None
        out.setdefault(stage, {})[actor] = {"decisions": len(ts), "per_hour": rate}
    return out


def review_status(store: Store, config: ReviewConfig) -> dict[str, Any]:
    """The counts; in a protected review, conflict counts only for the adjudicator (``None``
    for anyone else)."""
    unblinded = may_see_unblinded(store)
    with store.read() as s:
        sources = s.execute(
            select(SearchRun.source, func.count(func.distinct(RecordSource.record_id)))
            .join(RecordSource, col(RecordSource.run_id) == col(SearchRun.id))
            .group_by(SearchRun.source)
            .order_by(SearchRun.source)
        ).all()
        records = s.scalar(select(func.count()).select_from(Record)) or 0
        runs = s.scalar(select(func.count()).select_from(SearchRun)) or 0
        maybe_pairs = (
            s.scalar(
                select(func.count())
                .select_from(DuplicateCandidate)
                .where(DuplicateCandidate.status == "maybe")
            )
            or 0
        )
        f = flow.review_flow(s, config.reviewers_per_record)
        with_pdf = select(FulltextRetrieval.record_id).where(
            FulltextRetrieval.status == "retrieved", FulltextRetrieval.location != ""
        )
        sought_with_pdf = set(f.sought) & set(s.execute(with_pdf).scalars())
        included_reports = set(f.full_text.ids(flow.INCLUDE))
        study_of = dict(s.execute(select(StudyReport.record_id, StudyReport.study_id)).all())
        studies = {study_of[r] for r in included_reports if r in study_of}
        with_consensus = set(s.execute(select(ConsensusValue.study_id).distinct()).scalars())
        rob_consensus = set(s.execute(select(RobConsensus.study_id).distinct()).scalars())
        duplicates = len(flow.duplicate_ids(s))
        removed = len(flow.removed_before_screening(s))
    return {
        "title": config.title,
        "database": store.display_url,
        "identification": {
            "runs": runs,
            "records": records,
            "by_source": {name: n for name, n in sources},
            "duplicates_removed": duplicates,
            "duplicate_pairs_to_check": maybe_pairs,
            "removed_before_screening": removed,
        },
        "title_abstract": _stage_counts(f.title_abstract, unblinded),
        "full_text": {
            "sought": len(f.sought),
            "with_pdf": len(sought_with_pdf),  # sought reports with a full text attached
            "not_retrieved": len(f.not_retrieved),
            **_stage_counts(f.full_text, unblinded),
        },
        "included": {
            "reports": len(included_reports),
            "reports_without_study": len([r for r in included_reports if r not in study_of]),
            "studies": len(studies),
            "studies_with_consensus_extraction": len(studies & with_consensus),
            # consensus risk-of-bias answers (complete or not: the report shows "not yet")
            "studies_with_consensus_risk_of_bias": len(studies & rob_consensus),
        },
        "screening_speed": screening_speed(store),
    }
