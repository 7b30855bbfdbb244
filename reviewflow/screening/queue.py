"""A reviewer's queue at a stage, paged from SQL, blinded.

The queue is the stage's records (as :mod:`reviewflow.screening.flow` defines them) in record
order, each with *this reviewer's* decision or none. Pages of ids are read with LIMIT/OFFSET and
kept; a record's text is read only when it is shown. Nothing here can return another reviewer's
decision, the number of reviewers who decided a record, or whether a record is in conflict.

At the full-text stage the queue holds the reports sought for retrieval (the title/abstract
includes); a report marked "not retrieved" stays in the list, flagged, so it can be put back,
but it is not counted in the progress and needs no decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col, select

from reviewflow.screening import flow
from reviewflow.screening.decisions import (
    Change,
    MyDecision,
    ScreeningRules,
    as_mine,
    check_stage,
    reviewer_row,
)
from reviewflow.store.engine import Store
from reviewflow.store.models import Decision, FulltextRetrieval, Record

PAGE_SIZE = 250


@dataclass(frozen=True)
class QueueEntry:
    position: int  # 0-based place in the stage's order
    record_id: int
    decision: str | None  # this reviewer's, or None


@dataclass(frozen=True)
class Progress:
    decided: int  # my decisions on records of my queue
    total: int  # records in my queue that need a decision


@dataclass(frozen=True)
class SearchHit:
    record_id: int
    title: str
    year: int | None
    pmid: str


@dataclass(frozen=True)
class RecordView:
    """What a reviewer sees of one record: the bibliographic data and their own decision."""

    record_id: int
    title: str
    authors: list[str]
    journal: str
    year: int | None
    volume: str
    issue: str
    pages: str
    pmid: str
    doi: str
    publication_types: list[str]
    abstract: str
    abstract_sections: list[tuple[str, str]]  # (label, text); one ("", text) when unstructured
    keywords: list[str]
    mesh_terms: list[str]
    language: list[str]
    mine: MyDecision | None
    not_retrieved: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


_LABEL = re.compile(r"(?:(?<=^)|(?<=[.!?]\s))([A-Z][A-Z ,/&-]{2,40}[A-Z]):\s+")


def abstract_sections(abstract: str, extra: dict[str, Any]) -> list[tuple[str, str]]:
    """The structured abstract's sections: the reader's parts when it kept them, else the
    ``BACKGROUND: … METHODS: …`` labels found in the text, else the whole text."""
    parts = extra.get("abstract_sections")
    if isinstance(parts, list) and parts:
        return [(str(p.get("label", "")), str(p.get("text", ""))) for p in parts]
    found = list(_LABEL.finditer(abstract))
    if len(found) < 2:
        return [("", abstract)] if abstract else []
    sections = [("", abstract[: found[0].start()].strip())] if found[0].start() > 0 else []
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(abstract)
        sections.append((m.group(1).title(), abstract[m.end() : end].strip()))
    return [s for s in sections if s[0] or s[1]]


class ScreeningQueue:
    """One reviewer's view of one stage. Not thread-safe: use it from one thread at a time."""

    def __init__(
        self,
        store: Store,
        reviewer: str,
        stage: str,
        rules: ScreeningRules | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.store, self.reviewer, self.stage = store, reviewer, check_stage(stage)
        self.rules = rules or ScreeningRules()
        self.page_size = page_size
        with store.read() as s:
            me = reviewer_row(s, reviewer)
            assert me.id is not None
            self.reviewer_id: int = me.id
            self._sought: list[int] = []
            if stage == flow.FULL_TEXT:
                self._sought = flow.review_flow(s, self.rules.reviewers_per_record).sought
        self._pages: dict[int, list[QueueEntry]] = {}
        self._length: int | None = None
        self._progress: Progress | None = None

    # -- SQL pieces --------------------------------------------------------------------------
    def _member(self) -> ColumnElement[bool]:
        if self.stage == flow.TITLE_ABSTRACT:
            return flow.in_title_abstract()
        return col(Record.id).in_(self._sought)

    def _assessed(self) -> ColumnElement[bool]:
        """Members that need a decision (at full text: not marked not retrieved)."""
        if self.stage == flow.TITLE_ABSTRACT:
            return self._member()
        missing = select(FulltextRetrieval.id).where(
            col(FulltextRetrieval.record_id) == col(Record.id),
            FulltextRetrieval.status == "not_retrieved",
        )
        return and_(self._member(), ~missing.exists())

    def _mine(self) -> ColumnElement[bool]:
        return and_(
            col(Decision.record_id) == col(Record.id),
            col(Decision.reviewer_id) == self.reviewer_id,
            col(Decision.stage) == self.stage,
        )

    # -- size, progress, pages ---------------------------------------------------------------
    def __len__(self) -> int:
        if self._length is None:
            with self.store.read() as s:
                n = s.scalar(select(func.count()).select_from(Record).where(self._member()))
            self._length = int(n or 0)
        return self._length

    def progress(self) -> Progress:
        if self._progress is None:
            with self.store.read() as s:
                total = s.scalar(select(func.count()).select_from(Record).where(self._assessed()))
                decided = s.scalar(
                    select(func.count())
                    .select_from(Record)
                    .join(Decision, self._mine())
                    .where(self._assessed())
                )
            self._progress = Progress(int(decided or 0), int(total or 0))
        return self._progress

    def _page(self, number: int) -> list[QueueEntry]:
        if number not in self._pages:
            with self.store.read() as s:
                rows = s.execute(
                    select(Record.id, Decision.decision)
                    .outerjoin(Decision, self._mine())
                    .where(self._member())
                    .order_by(col(Record.id))
                    .offset(number * self.page_size)
                    .limit(self.page_size)
                ).all()
            start = number * self.page_size
            self._pages[number] = [
                QueueEntry(start + i, int(rid), dec) for i, (rid, dec) in enumerate(rows)
            ]
        return self._pages[number]

    def entry(self, position: int) -> QueueEntry | None:
        if position < 0:
            return None
        page = self._page(position // self.page_size)
        offset = position % self.page_size
        return page[offset] if offset < len(page) else None

    def position_of(self, record_id: int) -> int | None:
        with self.store.read() as s:
            member = s.scalar(select(Record.id).where(Record.id == record_id, self._member()))
            if member is None:
                return None
            before = s.scalar(
                select(func.count())
                .select_from(Record)
                .where(self._member(), col(Record.id) < record_id)
            )
        return int(before or 0)

    def next_undecided(self, after: int = -1) -> int | None:
        """The position of the first record after ``after`` I have not decided (wrapping round
        to the start), or None when I have decided every record that needs it."""
        for position in range(after + 1, after + 1 + self.page_size):
            e = self.entry(position)
            if e is None:
                break
            if e.decision is None and not self._skip(e.record_id):
                return position
        start = self.entry(after)
        for lower in ((start.record_id if start else -1), -1):
            with self.store.read() as s:
                rid = s.scalar(
                    select(Record.id)
                    .where(
                        self._assessed(),
                        col(Record.id) > lower,
                        ~select(Decision.id).where(self._mine()).exists(),
                    )
                    .order_by(col(Record.id))
                    .limit(1)
                )
            if rid is not None:
                return self.position_of(int(rid))
        return None

    def _skip(self, record_id: int) -> bool:
        """Full text: a report marked not retrieved needs no decision."""
        if self.stage == flow.TITLE_ABSTRACT:
            return False
        return self.not_retrieved(record_id)

    def not_retrieved(self, record_id: int) -> bool:
        with self.store.read() as s:
            status = s.scalar(
                select(FulltextRetrieval.status).where(FulltextRetrieval.record_id == record_id)
            )
        return status == "not_retrieved"

    def refresh(self) -> None:
        """Forget cached pages and counts (after a retrieval change, or to pick up new records)."""
        self._pages.clear()
        self._length = self._progress = None

    def apply(self, change: Change) -> None:
        """Keep cached pages and counts in step with a change this reviewer just made."""
        for page in self._pages.values():
            for i, e in enumerate(page):
                if e.record_id == change.record_id:
                    page[i] = QueueEntry(
                        e.position, e.record_id, change.after.decision if change.after else None
                    )
        if self._progress is not None:
            delta = (change.after is not None) - (change.before is not None)
            self._progress = Progress(self._progress.decided + delta, self._progress.total)

    # -- reading a record --------------------------------------------------------------------
    def record(self, record_id: int) -> RecordView:
        with self.store.read() as s:
            r = s.get(Record, record_id)
            if r is None:
                raise KeyError(record_id)
            mine = s.exec(
                select(Decision).where(
                    Decision.record_id == record_id,
                    Decision.reviewer_id == self.reviewer_id,
                    Decision.stage == self.stage,
                )
            ).first()
            status = s.scalar(
                select(FulltextRetrieval.status).where(FulltextRetrieval.record_id == record_id)
            )
        return RecordView(
            record_id=record_id, title=r.title, authors=list(r.authors), journal=r.journal or
            r.journal_abbrev, year=r.year, volume=r.volume, issue=r.issue, pages=r.pages,
            pmid=r.pmid, doi=r.doi, publication_types=list(r.publication_types),
            abstract=r.abstract, abstract_sections=abstract_sections(r.abstract, r.extra),
            keywords=list(r.keywords), mesh_terms=list(r.mesh_terms), language=list(r.language),
            mine=as_mine(mine), not_retrieved=status == "not_retrieved", extra=dict(r.extra),
        )  # fmt: skip

    def search(self, text: str, limit: int = 100) -> list[SearchHit]:
        """Records of the queue whose title or abstract contains ``text`` (any case), or whose
        PMID, DOI or record id is ``text``."""
        text = text.strip()
        if not text:
            return []
        like = f"%{text.lower()}%"
        conditions: list[ColumnElement[bool]] = [
            func.lower(Record.title).like(like),
            func.lower(Record.abstract).like(like),
            col(Record.pmid) == text,
            func.lower(Record.doi) == text.lower(),
        ]
        if text.isdigit():
            conditions.append(col(Record.id) == int(text))
        with self.store.read() as s:
            rows = s.execute(
                select(Record.id, Record.title, Record.year, Record.pmid)
                .where(self._member(), or_(*conditions))
                .order_by(col(Record.id))
                .limit(limit)
            ).all()
        return [SearchHit(int(i), t, y, p) for i, t, y, p in rows]
