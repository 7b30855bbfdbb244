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
from sqlmodel import Session, col, select

from reviewflow.access.guard import behind_rls, require_self
from reviewflow.screening import flow
from reviewflow.screening.decisions import (
    Change,
    MyDecision,
    ScreeningRules,
    as_mine,
    check_stage,
    draft,
    reviewer_row,
)
from reviewflow.store.engine import Store
from reviewflow.store.models import Decision, FulltextRetrieval, Record, Reviewer
from reviewflow.store.sql import id_in

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
    draft_note: str = ""  # my note on a record I have not decided yet
    not_retrieved_by: str = ""  # who marked the report not retrieved (shared by the team)
    title_abstract_note: str = ""  # at full text: my own note from title/abstract screening
    draft_labels: tuple[str, ...] = ()  # my labels on a record I have not decided yet
    fulltext: str = ""  # where the attached PDF is (relative to the review folder), or ""


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
        require_self(store, reviewer, "screening")
        self.store, self.reviewer, self.stage = store, reviewer, check_stage(stage)
        self.rules = rules or ScreeningRules()
        self.page_size = page_size
        with store.read() as s:
            me = reviewer_row(s, reviewer)
            assert me.id is not None
            self.reviewer_id: int = me.id
            self._sought: list[int] = []
            if stage == flow.FULL_TEXT:
                self._sought = flow.sought_ids(
                    s, self.rules.reviewers_per_record, behind_rls=behind_rls(store)
                )
            self._count_index = _narrow_index(s) if store.is_sqlite else None
        self._entries: dict[int, QueueEntry] = {}  # position → entry, for the pages seen
        self._length: int | None = None
        self._progress: Progress | None = None
        # relevance order (title/abstract): the record ids in order, and those I have decided
        self._order: list[int] | None = None
        self._order_at: dict[int, int] = {}
        self._decided: set[int] = set()

    def set_order(self, order: list[int] | None) -> None:
        """Show the records in ``order`` (record ids, every record of the stage once), or in
        record order again with None. The next undecided record is then the first in it."""
        if order is not None and self.stage != flow.TITLE_ABSTRACT:
            raise ValueError("a relevance order is for title/abstract screening")
        self._order = order
        self._order_at = {rid: i for i, rid in enumerate(order or [])}
        if order is not None:
            with self.store.read() as s:
                self._decided = set(
                    s.execute(select(Decision.record_id).where(self._own())).scalars()
                )
        self._entries.clear()
        self._length = None if order is None else len(order)

    # -- SQL pieces --------------------------------------------------------------------------
    def member_condition(self) -> ColumnElement[bool]:
        """The SQL condition on ``record.id`` for the records of this queue (the record list
        filters the same records)."""
        if self.stage == flow.TITLE_ABSTRACT:
            return flow.in_title_abstract()
        return id_in(col(Record.id), self._sought, sqlite=self.store.is_sqlite)

    def _assessed(self) -> ColumnElement[bool]:
        """Members that need a decision (at full text: not marked not retrieved)."""
        if self.stage == flow.TITLE_ABSTRACT:
            return self.member_condition()
        missing = select(FulltextRetrieval.id).where(
            col(FulltextRetrieval.record_id) == col(Record.id),
            FulltextRetrieval.status == "not_retrieved",
        )
        return and_(self.member_condition(), ~missing.exists())

    def _own(self) -> ColumnElement[bool]:
        return and_(
            col(Decision.reviewer_id) == self.reviewer_id, col(Decision.stage) == self.stage
        )

    def _mine(self) -> ColumnElement[bool]:
        return and_(col(Decision.record_id) == col(Record.id), self._own())

    # -- size, progress, pages ---------------------------------------------------------------
    # At title/abstract the counts are "all records minus the ones left out of screening" (a
    # few): counting the left-out ids is instant, and counting all records can use a narrow
    # index instead of reading 100,000 abstracts. At full text the stage is a short id list.
    def _records_below(self, s: Session, bound: int | None) -> int:
        query = select(func.count()).select_from(Record)
        if bound is not None:
            query = query.where(col(Record.id) < bound)
        if self._count_index:
            query = query.with_hint(Record, f"INDEXED BY {self._count_index}", "sqlite")
        return int(s.scalar(query) or 0)

    def _left_out_below(self, s: Session, bound: int | None) -> int:
        left_out = flow.left_out_of_screening().subquery()
        query = select(func.count()).select_from(left_out)
        if bound is not None:
            query = query.where(left_out.c.record_id < bound)
        return int(s.scalar(query) or 0)

    def __len__(self) -> int:
        if self._length is None:
            with self.store.read() as s:
                if self.stage == flow.TITLE_ABSTRACT:
                    n = self._records_below(s, None) - self._left_out_below(s, None)
                else:
                    n = int(
                        s.scalar(
                            select(func.count()).select_from(Record).where(self.member_condition())
                        )
                        or 0
                    )
            self._length = n
        return self._length

    def progress(self) -> Progress:
        if self._progress is None:
            with self.store.read() as s:
                if self.stage == flow.TITLE_ABSTRACT:
                    total = len(self)
                    mine = (
                        select(func.count())
                        .select_from(Decision)
                        .where(
                            col(Decision.reviewer_id) == self.reviewer_id,
                            col(Decision.stage) == self.stage,
                        )
                    )
                    left_out = flow.left_out_of_screening()
                    decided = int(s.scalar(mine) or 0) - int(
                        s.scalar(mine.where(col(Decision.record_id).in_(left_out))) or 0
                    )
                else:
                    total = int(
                        s.scalar(select(func.count()).select_from(Record).where(self._assessed()))
                        or 0
                    )
                    decided = int(
                        s.scalar(
                            select(func.count())
                            .select_from(Record)
                            .join(Decision, self._mine())
                            .where(self._assessed())
                        )
                        or 0
                    )
            self._progress = Progress(decided, total)
        return self._progress

    def _load_ordered(self, order: list[int], position: int) -> None:
        page = order[position : position + self.page_size]
        with self.store.read() as s:
            mine = dict(
                s.execute(
                    select(Decision.record_id, Decision.decision).where(
                        self._own(),
                        id_in(col(Decision.record_id), page, sqlite=self.store.is_sqlite),
                    )
                ).all()
            )
        for i, rid in enumerate(page):
            self._entries[position + i] = QueueEntry(position + i, rid, mine.get(rid))

    def _load(self, position: int, after_id: int | None) -> None:
        """Cache a page of entries from ``position``: by keyset (the ids after ``after_id``)
        when the record before it is known, else by OFFSET."""
        if self._order is not None:
            return self._load_ordered(self._order, position)
        query = (
            select(Record.id, Decision.decision)
            .outerjoin(Decision, self._mine())
            .where(self.member_condition())
            .order_by(col(Record.id))
            .limit(self.page_size)
        )
        if after_id is not None:
            query = query.where(col(Record.id) > after_id)
        else:
            query = query.offset(position)
        with self.store.read() as s:
            rows = s.execute(query).all()
        for i, (rid, dec) in enumerate(rows):
            self._entries[position + i] = QueueEntry(position + i, int(rid), dec)
        if len(rows) < self.page_size:
            self._length = position + len(rows)

    def entry(self, position: int) -> QueueEntry | None:
        if position < 0 or (self._length is not None and position >= self._length):
            return None
        if position not in self._entries:
            before = self._entries.get(position - 1)
            self._load(position, before.record_id if before else None)
        return self._entries.get(position)

    def _remember(self, position: int, record_id: int) -> None:
        """Load the page starting at a record found by SQL, so showing it costs no OFFSET."""
        if position not in self._entries:
            self._load(position, record_id - 1 if record_id > 0 else None)
            if self._entries.get(position, QueueEntry(0, -1, None)).record_id != record_id:
                self._entries.pop(position, None)  # not what we expected: forget it

    def position_of(self, record_id: int) -> int | None:
        if self._order is not None:
            return self._order_at.get(record_id)
        with self.store.read() as s:
            member = s.scalar(
                select(Record.id).where(Record.id == record_id, self.member_condition())
            )
            if member is None:
                return None
            if self.stage == flow.TITLE_ABSTRACT:
                return self._records_below(s, record_id) - self._left_out_below(s, record_id)
            before = s.scalar(
                select(func.count())
                .select_from(Record)
                .where(self.member_condition(), col(Record.id) < record_id)
            )
        return int(before or 0)

    def next_undecided(self, after: int = -1) -> int | None:
        """The position of the first record after ``after`` I have not decided (wrapping round
        to the start), or None when I have decided every record that needs it. In a
        relevance order: the first record of the order I have not decided, wherever I am."""
        if self._order is not None:
            undecided = (i for i, rid in enumerate(self._order) if rid not in self._decided)
            return next(undecided, None)
        for position in range(after + 1, after + 1 + self.page_size):
            e = self.entry(position)
            if e is None:
                break
            if e.decision is None and not self._skip(e.record_id):
                return position
        start = self.entry(after)
        mine = select(Decision.id).where(self._mine())
        for lower in ((start.record_id if start else -1), -1):
            with self.store.read() as s:
                rid = s.scalar(
                    select(Record.id)
                    .where(col(Record.id) > lower, ~mine.exists(), self._assessed())
                    .order_by(col(Record.id))
                    .limit(1)
                )
            if rid is not None:
                found = self.position_of(int(rid))
                if found is not None:
                    self._remember(found, int(rid))
                return found
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
        self._entries.clear()
        self._progress = None
        self._length = None if self._order is None else len(self._order)

    def apply(self, change: Change) -> None:
        """Keep cached pages and counts in step with a change this reviewer just made."""
        if change.after is None:
            self._decided.discard(change.record_id)
        else:
            self._decided.add(change.record_id)
        for position, e in self._entries.items():
            if e.record_id == change.record_id:
                decision = change.after.decision if change.after else None
                self._entries[position] = QueueEntry(position, e.record_id, decision)
        if self._progress is not None:
            delta = (change.after is not None) - (change.before is not None)
            self._progress = Progress(self._progress.decided + delta, self._progress.total)

    # -- reading a record --------------------------------------------------------------------
    def record(self, record_id: int) -> RecordView:
        return record_view(self.store, record_id, self.stage, self.reviewer_id)

    def search(self, text: str, limit: int = 100) -> list[SearchHit]:
        """The first ``limit`` records of the queue that match ``text`` (see :func:`matching`)."""
        found = matching(text)
        if found is None:
            return []
        with self.store.read() as s:
            rows = s.execute(
                select(Record.id, Record.title, Record.year, Record.pmid)
                .where(self.member_condition(), found)
                .order_by(col(Record.id))
                .limit(limit)
            ).all()
        return [SearchHit(int(i), t, y, p) for i, t, y, p in rows]

    def count_matches(self, text: str) -> int:
        """How many records of the queue match ``text`` (all of them, not the first page)."""
        found = matching(text)
        if found is None:
            return 0
        with self.store.read() as s:
            query = select(func.count()).select_from(Record).where(self.member_condition(), found)
            return int(s.scalar(query) or 0)


