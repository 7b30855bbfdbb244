"""Putting records into the review: one run, its records and their provenance.

:func:`import_file` brings in one file (``reviewflow import``); :func:`store_records` stores
records for a run in the caller's transaction (imports and searches alike).

Every record found becomes a row, duplicates across sources included (dedup links them later, so
PRISMA can count "records identified" and "duplicates removed" honestly). The one exception is a
record a *re-run of the same source's search* finds again (a living review): it gets a
provenance row for the new run, not a second copy.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Dialect, Table
from sqlmodel import Session, col, select

from reviewflow.acquire.readers import detect_format, read_file
from reviewflow.acquire.readers._common import file_sha256
from reviewflow.acquire.readers.worker import PubmedXmlInWorker, start_workers
from reviewflow.acquire.strategy import SavedQuery
from reviewflow.errors import InputError
from reviewflow.records import FIELD_NAMES, JSON_FIELDS, RecordData, encode
from reviewflow.store import Store
from reviewflow.store.models import Record, RecordSource, SearchRun, utcnow
from reviewflow.text import plural

_PUBMED_FORMATS = ("pubmed-xml", "medline")

RECORD_COLUMNS = (
    "title", "abstract", "authors", "year", "journal", "journal_abbrev", "volume", "issue",
    "pages", "doi", "pmid", "pmcid", "issn", "language", "publication_types", "mesh_terms",
    "keywords", "vernacular_title", "comments_corrections", "record_type", "url", "extra",
)  # fmt: skip
# an encoded record's values in RECORD_COLUMNS order, and where its source key is
_STORED = operator.itemgetter(*(FIELD_NAMES.index(c) for c in RECORD_COLUMNS))
_SOURCE_KEY = FIELD_NAMES.index("source_key")


@dataclass(frozen=True)
class FileImport:
    """What importing one file did."""

    file: str
    format: str
    source: str
    records: int
    added: int
    run_id: int
    warnings: tuple[str, ...] = ()


def doi_warnings(path: Path, records: list[RecordData]) -> tuple[str, ...]:
    """One line for the records whose DOI field holds no DOI (kept as given in extra)."""
    bad = [(i, r.extra["doi_as_given"]) for i, r in enumerate(records, 1)
           if r.extra.get("doi_as_given")]  # fmt: skip
    if not bad:
        return ()
    shown = ", ".join(f"record {i} {doi[:40]!r}" for i, doi in bad[:3])
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    return (
        f"{path.name}: {plural(len(bad), 'record')} with a DOI field that holds no DOI "
        f"({shown}{more}): stored without a DOI, the text kept as doi_as_given",
    )


def import_file(
    store: Store,
    path: Path,
    *,
    source: str | None = None,
    format: str | None = None,
    mapping: Mapping[str, str] | None = None,
    encoding: str = "utf-8-sig",
    method: str = "database",
    again: bool = False,
    strategy: SavedQuery | None = None,
    searched_on: str = "",
    workers: PubmedXmlInWorker | None = None,
) -> FileImport:
    """Store all the records of ``path`` in one transaction (or none of them).

    ``strategy`` (the search as run on the database the file was exported from) and
    ``searched_on`` (the day it was run, YYYY-MM-DD) go into the run log for PRISMA-S; the
    strategy's ``database`` names the source when ``source`` is not given.

    A small file is read completely, then stored. A big PubMed XML file is parsed in worker
    processes (:func:`~reviewflow.acquire.readers.worker.start_workers`; or give ``workers``
    already started on it) while this process stores the chunks they send, all in the one write
    transaction, which an error at any record rolls back. The transaction opens when the first
    chunk is there, so the database is locked for less of the parse.
    """
    kind = format or detect_format(path)
    named = strategy.database if strategy else ""
    named = "PubMed" if named.lower() == "pubmed" else named  # as a search names it
    name = source or named or ("PubMed" if kind in _PUBMED_FORMATS else path.stem)
    if workers is None and not mapping:
        workers = start_workers(path, kind)
    if workers is None:
        records = read_file(path, kind, mapping=mapping, encoding=encoding)
        warnings = doi_warnings(path, records)
        chunks: Iterable[list[tuple[Any, ...]]] = [[encode(r) for r in records]]
    else:
        chunks, warnings = workers.encoded(), ()
    try:
        digest = workers.sha256() if workers else file_sha256(path)
        chunk_iter = iter(chunks)
        first = next(chunk_iter, [])
        with store.write() as session:
            earlier = _earlier_import(session, path, digest, again)
            run_id = start_run(
                session,
                kind="import",
                method=method,
                source=name,
                file_name=path.name,
                file_sha256=digest,
                count=0,
                status="complete",
                searched_on=searched_on,
                notes="; ".join(
                    n for n in (f"format {kind}", strategy and strategy.notes, earlier) if n
                ),
                **_strategy_fields(strategy),
            )
            count = added = 0
            for chunk in itertools.chain([first], chunk_iter):
                added += store_encoded(session, run_id, chunk).added
                count += len(chunk)
            run = session.get(SearchRun, run_id)
            assert run is not None
            run.count, run.finished_at = count, utcnow()
            session.add(run)
    finally:
        if workers is not None:
            workers.close()
    return FileImport(str(path), kind, name, count, added, run_id, warnings)


def _strategy_fields(strategy: SavedQuery | None) -> dict[str, str]:
    if strategy is None:
        return {}
    return {
        "query_name": strategy.name,
        "query": strategy.query,
        "date_from": strategy.mindate,
        "date_to": strategy.maxdate,
    }


def _earlier_import(session: Session, path: Path, digest: str, again: bool) -> str:
    """A file imported before (the same SHA-256, whatever its name) is refused, or with
    ``again`` imported a second time: the run's note says so (its records are then identified
    twice in PRISMA, and dedup links the copies as duplicates)."""
    earlier = session.exec(
        select(SearchRun)
        .where(SearchRun.kind == "import", SearchRun.file_sha256 == digest)
        .order_by(col(SearchRun.id))
    ).first()
    if earlier is None:
        return ""
    if again:
        return f"the same file as run {earlier.id} ({earlier.file_name}), imported again"
    when = f"{earlier.started_at:%Y-%m-%d %H:%M}" if earlier.started_at else "earlier"
    raise InputError(
        f"{path.name}: already imported (run {earlier.id}, {earlier.file_name}, {when}); "
        "pass --again to import it a second time (its records then count twice until dedup "
        "links them)"
    )


@dataclass(frozen=True)
class StoreSummary:
    run_id: int
    added: int  # new records
    already_in_review: int  # found again by a re-run of the same source (provenance only)


def start_run(session: Session, **fields: object) -> int:
    """Create a search/import run (fields as in :class:`SearchRun`) and return its id."""
    run = SearchRun(**fields)  # type: ignore[arg-type]
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def existing_pmids(
    session: Session, source: str, among: Collection[str] | None = None
) -> dict[str, int]:
    """PMID → record id for the records earlier runs of ``source`` found (only the PMIDs
    ``among``, when given: a batch of a search need not read every PMID of a living review)."""
    query = (
        select(Record.pmid, Record.id)
        .join(RecordSource, col(RecordSource.record_id) == col(Record.id))
        .join(SearchRun, col(SearchRun.id) == col(RecordSource.run_id))
        .where(SearchRun.source == source, Record.pmid != "")
    )
    if among is None:
        return {pmid: rid for pmid, rid in session.execute(query)}
    wanted = sorted({p for p in among if p})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(query.where(col(Record.pmid).in_(chunk)))
        found.update({pmid: rid for pmid, rid in rows})
    return found


def _insert_records(session: Session, rows: list[tuple[Any, ...]], now: datetime) -> list[int]:
    """Insert encoded records (:func:`reviewflow.records.encode`) with one prepared INSERT for
    them all; their ids, in order.

    (SQLAlchemy's bulk INSERT … RETURNING builds statements of 1,000 rows, which psycopg then
    scans placeholder by placeholder: 4× slower on PostgreSQL; on SQLite it runs a statement
    per row.) On PostgreSQL, psycopg's ``executemany(returning=True)`` pipelines the rows and
    gives each new id in order. On SQLite the ids are read back: under the write transaction's
    lock (BEGIN IMMEDIATE) nobody else inserts, and SQLite gives new rows increasing ids, so
    the ids above the previous maximum are this batch's, in order.
    """
    conn = session.connection()
    table = Record.__table__  # type: ignore[attr-defined]
    names = [*RECORD_COLUMNS, "created_at"]
    stamp = _bound(conn.dialect, table, "created_at", now)
    params = [(*_STORED(row), stamp) for row in rows]
    columns = ", ".join(names)
    if conn.dialect.name != "sqlite":
        marks = ", ".join("%s::json" if n in JSON_FIELDS else "%s" for n in names)
        with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            sql = f"INSERT INTO record ({columns}) VALUES ({marks}) RETURNING id"
            cursor.executemany(sql, params, returning=True)
            ids = [cursor.fetchone()[0]]
            while cursor.nextset():
                ids.append(cursor.fetchone()[0])
            return ids
    before = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM record").scalar() or 0
    marks = ", ".join("?" for _ in names)
    conn.exec_driver_sql(f"INSERT INTO record ({columns}) VALUES ({marks})", params)
    ids = [
        i
        for (i,) in conn.exec_driver_sql(
            "SELECT id FROM record WHERE id > ? ORDER BY id", (before,)
        )
    ]
    if len(ids) != len(rows):  # cannot happen under the write lock; never guess ids
        raise RuntimeError(f"inserted {len(rows)} records but found {len(ids)} new ids")
    return ids


def _insert_sources(session: Session, links: list[tuple[int, int, str]], now: datetime) -> None:
    """Insert (record_id, run_id, source_key) provenance rows found at ``now``."""
    conn = session.connection()
    found_at = _bound(conn.dialect, RecordSource.__table__, "found_at", now)  # type: ignore[attr-defined]
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    conn.exec_driver_sql(
        "INSERT INTO record_source (record_id, run_id, source_key, found_at) "
        f"VALUES ({mark}, {mark}, {mark}, {mark})",
        [(*link, found_at) for link in links],
    )


def _bound(dialect: Dialect, table: Table, name: str, value: object) -> object:
    process = table.c[name].type.bind_processor(dialect)
    return process(value) if process else value


def store_records(
    session: Session,
    run_id: int,
    records: Sequence[RecordData],
    *,
    reuse_same_source: bool = False,
) -> StoreSummary:
    """Insert ``records`` for run ``run_id`` in the caller's transaction.

    With ``reuse_same_source`` (a re-run of a saved search), a PMID that an earlier run of the
    same source already brought in is linked, not copied.
    """
    run = session.get(SearchRun, run_id)
    assert run is not None
    known = (
        existing_pmids(session, run.source, [r.pmid for r in records]) if reuse_same_source else {}
    )
    new: list[RecordData] = []
    links: list[tuple[int, int, str]] = []
    seen_in_batch: set[str] = set()
    for rec in records:
        if rec.pmid and rec.pmid in known:
            links.append((known[rec.pmid], run_id, rec.source_key))
        elif reuse_same_source and rec.pmid and rec.pmid in seen_in_batch:
            continue  # the same PMID twice in one fetch
        else:
            seen_in_batch.add(rec.pmid)
            new.append(rec)
    return _store(session, run, [encode(r) for r in new], links)


def store_encoded(session: Session, run_id: int, rows: Sequence[tuple[Any, ...]]) -> StoreSummary:
    """Insert records given encoded (:func:`reviewflow.records.encode`, as worker processes
    send them) for run ``run_id`` in the caller's transaction; every one is new."""
    run = session.get(SearchRun, run_id)
    assert run is not None
    return _store(session, run, rows, [])


def _store(
    session: Session,
    run: SearchRun,
    rows: Sequence[tuple[Any, ...]],
    links: list[tuple[int, int, str]],
) -> StoreSummary:
    """Insert the encoded records ``rows`` and the provenance rows: ``links`` (records already
    in the review, found again), then theirs."""
    assert run.id is not None
    now = utcnow()
    if rows:
        ids = _insert_records(session, list(rows), now)
        found = [(rid, run.id, row[_SOURCE_KEY]) for rid, row in zip(ids, rows, strict=True)]
        links = [*links, *found]
    if links:
        _insert_sources(session, links, now)
    run.records_added = (run.records_added or 0) + len(rows)
    session.add(run)
    session.flush()
    return StoreSummary(run.id, len(rows), len(links) - len(rows))
