"""A reviewer's record list at a stage: every record of their queue as one row, filtered and
sorted, and bulk decisions on the undecided records of a filtered list.

Blinded like the queue (:mod:`reviewflow.screening.queue`): a row carries this reviewer's own
decision and nothing about anyone else's. A bulk decision is one :func:`decisions.decide` call
per record (each committed and audited as if decided by key) on records this reviewer has not
decided; it never revises a decision, and :func:`undo_bulk` takes a batch back record by record
with :func:`decisions.undo`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, func, union
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from reviewflow.errors import InputError, ReviewflowError
from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.screening.queue import ScreeningQueue, matching
from reviewflow.store.engine import Store
from reviewflow.store.models import (
    Decision,
    DuplicateLink,
    FulltextRetrieval,
    Record,
    RecordSource,
    Resolution,
    SearchRun,
)
from reviewflow.store.sql import id_in

UNDECIDED = "undecided"
SHOWN = (UNDECIDED, "include", "exclude", "maybe")  # the decision filter's choices
SORTS = ("position", "year", "title", "author", "decision")


@dataclass(frozen=True)
class ListFilter:
    """Which records to list and how. Empty fields do not filter."""

    decision: str = ""  # "undecided", "include", "exclude", "maybe" (mine), or "" for all
    words: str = ""  # every word in title/abstract, or a PMID, DOI, record id (as ``/``)
    year_from: int | None = None
    year_to: int | None = None
    source: str = ""  # a search/import run's source name ("PubMed", "Embase"), any case
    label: str = ""  # one of my own labels (any case), on my decision or waiting for it
    sort: str = "position"  # one of SORTS
    descending: bool = False


@dataclass(slots=True)
class ListRow:
    position: int  # 0-based place in the screening queue's order (``g`` takes it + 1)
    record_id: int
    decision: str | None  # this reviewer's own, or None
    reason: str  # my full-text exclusion reason
    year: int | None
    first_author: str
    title: str
    sources: tuple[str, ...]  # the source names of the runs that found the record
    not_retrieved: bool = False  # full text: the report is marked not retrieved
    labels: tuple[str, ...] = ()  # my own labels (on my decision, or waiting for it)


@dataclass(frozen=True)
class Listing:
    rows: list[ListRow]
    total: int  # records in the queue, before filtering


@dataclass(frozen=True)
class BulkResult:
    changes: list[core.Change]  # in the order made
    skipped: dict[str, int] = field(default_factory=dict)  # why → how many records


def check_filter(f: ListFilter) -> ListFilter:
    if f.decision and f.decision not in SHOWN:
        raise InputError(f"unknown decision filter {f.decision!r}: use one of {', '.join(SHOWN)}")
    if f.sort not in SORTS:
        raise InputError(f"unknown sort {f.sort!r}: use one of {', '.join(SORTS)}")
    if f.year_from is not None and f.year_to is not None and f.year_from > f.year_to:
        raise InputError(f"years {f.year_from}-{f.year_to}: the first is after the last")
    return f


def label_names(store: Store, reviewer: str, stage: str) -> list[str]:
    """The labels ``reviewer`` has put on records at ``stage`` (for the label filter)."""
    names = {
        x.casefold(): x for tags in core.my_labels(store, reviewer, stage).values() for x in tags
    }
    return sorted(names.values(), key=str.casefold)


def source_names(store: Store) -> list[str]:
    """The source names of the review's searches and imports, for the source filter."""
    with store.read() as s:
        return sorted(set(s.execute(select(SearchRun.source).distinct()).scalars()) - {""})


def _found_by() -> Subquery:
    """(record id, source name) for each run that found a record or one of its duplicates
    (a record kept by deduplication was found by every run that found a copy of it)."""
    own = select(RecordSource.record_id.label("rid"), SearchRun.source).join(  # type: ignore[attr-defined]
        SearchRun, col(SearchRun.id) == col(RecordSource.run_id)
    )
    copies = (
        select(DuplicateLink.kept_record_id.label("rid"), SearchRun.source)  # type: ignore[attr-defined]
        .join(RecordSource, col(RecordSource.record_id) == col(DuplicateLink.record_id))
        .join(SearchRun, col(SearchRun.id) == col(RecordSource.run_id))
        .where(col(DuplicateLink.undone_at).is_(None))
    )
    return union(own, copies).subquery()


def _conditions(q: ScreeningQueue, f: ListFilter) -> list[ColumnElement[bool]]:
    where = [q.member_condition()]
    found = matching(f.words)
    if found is not None:
        where.append(found)
    if f.year_from is not None:
        where.append(col(Record.year) >= f.year_from)
    if f.year_to is not None:
        where.append(col(Record.year) <= f.year_to)
    if f.source:
        runs = _found_by()
        by = select(runs.c.rid).where(func.lower(runs.c.source) == f.source.lower())
        where.append(col(Record.id).in_(by))
    return where


