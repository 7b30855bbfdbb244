"""Putting records into the review: one run, its records and their provenance.

Every record found becomes a row, duplicates across sources included (dedup links them later, so
PRISMA can count "records identified" and "duplicates removed" honestly). The one exception is a
record a *re-run of the same source's search* finds again (a living review): it gets a
provenance row for the new run, not a second copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, col, select

from reviewflow.records import RecordData
from reviewflow.store.models import Record, RecordSource, SearchRun, utcnow

RECORD_COLUMNS = (
    "title", "abstract", "authors", "year", "journal", "journal_abbrev", "volume", "issue",
    "pages", "doi", "pmid", "pmcid", "issn", "language", "publication_types", "mesh_terms",
    "keywords", "vernacular_title", "comments_corrections", "record_type", "url", "extra",
)  # fmt: skip


@dataclass(frozen=True)
class StoreSummary:
    run_id: int
    added: int  # new records
    already_in_review: int  # found again by a re-run of the same source (provenance only)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def start_run(session: Session, **fields: object) -> int:
    """Create a search/import run (fields as in :class:`SearchRun`) and return its id."""
    run = SearchRun(**fields)  # type: ignore[arg-type]
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def existing_pmids(session: Session, source: str) -> dict[str, int]:
    """PMID → record id for the records earlier runs of ``source`` found."""
    rows = session.execute(
        select(Record.pmid, Record.id)
        .join(RecordSource, col(RecordSource.record_id) == col(Record.id))
        .join(SearchRun, col(SearchRun.id) == col(RecordSource.run_id))
        .where(SearchRun.source == source, Record.pmid != "")
    )
    return {pmid: rid for pmid, rid in rows}


def _insert_records(session: Session, records: list[RecordData], now: datetime) -> list[int]:
    """Insert records, returning their ids in order.

    On PostgreSQL, INSERT … RETURNING in batches. On SQLite that form runs one statement per
    row, so there the rows go in one ``executemany`` (values converted by the columns' own
    SQLAlchemy types) and the ids are read back: under the write transaction's lock (BEGIN
    IMMEDIATE) nobody else inserts, and SQLite gives new rows increasing ids, so the ids above
    the previous maximum are this batch's, in order.
    """
    rows = [{c: getattr(r, c) for c in RECORD_COLUMNS} | {"created_at": now} for r in records]
    if session.get_bind().dialect.name != "sqlite":
        stmt = insert(Record).returning(col(Record.id), sort_by_parameter_order=True)
        return list(session.execute(stmt, rows).scalars().all())
    conn = session.connection()
    dialect = conn.dialect
    table = Record.__table__  # type: ignore[attr-defined]
    names = [*RECORD_COLUMNS, "created_at"]
    convert = [table.c[n].type.bind_processor(dialect) for n in names]
    params = [
        tuple(f(row[n]) if f else row[n] for n, f in zip(names, convert, strict=True))
        for row in rows
    ]
    before = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM record").scalar() or 0
    placeholders = ", ".join("?" for _ in names)
    conn.exec_driver_sql(f"INSERT INTO record ({', '.join(names)}) VALUES ({placeholders})", params)
    ids = [
        i
        for (i,) in conn.exec_driver_sql(
            "SELECT id FROM record WHERE id > ? ORDER BY id", (before,)
        )
    ]
    if len(ids) != len(rows):  # cannot happen under the write lock; never guess ids
        raise RuntimeError(f"inserted {len(rows)} records but found {len(ids)} new ids")
    return ids


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
    known = existing_pmids(session, run.source) if reuse_same_source else {}
    new: list[RecordData] = []
    links: list[dict[str, object]] = []
    seen_in_batch: set[str] = set()
    for rec in records:
        if rec.pmid and rec.pmid in known:
            links.append(
                {"record_id": known[rec.pmid], "run_id": run_id, "source_key": rec.source_key}
            )
        elif reuse_same_source and rec.pmid and rec.pmid in seen_in_batch:
            continue  # the same PMID twice in one fetch
        else:
            seen_in_batch.add(rec.pmid)
            new.append(rec)
    now = utcnow()
    if new:
        ids = _insert_records(session, new, now)
        links.extend(
            {"record_id": rid, "run_id": run_id, "source_key": r.source_key}
            for rid, r in zip(ids, new, strict=True)
        )
    if links:
        session.execute(insert(RecordSource), [link | {"found_at": now} for link in links])
    run.records_added = (run.records_added or 0) + len(new)
    session.add(run)
    session.flush()
    return StoreSummary(run_id, len(new), len(links) - len(new))
