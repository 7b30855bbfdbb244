"""PRISMA 2020 flow counts, read from the database (never typed in).

Built on :mod:`reviewflow.screening.flow`, the single definition of where a record stands.

- A record belongs to the column of the run that brought it into the review (its first
  provenance row): *databases and registers* (run method ``database`` or ``register``) or
  *other methods* (``other``: citation searching, websites, organisations…). A record a re-run
  of the same search found again is counted once.
- Duplicates removed are the active duplicate links (automatic and confirmed merges). A record
  both linked as a duplicate and removed before screening is counted once, as a duplicate.
- The PRISMA 2020 template sends other-methods records straight to retrieval; reviewflow
  screens every record, so an other-methods record that was a duplicate or excluded on
  title/abstract is reported under ``other_not_sought`` rather than silently dropped.
- A full-text exclusion for a reason the reviewer wrote themselves ("Other: …") is counted in
  the diagram under one ``Other reasons`` line, after review.toml's reasons: free texts rarely
  repeat word for word, and a box of one-off lines would bury the listed reasons. Each report's
  own text is in the report's table of excluded reports (PRISMA 2020 item 16b).
- Every box is a count of record ids from the flow, so the boxes add up by construction; the
  ``checks`` say so explicitly and say when the flow is incomplete (pending or conflicting
  decisions, reports without a study, unchecked duplicate pairs).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from reviewflow.access.guard import require_lead
from reviewflow.report.prisma_checks import NO_REASON, UNKNOWN_SOURCE, Check, flow_checks
from reviewflow.screening import flow
from reviewflow.screening.decisions import is_other
from reviewflow.store import Store
from reviewflow.store.models import (
    DuplicateCandidate,
    PrescreenRemoval,
    Record,
    RecordSource,
    SearchRun,
    StudyReport,
)
from reviewflow.workspace import ReviewConfig

DATABASES, OTHER = "databases", "other"
OTHER_REASONS = "Other reasons"  # every "Other: …" exclusion, in the diagram


@dataclass(frozen=True)
class Source:
    """Records a database, register or other source brought into the review."""

    name: str
    method: str  # database | register | other
    n: int


@dataclass
class Column:
    """One identification column's counts (databases and registers, or other methods)."""

    identified: int = 0
    duplicates: int = 0
    removed_automation: int = 0
    removed_other: int = 0
    screened: int = 0
    screened_excluded: int = 0
    screening_pending: int = 0
    screening_conflicts: int = 0
    sought: int = 0
    not_retrieved: int = 0
    assessed: int = 0
    assessed_excluded: int = 0
    assessment_pending: int = 0
    assessment_conflicts: int = 0
    included_reports: int = 0
    exclusion_reasons: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class PrismaCounts:
    """Every number of a PRISMA 2020 flow diagram, and the checks behind them."""

    title: str
    sources: list[Source]
    databases: Column
    other: Column
    has_other: bool
    studies: int
    reports: int
    reports_without_study: int
    checks: list[Check]

    @property
    def complete(self) -> bool:
        return all(c.ok for c in self.checks)

    def source_total(self, method: str) -> int:
        return sum(s.n for s in self.sources if s.method == method)

    def boxes(self) -> dict[str, dict[str, Any]]:
        """Every box of the diagram with its count, keyed like the PRISMA2020 app's template."""
        db, ot = self.databases, self.other

        def src(method: str) -> list[dict[str, Any]]:
            return [{"name": s.name, "n": s.n} for s in self.sources if s.method == method]

        def reasons(col_: Column) -> list[dict[str, Any]]:
            return [{"reason": r, "n": n} for r, n in col_.exclusion_reasons]

        out: dict[str, dict[str, Any]] = {
            "database_results": {"n": self.source_total("database"), "sources": src("database")},
            "register_results": {"n": self.source_total("register"), "sources": src("register")},
            "duplicates": {"n": db.duplicates},
            "excluded_automatic": {"n": db.removed_automation},
            "excluded_other": {"n": db.removed_other},
            "records_screened": {"n": db.screened},
            "records_excluded": {"n": db.screened_excluded},
            "records_awaiting_screening": {
                "n": db.screening_pending + db.screening_conflicts,
                "pending": db.screening_pending,
                "conflicts": db.screening_conflicts,
            },
            "dbr_sought_reports": {"n": db.sought},
            "dbr_notretrieved_reports": {"n": db.not_retrieved},
            "dbr_assessed": {"n": db.assessed},
            "dbr_excluded": {"n": db.assessed_excluded, "reasons": reasons(db)},
            "dbr_awaiting_assessment": {
                "n": db.assessment_pending + db.assessment_conflicts,
                "pending": db.assessment_pending,
                "conflicts": db.assessment_conflicts,
            },
        }
        if self.has_other:
            out |= {
                "other_results": {"n": self.source_total("other"), "sources": src("other")},
                "other_not_sought": {
                    "n": ot.identified - ot.sought,
                    "duplicates": ot.duplicates,
                    "removed_before_screening": ot.removed_automation + ot.removed_other,
                    "excluded_on_title_abstract": ot.screened_excluded,
                    "awaiting_screening": ot.screening_pending + ot.screening_conflicts,
                },
                "other_sought_reports": {"n": ot.sought},
                "other_notretrieved_reports": {"n": ot.not_retrieved},
                "other_assessed": {"n": ot.assessed},
                "other_excluded": {"n": ot.assessed_excluded, "reasons": reasons(ot)},
                "other_awaiting_assessment": {
                    "n": ot.assessment_pending + ot.assessment_conflicts,
                    "pending": ot.assessment_pending,
                    "conflicts": ot.assessment_conflicts,
                },
            }
        out |= {
            "new_studies": {"n": self.studies},
            "new_reports": {"n": self.reports},
        }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "complete": self.complete,
            "boxes": self.boxes(),
            "columns": {
                DATABASES: _column_dict(self.databases),
                **({OTHER: _column_dict(self.other)} if self.has_other else {}),
            },
            "checks": [asdict(c) for c in self.checks],
        }


