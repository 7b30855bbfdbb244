"""Running a saved PubMed search into the review: the run log, resuming, the living-review delta.

The strategy is a TOML file in ``queries/`` (:mod:`reviewflow.acquire.strategy`). Each run is a ``search_run`` row (query, PubMed's translation, the date, the count) with one
``search_hit`` row per PMID. A hit's ``fetched_at`` is set in the same transaction that stores
its record, so an interrupted run resumes with exactly the PMIDs it has not stored. PMIDs an
earlier PubMed run already brought into the review get a provenance row for this run, not a
second record, and are not fetched again.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from reviewflow.acquire.importer import existing_pmids, start_run, store_records
from reviewflow.acquire.pubmed import BATCH_SIZE, PubMedClient, SearchPlan, batches, run_query
from reviewflow.acquire.strategy import SavedQuery
from reviewflow.errors import InputError, NetworkError, ReviewflowError
from reviewflow.records import RecordData
from reviewflow.store import Store
from reviewflow.store.models import RecordSource, SearchHit, SearchRun, utcnow

SOURCE = "PubMed"


class SearchProgress:
    """What a long search reports as it goes; the CLI draws a progress bar from it."""

    def note(self, message: str) -> None:
        """A line worth showing (a date slice, a resumed run, a retry)."""

    def start_fetch(self, total: int, done: int) -> None:
        """``total`` records to store in this run, ``done`` of them already stored."""

    def advance(self, n: int) -> None:
        """``n`` more records stored."""


@dataclass
class SearchReport:
    """What one run of a saved query did."""

    run_id: int
    query_name: str
    count: int  # PubMed's count for the query
    translation: str
    hits: int  # distinct PMIDs this run found
    new_hits: int  # not found by the previous complete run of this query (all, on a first run)
    dropped_hits: int  # found by the previous run, not by this one
    previous_run_id: int | None
    started_at: str  # when PubMed was searched (UTC, ISO 8601): the PRISMA-S "date run"
    records_added: int  # new records in the review
    already_in_review: int  # hits an earlier PubMed run brought in: provenance rows only
    fetched_requests: int
    resumed: bool
    slices: int
    missing: list[str] = field(default_factory=list)  # PMIDs PubMed returned no record for
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


def run_search(
    store: Store,
    saved: SavedQuery,
    client: PubMedClient,
    *,
    progress: SearchProgress | None = None,
    batch_size: int = BATCH_SIZE,
) -> SearchReport:
    """Run (or resume) ``saved`` and store the records PubMed returns for it, fetching at most
    ``batch_size`` records per EFetch request."""
    if not 1 <= batch_size <= BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {BATCH_SIZE}")
    show = progress or SearchProgress()
    resumed = _unfinished_run(store, saved)
    warnings: list[str] = []
    if resumed is not None:
        run_id = resumed
        show.note(f"resuming run {run_id} of {saved.name!r}: fetching only what it did not store")
        with store.read() as s:
            run = s.get(SearchRun, run_id)
            assert run is not None
            count, translation = run.count or 0, run.translation
            warnings = list(run.state.get("warnings", []))
            n_slices = len(run.state.get("slices", [])) or 1
        history: dict[str, tuple[str, str, int]] = {}
    else:
        plan = run_query(
            client, saved.query, mindate=saved.mindate, maxdate=saved.maxdate,
            datetype=saved.datetype, progress=show.note,
        )  # fmt: skip
        warnings = list(plan.warnings)
        if plan.not_found:
            warnings.insert(0, "PubMed found nothing for: " + "; ".join(plan.not_found))
        run_id = _record_run(store, saved, plan, warnings)
        count, translation = plan.count, plan.translation
        n_slices = len(plan.slices)
        history = _history_positions(plan)

    with store.write() as s:
        linked = _link_known(s, run_id)
    if linked:
        show.note(f"{linked:,} PMIDs are already in the review from earlier PubMed runs: linked")
    todo = _unfetched(store, run_id)
    with store.read() as s:
        total = len(s.exec(select(SearchHit.pmid).where(SearchHit.run_id == run_id)).all())
    show.start_fetch(total, total - len(todo))
    before = client.requests_sent
    try:
        for chunk in _fetch_batches(todo, history, batch_size):
            where = history.get(chunk[0]) if len(chunk) > 0 else None
            use_history = where if where and _is_history_slice(chunk, where, history) else None
            batch = client.efetch(chunk, history=use_history)
            records = _records(batch.bodies, set(batch.received))
            with store.write() as s:
                store_records(s, run_id, records, reuse_same_source=True)
                _mark_fetched(s, run_id, [r.pmid for r in records])
            show.advance(len(chunk))
    except ReviewflowError as exc:
        done = total - len(_unfetched(store, run_id))
        raise type(exc)(
            f"{exc.message} ({done:,} of {total:,} records stored; run the same search again "
            "to resume)"
        ) from None
    # what is still unstored, whatever the reason (PubMed never returned it): the run stays open
    missing = _unfetched(store, run_id)
    return _finish(store, saved, run_id, count, translation, missing, warnings,
                   client.requests_sent - before, resumed is not None, n_slices)  # fmt: skip


# -- the run log -----------------------------------------------------------------------------
def _unfinished_run(store: Store, saved: SavedQuery) -> int | None:
    """The latest ``running`` run of this query with the same query text and dates; a running
    run of the same name whose strategy has since changed is marked failed."""
    with store.write() as s:
        runs = s.exec(
            select(SearchRun)
            .where(SearchRun.kind == "search", SearchRun.source == SOURCE)
            .where(SearchRun.query_name == saved.name, SearchRun.status == "running")
            .order_by(col(SearchRun.id).desc())
        ).all()
        for run in runs:
            same = (run.query, run.date_from, run.date_to, run.state.get("datetype", "pdat")) == (
                saved.query, saved.mindate, saved.maxdate, saved.datetype,
            )  # fmt: skip
            if same:
                return run.id
            run.status = "failed"
            run.notes = (run.notes + "\n" if run.notes else "") + (
                "abandoned: the saved strategy changed before this run finished"
            )
            s.add(run)
    return None


def _record_run(store: Store, saved: SavedQuery, plan: SearchPlan, warnings: list[str]) -> int:
    slices = [
        {"mindate": sl.mindate, "maxdate": sl.maxdate, "count": sl.count} for sl in plan.slices
    ]
    with store.write() as s:
        run_id = start_run(
            s, kind="search", method="database", source=SOURCE, query_name=saved.name,
            query=saved.query, translation=plan.translation, date_from=saved.mindate,
            date_to=saved.maxdate, count=plan.count, status="running",
            notes="\n".join([saved.notes, *warnings]).strip(),
            state={"datetype": saved.datetype, "slices": slices, "warnings": warnings,
                   "distinct_pmids": len(plan.pmids)},
        )  # fmt: skip
        if plan.pmids:
            s.execute(
                insert(SearchHit),
                [{"run_id": run_id, "pmid": p, "position": i} for i, p in enumerate(plan.pmids)],
            )
    return run_id


def _history_positions(plan: SearchPlan) -> dict[str, tuple[str, str, int]]:
    """PMID → (WebEnv, query_key, its position in that slice): where the history server has it."""
    where: dict[str, tuple[str, str, int]] = {}
    for sl in plan.slices:
        if sl.webenv and sl.query_key:
            for i, pmid in enumerate(sl.ids):
                where.setdefault(pmid, (sl.webenv, sl.query_key, i))
    return where


def _fetch_batches(
    todo: list[str], history: dict[str, tuple[str, str, int]], size: int
) -> list[list[str]]:
    """Batches of ≤ ``size`` PMIDs; on a fresh run they follow the history slices so that a
    batch can be read by position from the history server."""
    out: list[list[str]] = []
    current: list[str] = []
    for pmid in todo:
        if current and (len(current) == size or not _follows(current[-1], pmid, history)):
            out.append(current)
            current = []
        current.append(pmid)
    if current:
        out.append(current)
    return out


def _follows(prev: str, pmid: str, history: dict[str, tuple[str, str, int]]) -> bool:
    a, b = history.get(prev), history.get(pmid)
    if a is None or b is None:
        return a is None and b is None
    return a[:2] == b[:2] and b[2] == a[2] + 1


def _is_history_slice(
    chunk: Sequence[str], first: tuple[str, str, int], history: dict[str, tuple[str, str, int]]
) -> bool:
    last = history.get(chunk[-1])
    return last is not None and last[:2] == first[:2] and last[2] - first[2] == len(chunk) - 1


def _link_known(s: Session, run_id: int) -> int:
    """Give hits that earlier PubMed runs already stored a provenance row for this run."""
    known = existing_pmids(s, SOURCE)
    hits = s.exec(
        select(SearchHit.pmid).where(
            SearchHit.run_id == run_id, col(SearchHit.fetched_at).is_(None)
        )
    ).all()
    linked = [p for p in hits if p in known]
    if linked:
        already = set(
            s.exec(select(RecordSource.record_id).where(RecordSource.run_id == run_id)).all()
        )
        now = utcnow()
        rows = [
            {"record_id": known[p], "run_id": run_id, "source_key": p, "found_at": now}
            for p in linked
            if known[p] not in already
        ]
        if rows:
            s.execute(insert(RecordSource), rows)
        _mark_fetched(s, run_id, linked)
    return len(linked)


def _mark_fetched(s: Session, run_id: int, pmids: list[str]) -> None:
    now = utcnow()
    for start, chunk in batches(pmids, 500):
        del start
        s.execute(
            update(SearchHit)
            .where(col(SearchHit.run_id) == run_id, col(SearchHit.pmid).in_(chunk))
            .values(fetched_at=now)
        )


def _unfetched(store: Store, run_id: int) -> list[str]:
    with store.read() as s:
        return list(
            s.exec(
                select(SearchHit.pmid)
                .where(SearchHit.run_id == run_id, col(SearchHit.fetched_at).is_(None))
                .order_by(col(SearchHit.position))
            ).all()
        )


def _records(bodies: list[bytes], wanted: set[str]) -> list[RecordData]:
    """The records of EFetch replies (read by the PubMed XML reader), only the PMIDs asked for,
    each once."""
    from reviewflow.acquire.readers.pubmed_xml import read_pubmed_xml

    out: list[RecordData] = []
    seen: set[str] = set()
    for body in bodies:
        fd, name = tempfile.mkstemp(prefix="reviewflow-efetch-", suffix=".xml")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            try:
                records = read_pubmed_xml(Path(name))
            except InputError as exc:
                raise NetworkError(
                    "PubMed efetch reply unreadable: " + exc.message.replace(name, "reply")
                ) from None
        finally:
            os.unlink(name)
        for rec in records:
            if rec.pmid in wanted and rec.pmid not in seen:
                seen.add(rec.pmid)
                rec.source_key = rec.pmid
                out.append(rec)
    return out


def _finish(
    store: Store, saved: SavedQuery, run_id: int, count: int, translation: str,
    missing: list[str], warnings: list[str], requests: int, resumed: bool, slices: int,
) -> SearchReport:  # fmt: skip
    with store.write() as s:
        run = s.get(SearchRun, run_id)
        assert run is not None
        hits = list(s.exec(select(SearchHit.pmid).where(SearchHit.run_id == run_id)).all())
        links = len(s.exec(select(RecordSource.id).where(RecordSource.run_id == run_id)).all())
        previous = s.exec(
            select(SearchRun.id)
            .where(SearchRun.kind == "search", SearchRun.source == SOURCE)
            .where(SearchRun.query_name == saved.name, SearchRun.status == "complete")
            .where(col(SearchRun.id) < run_id)
            .order_by(col(SearchRun.id).desc())
        ).first()
        before: set[str] = set()
        if previous is not None:
            before = set(s.exec(select(SearchHit.pmid).where(SearchHit.run_id == previous)).all())
            old_query = s.get(SearchRun, previous)
            if old_query is not None and old_query.query != saved.query:
                warnings = [*warnings, f"the query differs from run {previous}'s"]
        now_set = set(hits)
        if not missing:
            run.status = "complete"
            run.finished_at = utcnow()
        state = dict(run.state)
        state["missing"] = missing
        run.state = state
        s.add(run)
        added = run.records_added
        when = run.started_at
        if when.tzinfo is not None:  # stored naive UTC, or aware on some backends
            when = when.astimezone(UTC).replace(tzinfo=None)
        started = when.isoformat(timespec="seconds") + "Z"
    return SearchReport(
        run_id=run_id, query_name=saved.name, count=count, translation=translation,
        hits=len(now_set), new_hits=len(now_set - before), dropped_hits=len(before - now_set),
        previous_run_id=previous, started_at=started, records_added=added, already_in_review=links - added,
        fetched_requests=requests, resumed=resumed, slices=slices, missing=missing,
        warnings=warnings,
    )  # fmt: skip
