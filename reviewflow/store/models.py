"""The database tables for the whole review, from search to consensus extraction.

Tables are created and changed only by the migrations in ``store/migrations``; a test checks
that the migrations and these models agree. Rows are never deleted by the workflow: a duplicate
is a link to its kept record, a changed decision is an audit row, a merge can be undone.

Stages: ``title-abstract`` and ``full-text``. Decisions: ``include``, ``exclude``, ``maybe``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

STAGES = ("title-abstract", "full-text")
DECISIONS = ("include", "exclude", "maybe")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json(default: Any) -> Any:
    return Field(default_factory=lambda: type(default)(), sa_column=Column(JSON, nullable=False))


def _text() -> Any:
    return Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class Reviewer(SQLModel, table=True):
    """A person who screens or extracts; mirrored from review.toml."""

    __tablename__ = "reviewer"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    role: str = Field(default="reviewer", max_length=20)  # reviewer | adjudicator
    created_at: datetime = Field(default_factory=utcnow)
    # the PostgreSQL role this reviewer connects as in team mode (``reviewflow team
    # setup-postgres``); row-level security maps ``current_user`` to the reviewer through it.
    # Added in migration 0004.
    db_role: str = Field(
        default="", sa_column=Column(String(63), nullable=False, server_default="")
    )


class ReviewerSecret(SQLModel, table=True):
    """A reviewer's passphrase, as a slow salted hash (scrypt); never the passphrase itself.
    Once any reviewer has one, the review is *protected*: unblinded views need the adjudicator.
    Added in migration 0004."""

    __tablename__ = "reviewer_secret"
    id: int | None = Field(default=None, primary_key=True)
    reviewer_id: int = Field(foreign_key="reviewer.id", unique=True)
    passphrase_hash: str = Field(max_length=300)
    set_at: datetime = Field(default_factory=utcnow)
    set_by: str = Field(default="", max_length=100)


class ReviewSession(SQLModel, table=True):
    """A signed-in session (``reviewflow serve``): the SHA-256 of its random token, whose it is
    and until when. The browser holds the token in an HttpOnly cookie; the app started for the
    session gets it from the server. Added in migration 0004."""

    __tablename__ = "review_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    reviewer_id: int = Field(foreign_key="reviewer.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    client: str = Field(default="", max_length=100)


class SearchRun(SQLModel, table=True):
    """One search of a database, or one import of an exported file: the PRISMA-S log."""

    __tablename__ = "search_run"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # search | import
    # PRISMA identification column: database | register | other (citation searching, websites…)
    method: str = Field(default="database", max_length=20)
    source: str = Field(index=True, max_length=100)  # "PubMed", "Embase", …
    query_name: str = Field(default="", max_length=200)
    query: str = _text()
    translation: str = _text()  # PubMed's QueryTranslation
    date_from: str = Field(default="", max_length=20)
    date_to: str = Field(default="", max_length=20)
    file_name: str = Field(default="", max_length=500)
    file_sha256: str = Field(default="", max_length=64)
    count: int | None = None  # hits reported by the database (search) or records in the file
    records_added: int = 0  # new records this run put into the review
    status: str = Field(default="complete", max_length=20)  # running | complete | failed
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    # the day the database was searched (YYYY-MM-DD) for an import, as the user gave it; a
    # search's is its started_at. Added in migration 0003.
    searched_on: str = Field(
        default="", sa_column=Column(String(10), nullable=False, server_default="")
    )
    notes: str = _text()
    state: dict[str, Any] = _json({})  # resumable client state (WebEnv, query_key, slices…)


class SearchHit(SQLModel, table=True):
    """A PMID a search returned, in order; ``fetched_at`` is set once its record is stored."""

    __tablename__ = "search_hit"
    __table_args__ = (UniqueConstraint("run_id", "pmid"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="search_run.id", index=True)
    pmid: str = Field(max_length=20)
    position: int = 0
    fetched_at: datetime | None = None


class Record(SQLModel, table=True):
    """A bibliographic record in the review (one per record found, duplicates included)."""

    __tablename__ = "record"
    id: int | None = Field(default=None, primary_key=True)
    title: str = _text()
    abstract: str = _text()
    authors: list[str] = _json([])
    year: int | None = Field(default=None, index=True)
    journal: str = _text()
    journal_abbrev: str = Field(default="", max_length=200)
    volume: str = Field(default="", max_length=50)
    issue: str = Field(default="", max_length=50)
    pages: str = Field(default="", max_length=100)
    doi: str = Field(default="", max_length=300, index=True)
    pmid: str = Field(default="", max_length=20, index=True)
    pmcid: str = Field(default="", max_length=20)
    issn: str = Field(default="", max_length=20)
    language: list[str] = _json([])
    publication_types: list[str] = _json([])
    mesh_terms: list[str] = _json([])
    keywords: list[str] = _json([])
    vernacular_title: str = _text()
    comments_corrections: list[dict[str, str]] = _json([])
    record_type: str = Field(default="article", max_length=20)
    url: str = _text()
    extra: dict[str, Any] = _json({})
    created_at: datetime = Field(default_factory=utcnow)


class RecordSource(SQLModel, table=True):
    """Provenance: which run found which record, under which key in that source."""

    __tablename__ = "record_source"
    __table_args__ = (UniqueConstraint("run_id", "record_id"),)
    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    run_id: int = Field(foreign_key="search_run.id", index=True)
    source_key: str = Field(default="", max_length=200)
    found_at: datetime = Field(default_factory=utcnow)


class DuplicateLink(SQLModel, table=True):
    """``record_id`` is a duplicate of ``kept_record_id``; undone links keep ``undone_at``."""

    __tablename__ = "duplicate_link"
    __table_args__ = (Index("ix_duplicate_link_active", "record_id", "undone_at"),)
    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(index=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    kept_record_id: int = Field(foreign_key="record.id", index=True)
    method: str = Field(max_length=20)  # pmid | doi | auto | manual
    score: float | None = None
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="system", max_length=100)
    undone_at: datetime | None = None
    undone_by: str = Field(default="", max_length=100)


class DuplicateCandidate(SQLModel, table=True):
    """A pair dedup was unsure of: the manual queue. status: maybe | duplicate | distinct."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (UniqueConstraint("record_a_id", "record_b_id"),)
    id: int | None = Field(default=None, primary_key=True)
    record_a_id: int = Field(foreign_key="record.id", index=True)
    record_b_id: int = Field(foreign_key="record.id", index=True)
    score: float = 0.0
    scores: dict[str, Any] = _json({})  # per-field similarities
    status: str = Field(default="maybe", max_length=20, index=True)
    decided_by: str = Field(default="", max_length=100)
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class PrescreenRemoval(SQLModel, table=True):
    """PRISMA: records removed before screening (automation tools or other reasons)."""

    __tablename__ = "prescreen_removal"
    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", unique=True)
    reason_kind: str = Field(max_length=20)  # automation | other
    note: str = _text()
    removed_at: datetime = Field(default_factory=utcnow)
    removed_by: str = Field(default="system", max_length=100)