def _column_dict(c: Column) -> dict[str, Any]:
    d = asdict(c)
    d["exclusion_reasons"] = [{"reason": r, "n": n} for r, n in c.exclusion_reasons]
    return d


# -- reading the database -----------------------------------------------------------------------
def _origin(session: Session) -> tuple[dict[int, tuple[str, str]], list[int]]:
    """record id → (method, source) of the run that first brought it in; and records with none."""
    first = (
        select(RecordSource.record_id, func.min(RecordSource.run_id).label("run_id"))
        .group_by(col(RecordSource.record_id))
        .subquery()
    )
    rows = session.execute(
        select(first.c.record_id, SearchRun.method, SearchRun.source).join(
            SearchRun, col(SearchRun.id) == first.c.run_id
        )
    ).all()
    origin = {rid: (method, source) for rid, method, source in rows}
    all_ids = session.execute(select(Record.id)).scalars().all()
    orphans = [i for i in all_ids if i not in origin]
    for rid in orphans:
        origin[rid] = ("database", UNKNOWN_SOURCE)
    return origin, orphans


def _ordered_reasons(found: Counter[str], configured: list[str]) -> list[tuple[str, int]]:
    """Most frequent first; ties in review.toml's order, then alphabetical; the reviewers' own
    reasons and then no reason last."""
    rank = {r: i for i, r in enumerate(configured)}
    last = (OTHER_REASONS, NO_REASON)
    items = [(r, n) for r, n in found.items() if r not in last]
    items.sort(key=lambda rn: (-rn[1], rank.get(rn[0], len(rank)), rn[0]))
    return items + [(r, found[r]) for r in last if found.get(r)]