def matching(text: str) -> ColumnElement[bool] | None:
    """Every word of ``text`` in the title or the abstract (any case, any order), or ``text``
    is the record's PMID, DOI or record id; None for no text."""
    text = text.strip()
    if not text:
        return None
    words = []
    for word in text.lower().split():
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        words.append(or_(func.lower(Record.title).like(like, escape="\\"),
                         func.lower(Record.abstract).like(like, escape="\\")))  # fmt: skip
    conditions: list[ColumnElement[bool]] = [
        and_(*words),
        col(Record.pmid) == text,
        func.lower(Record.doi) == text.lower(),
    ]
    if text.isdigit():
        conditions.append(col(Record.id) == int(text))
    return or_(*conditions)


def record_view(
    store: Store, record_id: int, stage: str, reviewer_id: int | None = None
) -> RecordView:
    """One record as a reviewer sees it: with ``reviewer_id``'s own decision at the stage, or
    none (reconciliation shows every reviewer's decision separately, from the conflict)."""
    with store.read() as s:
        r = s.get(Record, record_id)
        if r is None:
            raise KeyError(record_id)
        mine, draft_text, ta_note = None, "", ""
        draft_tags: list[str] = []
        if reviewer_id is not None:
            mine = s.exec(
                select(Decision).where(
                    Decision.record_id == record_id,
                    Decision.reviewer_id == reviewer_id,
                    Decision.stage == stage,
                )
            ).first()
            me = s.get(Reviewer, reviewer_id)
            if mine is None and me is not None:
                draft_text, draft_tags = draft(s, me.name, record_id, stage)
            if stage == flow.FULL_TEXT:
                earlier = s.exec(
                    select(Decision.note).where(
                        Decision.record_id == record_id,
                        Decision.reviewer_id == reviewer_id,
                        Decision.stage == flow.TITLE_ABSTRACT,
                    )
                ).first()
                ta_note = earlier or ""
        retrieval = s.execute(
            select(
                FulltextRetrieval.status, FulltextRetrieval.updated_by, FulltextRetrieval.location
            ).where(FulltextRetrieval.record_id == record_id)
        ).first()
    status, marked_by, location = retrieval if retrieval is not None else (None, "", "")
    return RecordView(
        record_id=record_id, title=r.title, authors=list(r.authors), journal=r.journal or
        r.journal_abbrev, year=r.year, volume=r.volume, issue=r.issue, pages=r.pages,
        pmid=r.pmid, doi=r.doi, publication_types=list(r.publication_types),
        abstract=r.abstract, abstract_sections=abstract_sections(r.abstract, r.extra),
        keywords=list(r.keywords), mesh_terms=list(r.mesh_terms), language=list(r.language),
        mine=as_mine(mine), not_retrieved=status == "not_retrieved", extra=dict(r.extra),
        draft_note=draft_text, draft_labels=tuple(draft_tags), title_abstract_note=ta_note, not_retrieved_by=marked_by if status == "not_retrieved" else "",
        fulltext=location if status == "retrieved" else "",
    )  # fmt: skip


def _narrow_index(session: Session) -> str | None:
    """A full (not partial) index on the record table with one small column: SQLite counts
    record ids through it without reading the records themselves."""
    rows = session.connection().exec_driver_sql("PRAGMA index_list('record')").all()
    names = [r[1] for r in rows if not r[4]]  # (seq, name, unique, origin, partial)
    for preferred in ("ix_record_year", "ix_record_pmid"):
        if preferred in names:
            return preferred
    return None
