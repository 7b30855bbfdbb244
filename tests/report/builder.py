"""A constructed review that puts records in every box of the PRISMA 2020 flow, written to the
store tables directly with real records (Cohen 2006 NSAIDs, real PubMed titles/abstracts).

The expected numbers are worked out by hand in ``EXPECTED`` and the comments, not by the code
under test.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.records import RecordData
from reviewflow.store import Store
from reviewflow.store.models import (
    Decision,
    DuplicateCandidate,
    DuplicateLink,
    FulltextRetrieval,
    PrescreenRemoval,
    Resolution,
    Reviewer,
    Study,
    StudyReport,
)
from tests.screening.helpers import nsaids_records

TA, FT = "title-abstract", "full-text"
WRONG_DESIGN = "Wrong study design"
WRONG_POP = "Wrong population"
NOT_PRIMARY = "Not a primary study (review, editorial, letter)"

# Identification
#   PubMed (database)       40 records  -> ids P[0..39]
#   Embase (database)       12 records  -> 8 copies of P[0..7] (duplicates) + 4 new
#   ClinicalTrials.gov (register) 3 records
#   Citation searching (other)    5 records: 1 copy of P[8] (duplicate), 4 new
# Duplicates (databases column): 8 Embase copies, one link undone and one manual -> 7 + 1 = 8
#   active: Embase copies 0..6 (auto), copy 7 undone then re-linked manually -> 8 active
# Removed before screening (databases column): automation P[30], P[31]; other P[32];
#   and P[33] removed (other) *and* linked as a duplicate of P[34]: counted once, as a duplicate.
# => databases column: identified 55, duplicates 9, automation 2, other 1, screened 43
EXPECTED = {
    "database_results": 52,
    "register_results": 3,
    "other_results": 5,
    "duplicates": 9,
    "excluded_automatic": 2,
    "excluded_other": 1,
    "records_screened": 43,
    "records_excluded": 30,
    "records_awaiting": 3,  # 2 pending + 1 conflict
    "dbr_sought_reports": 10,
    "dbr_notretrieved_reports": 2,
    "dbr_assessed": 8,
    "dbr_excluded": 4,
    "dbr_reasons": [(WRONG_DESIGN, 2), (NOT_PRIMARY, 1), ("Reason not recorded", 1)],
    "dbr_awaiting": 1,
    "other_not_sought": 2,  # 1 duplicate + 1 excluded on title/abstract
    "other_sought_reports": 3,
    "other_notretrieved_reports": 1,
    "other_assessed": 2,
    "other_excluded": 1,
    "other_reasons": [(WRONG_POP, 1)],
    "new_reports": 4,  # 3 from databases + 1 from citation searching
    "new_studies": 3,  # study A has two reports; the citation-searching report has no study
}


def _records(start: int, count: int) -> list[RecordData]:
    return nsaids_records(start + count)[start:]


def _run(s: Session, source: str, method: str, records: list[RecordData]) -> list[int]:
    run = start_run(s, kind="import", source=source, method=method, count=len(records))
    store_records(s, run, records)
    from sqlmodel import col, select

    from reviewflow.store.models import RecordSource

    return list(
        s.exec(
            select(RecordSource.record_id)
            .where(RecordSource.run_id == run)
            .order_by(col(RecordSource.record_id))
        ).all()
    )


def _decide(s: Session, rid: int, stage: str, *votes: tuple[int, str, str]) -> None:
    for reviewer, decision, reason in votes:
        s.add(Decision(record_id=rid, reviewer_id=reviewer, stage=stage, decision=decision,
                       reason=reason))  # fmt: skip


def build_review(store: Store) -> dict[str, list[int]]:
    """Fill ``store`` (empty, migrated) with the constructed review; returns the id groups."""
    pubmed = _records(0, 40)
    embase = _records(0, 8) + _records(40, 4)
    register = _records(44, 3)
    citations = _records(8, 1) + _records(47, 4)
    with store.write() as s:
        a, b = Reviewer(name="anna"), Reviewer(name="ben")
        s.add_all([a, b])
        s.flush()
        assert a.id is not None and b.id is not None
        ra, rb = a.id, b.id
        p = _run(s, "PubMed", "database", pubmed)
        e = _run(s, "Embase", "database", embase)
        r = _run(s, "ClinicalTrials.gov", "register", register)
        c = _run(s, "Citation searching", "other", citations)
        now = datetime(2025, 1, 1, tzinfo=UTC)
        for i in range(7):
            s.add(DuplicateLink(group_id=i + 1, record_id=e[i], kept_record_id=p[i], method="pmid"))
        s.add(DuplicateLink(group_id=8, record_id=e[7], kept_record_id=p[7], method="auto",
                            undone_at=now, undone_by="anna"))  # fmt: skip
        s.add(DuplicateLink(group_id=9, record_id=e[7], kept_record_id=p[7], method="manual"))
        s.add(DuplicateLink(group_id=10, record_id=p[33], kept_record_id=p[34], method="manual"))
        s.add(DuplicateLink(group_id=11, record_id=c[0], kept_record_id=p[8], method="pmid"))
        s.add(DuplicateCandidate(record_a_id=p[35], record_b_id=p[36], status="distinct"))
        for rid, kind in ((p[30], "automation"), (p[31], "automation"), (p[32], "other"),
                          (p[33], "other")):  # fmt: skip
            s.add(PrescreenRemoval(record_id=rid, reason_kind=kind))
        # Title/abstract, databases column: screened = P[8..29] + P[34..39] + E[8..11] + R[0..2]
        #   = 22 + 6 + 4 + 3 = 35 ... plus P[0..7] kept records = 43
        screened = p[0:30] + p[34:40] + e[8:12] + r
        assert len(screened) == 43
        include = screened[:10]  # 10 includes (two agree; one via a resolution)
        pending = screened[10:12]  # one vote only, and none
        conflict = screened[12:13]
        excluded = screened[13:]  # 30
        for rid in include[:9]:
            _decide(s, rid, TA, (ra, "include", ""), (rb, "include", ""))
        _decide(s, include[9], TA, (ra, "include", ""), (rb, "exclude", ""))
        s.add(Resolution(record_id=include[9], stage=TA, decision="include", resolved_by="anna"))
        _decide(s, pending[0], TA, (ra, "include", ""))
        _decide(s, conflict[0], TA, (ra, "maybe", ""), (rb, "exclude", ""))
        for rid in excluded:
            _decide(s, rid, TA, (ra, "exclude", ""), (rb, "exclude", ""))
        # Full text, databases column: 10 sought, 2 not retrieved, 8 assessed
        for rid in include[:2]:
            s.add(FulltextRetrieval(record_id=rid, status="not_retrieved"))
        s.add(FulltextRetrieval(record_id=include[2], status="retrieved", location="a.pdf"))
        assessed = include[2:]
        for rid in assessed[:2]:
            _decide(s, rid, FT, (ra, "exclude", WRONG_DESIGN), (rb, "exclude", WRONG_DESIGN))
        _decide(s, assessed[2], FT, (ra, "exclude", WRONG_DESIGN), (rb, "exclude", NOT_PRIMARY))
        s.add(Resolution(record_id=assessed[2], stage=FT, decision="exclude", reason=NOT_PRIMARY))
        _decide(s, assessed[3], FT, (ra, "exclude", ""), (rb, "exclude", ""))  # no reason
        for rid in assessed[4:7]:
            _decide(s, rid, FT, (ra, "include", ""), (rb, "include", ""))
        _decide(s, assessed[7], FT, (ra, "include", ""))  # pending
        # Other methods: C[0] duplicate; C[1] excluded on title/abstract; C[2..4] sought
        _decide(s, c[1], TA, (ra, "exclude", ""), (rb, "exclude", ""))
        for rid in c[2:5]:
            _decide(s, rid, TA, (ra, "include", ""), (rb, "include", ""))
        s.add(FulltextRetrieval(record_id=c[2], status="not_retrieved"))
        _decide(s, c[3], FT, (ra, "exclude", WRONG_POP), (rb, "exclude", WRONG_POP))
        _decide(s, c[4], FT, (ra, "include", ""), (rb, "include", ""))
        # Studies: A has two included reports, B one; C[4] is not linked to a study
        sa, sb = Study(label="Study A 1998"), Study(label="Study B 2001")
        s.add_all([sa, sb])
        s.flush()
        assert sa.id is not None and sb.id is not None
        s.add(StudyReport(study_id=sa.id, record_id=assessed[4], is_primary=True))
        s.add(StudyReport(study_id=sa.id, record_id=assessed[5]))
        s.add(StudyReport(study_id=sb.id, record_id=assessed[6], is_primary=True))
    return {"pubmed": p, "embase": e, "register": r, "citations": c,
            "included": assessed[4:7] + [c[4]]}  # fmt: skip