class Decision(SQLModel, table=True):
    """A reviewer's current decision on a record at a stage; its history is in the audit log."""

    __tablename__ = "decision"
    __table_args__ = (
        UniqueConstraint("record_id", "reviewer_id", "stage"),
        Index("ix_decision_reviewer_stage", "reviewer_id", "stage", "record_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    reviewer_id: int = Field(foreign_key="reviewer.id")
    stage: str = Field(max_length=20)
    decision: str = Field(max_length=20)
    reason: str = Field(default="", max_length=200)  # exclusion reason (optional at T/A)
    note: str = _text()
    decided_at: datetime = Field(default_factory=utcnow)
    # the reviewer's own free labels on their decision (a JSON list of strings, the same on
    # SQLite and PostgreSQL). Added in migration 0011.
    labels: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
    )


class Resolution(SQLModel, table=True):
    """The final decision on a conflict at a stage, by the adjudicator or both reviewers."""

    __tablename__ = "resolution"
    __table_args__ = (UniqueConstraint("record_id", "stage"),)
    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    stage: str = Field(max_length=20)
    decision: str = Field(max_length=20)  # include | exclude
    reason: str = Field(default="", max_length=200)
    note: str = _text()
    resolved_by: str = Field(default="", max_length=200)
    resolved_at: datetime = Field(default_factory=utcnow)


class FulltextRetrieval(SQLModel, table=True):
    """PRISMA: reports sought for retrieval; status retrieved | not_retrieved."""

    __tablename__ = "fulltext_retrieval"
    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", unique=True)
    status: str = Field(max_length=20)
    location: str = _text()  # a file path or URL of the full text
    note: str = _text()
    updated_by: str = Field(default="", max_length=100)
    updated_at: datetime = Field(default_factory=utcnow)


class Study(SQLModel, table=True):
    """A study; one or more reports (records) belong to it. Extraction is per study."""

    __tablename__ = "study"
    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=200, unique=True)  # "Chang 2018"
    notes: str = _text()
    created_at: datetime = Field(default_factory=utcnow)