def prisma_counts(
    store: Store,
    *,
    reviewers_per_record: int = 2,
    exclusion_reasons: list[str] | None = None,
    title: str = "",
) -> PrismaCounts:
    """The PRISMA 2020 counts of the review in ``store`` (one read transaction)."""
    with store.read() as s:
        origin, orphans = _origin(s)
        f = flow.review_flow(s, reviewers_per_record)
        duplicates = flow.duplicate_ids(s)
        removals = {
            rid: kind
            for rid, kind in s.execute(
                select(PrescreenRemoval.record_id, PrescreenRemoval.reason_kind)
            ).all()
        }
        study_of = dict(s.execute(select(StudyReport.record_id, StudyReport.study_id)).all())
        maybe_pairs = (
            s.scalar(
                select(func.count())
                .select_from(DuplicateCandidate)
                .where(DuplicateCandidate.status == "maybe")
            )
            or 0
        )
        runs = s.execute(
            select(SearchRun.id, SearchRun.source, SearchRun.status, SearchRun.kind)
        ).all()
    ta, ft = f.title_abstract, f.full_text
    configured = list(exclusion_reasons or [])

    def column_of(rid: int) -> str:
        return OTHER if origin[rid][0] == "other" else DATABASES

    cols = {DATABASES: Column(), OTHER: Column()}
    reasons: dict[str, Counter[str]] = {DATABASES: Counter(), OTHER: Counter()}
    by_source: Counter[tuple[str, str]] = Counter()
    for rid, (method, source) in origin.items():
        by_source[(method, source)] += 1
        cols[column_of(rid)].identified += 1
    overlap = 0
    for rid in duplicates:
        cols[column_of(rid)].duplicates += 1
    for rid, kind in removals.items():
        if rid in duplicates:
            overlap += 1
            continue
        c = cols[column_of(rid)]
        if kind == "automation":
            c.removed_automation += 1
        else:
            c.removed_other += 1
    for rid, outcome in ta.outcome.items():
        c = cols[column_of(rid)]
        c.screened += 1
        if outcome == flow.EXCLUDE:
            c.screened_excluded += 1
        elif outcome == flow.PENDING:
            c.screening_pending += 1
        elif outcome == flow.CONFLICT:
            c.screening_conflicts += 1
    for rid in f.sought:
        cols[column_of(rid)].sought += 1
    for rid in f.not_retrieved:
        cols[column_of(rid)].not_retrieved += 1
    no_reason = 0
    for rid, outcome in ft.outcome.items():
        key = column_of(rid)
        c = cols[key]
        c.assessed += 1
        if outcome == flow.EXCLUDE:
            c.assessed_excluded += 1
            reason = ft.exclusion_reason.get(rid, "")
            if not reason:
                no_reason += 1
            reasons[key][OTHER_REASONS if is_other(reason) else reason or NO_REASON] += 1
        elif outcome == flow.INCLUDE:
            c.included_reports += 1
        elif outcome == flow.PENDING:
            c.assessment_pending += 1
        elif outcome == flow.CONFLICT:
            c.assessment_conflicts += 1
    for key in cols:
        cols[key].exclusion_reasons = _ordered_reasons(reasons[key], configured)

    included = ft.ids(flow.INCLUDE)
    without_study = [r for r in included if r not in study_of]
    studies = len({study_of[r] for r in included if r in study_of}) + len(without_study)
    has_other = any(m == "other" for m, _ in by_source)
    method_order = {"database": 0, "register": 1, "other": 2}
    sources = [
        Source(name, method, n)
        for (method, name), n in sorted(
            by_source.items(), key=lambda kv: (method_order.get(kv[0][0], 3), -kv[1], kv[0][1])
        )
    ]
    counts = PrismaCounts(
        title=title,
        sources=sources,
        databases=cols[DATABASES],
        other=cols[OTHER],
        has_other=has_other,
        studies=studies,
        reports=len(included),
        reports_without_study=len(without_study),
        checks=[],
    )
    counts.checks = flow_checks(
        counts,
        records=len(origin),
        orphans=len(orphans),
        overlap=overlap,
        no_reason=no_reason,
        maybe_pairs=maybe_pairs,
        unfinished_runs=[f"{src} run {i} ({st})" for i, src, st, _k in runs if st != "complete"],
    )
    return counts


def review_prisma(store: Store, config: ReviewConfig) -> PrismaCounts:
    """The counts for a workspace's review (its reviewers per record and exclusion reasons)."""
    require_lead(store, "the PRISMA flow")
    return prisma_counts(
        store,
        reviewers_per_record=config.reviewers_per_record,
        exclusion_reasons=list(config.exclusion_reasons),
        title=config.title,
    )