def list_records(
    store: Store,
    reviewer: str,
    stage: str,
    f: ListFilter | None = None,
    rules: core.ScreeningRules | None = None,
    order: list[int] | None = None,
) -> Listing:
    """``reviewer``'s records at ``stage`` that pass ``f``, sorted as it says. ``order`` is the
    screening screen's relevance order (record ids), when it shows one: positions are then
    places in it, as in the screen."""
    f = check_filter(f or ListFilter())
    q = ScreeningQueue(store, reviewer, stage, rules)  # checks who is asking (require_self)
    own = and_(
        col(Decision.record_id) == col(Record.id),
        col(Decision.reviewer_id) == q.reviewer_id,
        col(Decision.stage) == stage,
    )
    first_author = col(Record.authors)[0].as_string()  # json_extract / ->>: no JSON decoding
    query = (
        sa_select(col(Record.id), col(Record.year), first_author, col(Record.title),
                  col(Decision.decision), col(Decision.reason))  # sqlmodel's takes 4 at most
        .outerjoin(Decision, own)
        .where(*_conditions(q, f))
        .order_by(col(Record.id))
    )  # fmt: skip
    if f.decision == UNDECIDED:
        query = query.where(col(Decision.id).is_(None))
    elif f.decision:
        query = query.where(col(Decision.decision) == f.decision)
    sources: dict[int, list[str]] = defaultdict(list)
    missing: set[int] = set()
    with store.read() as s:
        db = s.connection()  # plain rows, no ORM loading: 20,000 of them
        rows = db.execute(query).all()
        members = sorted(db.execute(select(Record.id).where(q.member_condition())).scalars())
        found = _found_by()
        for rid, source in db.execute(
            select(found.c.rid, found.c.source).order_by(found.c.source)
        ).all():
            sources[rid].append(source)
        if stage == flow.FULL_TEXT:
            not_retrieved = FulltextRetrieval.status == "not_retrieved"
            missing = set(
                db.execute(select(FulltextRetrieval.record_id).where(not_retrieved)).scalars()
            )
    tagged = core.my_labels(store, reviewer, stage)  # mine only, drafts included
    if f.label:
        wanted = f.label.casefold()
        rows = [r for r in rows if any(x.casefold() == wanted for x in tagged.get(r[0], ()))]
    place = {rid: i for i, rid in enumerate(order)} if order is not None else None
    listed = [
        ListRow(
            place.get(rid, len(place)) if place is not None else bisect_left(members, rid),
            rid, decision, reason or "", year, author or "", title or "",
            tuple(sources.get(rid, ())), rid in missing, tuple(tagged.get(rid, ())),
        )
        for (rid, year, author, title, decision, reason) in rows
    ]  # fmt: skip
    return Listing(sort_rows(listed, f), len(members))


def sort_rows(rows: list[ListRow], f: ListFilter) -> list[ListRow]:
    """``rows`` sorted as ``f`` says (a new sort needs no new query)."""
    return sorted(rows, key=_sort_key(check_filter(f).sort), reverse=f.descending)


def _sort_key(sort: str) -> Callable[[ListRow], Any]:
    """Rows with no year/author/decision go last (first when descending); ties by position."""
    if sort == "year":
        return lambda r: (r.year is None, r.year or 0, r.position)
    if sort == "title":
        return lambda r: (r.title.casefold(), r.position)
    if sort == "author":
        return lambda r: (not r.first_author, r.first_author.casefold(), r.position)
    if sort == "decision":
        rank = {None: 0, "include": 1, "maybe": 2, "exclude": 3}
        return lambda r: (rank[r.decision], r.position)
    return lambda r: r.position


def decide_undecided(
    store: Store,
    reviewer: str,
    stage: str,
    record_ids: list[int],
    decision: str,
    reason: str = "",
    rules: core.ScreeningRules | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BulkResult:
    """Give ``decision`` to each of ``record_ids`` that ``reviewer`` has not decided at
    ``stage`` (one audited :func:`decisions.decide` call each). Records already decided by
    them, reconciled, or (full text) with the report marked not retrieved are left alone and
    counted in ``skipped``; so is a record another call refuses (the reason is its message).
    ``progress(done, of)`` is called every 50 records."""
    rules = rules or core.ScreeningRules()
    q = ScreeningQueue(store, reviewer, stage, rules)  # require_self, and the queue's records
    reason = core.check_decision(stage, decision, reason, rules)  # once for the batch
    wanted = list(dict.fromkeys(record_ids))
    with store.read() as s:

        def among(column: Any, *where: Any) -> set[int]:  # which of ``wanted`` pass ``where``
            inside = id_in(column, wanted, sqlite=store.is_sqlite)
            return set(s.execute(select(column).where(inside, *where)).scalars())

        members = among(col(Record.id), q.member_condition())
        decided = among(col(Decision.record_id), Decision.reviewer_id == q.reviewer_id,
                        Decision.stage == stage)  # fmt: skip
        final = among(col(Resolution.record_id), Resolution.stage == stage)
        missing = among(col(FulltextRetrieval.record_id),
                        FulltextRetrieval.status == "not_retrieved")  # fmt: skip
    skipped: dict[str, int] = defaultdict(int)
    changes: list[core.Change] = []
    for i, rid in enumerate(wanted):
        if progress is not None and i and not i % 50:
            progress(i, len(wanted))
        why = (
            "not in this stage" if rid not in members
            else "already decided by you" if rid in decided
            else "already reconciled" if rid in final
            else "report not retrieved" if stage == flow.FULL_TEXT and rid in missing
            else ""
        )  # fmt: skip
        if not why:
            try:
                changes.append(
                    core.decide(store, reviewer, rid, stage, decision, reason, rules=rules)
                )
                continue
            except ReviewflowError as e:
                why = str(e)
        skipped[why] += 1
    return BulkResult(changes, dict(skipped))


def undo_bulk(store: Store, reviewer: str, stage: str, record_ids: list[int]) -> list[core.Change]:
    """Undo ``reviewer``'s last change on each record (the batch a bulk decision made), last
    first; one audited :func:`decisions.undo` each. Returns what was undone."""
    undone = []
    for rid in reversed(record_ids):
        change = core.undo(store, reviewer, rid, stage)
        if change is not None:
            undone.append(change)
    return undone