class StudyReport(SQLModel, table=True):
    """A report (record) of a study; a record belongs to at most one study."""

    __tablename__ = "study_report"
    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    record_id: int = Field(foreign_key="record.id", unique=True)
    is_primary: bool = False


class ExtractionValue(SQLModel, table=True):
    """One reviewer's value for one field of one study (fields: ``country``,
    ``outcome.mortality.events``…). Values are stored as entered text; the form types them."""

    __tablename__ = "extraction_value"
    __table_args__ = (UniqueConstraint("study_id", "reviewer_id", "field"),)
    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    reviewer_id: int = Field(foreign_key="reviewer.id", index=True)
    field: str = Field(max_length=200)
    value: str = _text()
    updated_at: datetime = Field(default_factory=utcnow)


class ExtractionStatus(SQLModel, table=True):
    """A reviewer has finished (or reopened) extracting a study: discrepancies are compared
    between finished extractions only, so fields a reviewer has not reached yet are not
    reported as differences. Added in migration 0002."""

    __tablename__ = "extraction_status"
    __table_args__ = (UniqueConstraint("study_id", "reviewer_id"),)
    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    reviewer_id: int = Field(foreign_key="reviewer.id", index=True)
    finished_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class ConsensusValue(SQLModel, table=True):
    """The agreed value of a field of a study. source: agreed | adjudicated | imported."""

    __tablename__ = "consensus_value"
    __table_args__ = (UniqueConstraint("study_id", "field"),)
    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    field: str = Field(max_length=200)
    value: str = _text()
    source: str = Field(default="agreed", max_length=20)
    decided_by: str = Field(default="", max_length=200)
    decided_at: datetime = Field(default_factory=utcnow)


class RobAnswer(SQLModel, table=True):
    """One reviewer's answer to one item of a risk-of-bias tool for a study: a signalling
    question (``1.1``), a domain judgement or override (``D1``) or the overall one
    (``overall``); an override of a published rule carries its reason. Added in 0006."""

    __tablename__ = "rob_answer"
    __table_args__ = (UniqueConstraint("study_id", "reviewer_id", "tool", "item"),)
    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    reviewer_id: int = Field(foreign_key="reviewer.id", index=True)
    tool: str = Field(max_length=40)
    item: str = Field(max_length=40)
    value: str = Field(max_length=40)
    reason: str = _text()
    updated_at: datetime = Field(default_factory=utcnow)


class RobConsensus(SQLModel, table=True):
    """The agreed answer to one risk-of-bias item of a study. source: agreed | adjudicated."""

    __tablename__ = "rob_consensus"
    __table_args__ = (UniqueConstraint("study_id", "tool", "item"),)
    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", index=True)
    tool: str = Field(max_length=40)
    item: str = Field(max_length=40)
    value: str = Field(max_length=40)
    reason: str = _text()
    source: str = Field(default="agreed", max_length=20)
    decided_by: str = Field(default="", max_length=200)
    decided_at: datetime = Field(default_factory=utcnow)


class GradeRating(SQLModel, table=True):
    """The review team's GRADE rating of one domain of one outcome (``reviewflow grade set``).
    domain: design | risk_of_bias | inconsistency | indirectness | imprecision |
    publication_bias | upgrade; a downgrade or an upgrade carries its reason."""

    __tablename__ = "grade_rating"
    __table_args__ = (UniqueConstraint("outcome", "domain"),)
    id: int | None = Field(default=None, primary_key=True)
    outcome: str = Field(max_length=200, index=True)
    domain: str = Field(max_length=40)
    value: str = Field(max_length=40)
    reason: str = _text()
    decided_by: str = Field(default="", max_length=200)
    decided_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who changed what, when, from what to what. Append-only."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=50)  # decision.set, decision.undo, dedup.merge, …
    entity: str = Field(max_length=50)  # table name
    entity_id: int | None = None
    record_id: int | None = Field(default=None, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
