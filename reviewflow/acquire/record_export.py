"""Writing the review's records out as CSV or RIS (``reviewflow export records``)."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rispy
from sqlmodel import col, select

from reviewflow.cells import safe_row
from reviewflow.store import Store
from reviewflow.store.models import DuplicateLink, Record, RecordSource, SearchRun

CSV_COLUMNS = (
    "record_id", "pmid", "doi", "title", "abstract", "authors", "year", "journal", "volume",
    "issue", "pages", "source", "pmcid", "issn", "language", "publication_types", "keywords",
    "record_type", "duplicate_of", "screening_status",
)  # fmt: skip
_RIS_TYPES = {"article": "JOUR", "book": "BOOK", "book-chapter": "CHAP", "conference": "CPAPER"}
_BATCH = 2000


@dataclass
class ExportedRecord:
    """One record as exported: the stored fields, its sources and its kept record (if a duplicate)."""

    record: Record
    sources: list[str]
    duplicate_of: int | None


def iter_records(store: Store, *, without_duplicates: bool = False) -> Iterator[ExportedRecord]:
    """Every record in id order with its sources; duplicates skipped on request."""
    with store.read() as session:
        sources: dict[int, list[str]] = defaultdict(list)
        rows = session.execute(
            select(RecordSource.record_id, SearchRun.source)
            .join(SearchRun, col(SearchRun.id) == col(RecordSource.run_id))
            .order_by(col(RecordSource.id))
        )
        for record_id, source in rows:
            if source not in sources[record_id]:
                sources[record_id].append(source)
        kept: dict[int, int] = {
            rid: kept_id
            for rid, kept_id in session.execute(
                select(DuplicateLink.record_id, DuplicateLink.kept_record_id).where(
                    col(DuplicateLink.undone_at).is_(None)
                )
            )
        }
        last = 0
        while True:
            batch = session.exec(
                select(Record).where(col(Record.id) > last).order_by(col(Record.id)).limit(_BATCH)
            ).all()
            if not batch:
                return
            for record in batch:
                assert record.id is not None
                last = record.id
                if without_duplicates and record.id in kept:
                    continue
                yield ExportedRecord(record, sources.get(record.id, []), kept.get(record.id))
            session.expunge_all()


def csv_row(item: ExportedRecord) -> dict[str, Any]:
    r = item.record
    return {
        "record_id": r.id,
        "pmid": r.pmid,
        "doi": r.doi,
        "title": r.title,
        "abstract": r.abstract,
        "authors": "; ".join(r.authors),
        "year": "" if r.year is None else r.year,
        "journal": r.journal,
        "volume": r.volume,
        "issue": r.issue,
        "pages": r.pages,
        "source": "; ".join(item.sources),
        "pmcid": r.pmcid,
        "issn": r.issn,
        "language": "; ".join(r.language),
        "publication_types": "; ".join(r.publication_types),
        "keywords": "; ".join(r.keywords),
        "record_type": r.record_type,
        "duplicate_of": "" if item.duplicate_of is None else item.duplicate_of,
    }


def ris_entry(item: ExportedRecord) -> dict[str, Any]:
    r = item.record
    entry: dict[str, Any] = {"type_of_reference": _RIS_TYPES.get(r.record_type, "GEN")}
    entry["id"] = str(r.id)
    fields = {
        "title": r.title,
        # one line: not every RIS reader takes continuation lines
        "abstract": " ".join(r.abstract.split()),
        "year": str(r.year) if r.year else "",
        "secondary_title": r.journal,
        "alternate_title2": r.journal_abbrev,
        "volume": r.volume,
        "number": r.issue,
        "doi": r.doi,
        "issn": r.issn,
        "language": "; ".join(r.language),
    }
    entry.update({k: v for k, v in fields.items() if v})
    if r.authors:
        entry["authors"] = list(r.authors)
    start, _, end = r.pages.partition("-")
    if start:
        entry["start_page"] = start
    if end:
        entry["end_page"] = end
    if r.pmid:
        entry["accession_number"] = r.pmid
        entry["name_of_database"] = "PubMed"
    if r.keywords:
        entry["keywords"] = list(r.keywords)
    notes = []
    if item.sources:
        notes.append("source: " + "; ".join(item.sources))
    if item.duplicate_of is not None:
        notes.append(f"duplicate of record {item.duplicate_of}")
    if notes:
        entry["notes"] = notes
    return entry


def export_records(
    store: Store,
    out: Path,
    fmt: str = "csv",
    *,
    without_duplicates: bool = False,
    reviewers_per_record: int = 2,
) -> int:
    """Write every record to ``out`` (CSV with :data:`CSV_COLUMNS`, or RIS); return the count.
    ``screening_status`` (:func:`~reviewflow.screening.flow.screening_status`) follows from
    every reviewer's decisions: in a protected review it is filled for the adjudicator only."""
    items = iter_records(store, without_duplicates=without_duplicates)
    from reviewflow.access.guard import may_see_unblinded
    from reviewflow.screening import flow

    status: dict[int, str] = {}
    if fmt == "csv" and may_see_unblinded(store):
        with store.read() as s:
            status = flow.screening_status(s, reviewers_per_record)
    count = 0
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        if fmt == "csv":
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            for item in items:
                row = csv_row(item) | {"screening_status": status.get(item.record.id or 0, "")}
                writer.writerow(safe_row(row))
                count += 1
        elif fmt == "ris":
            entries = []
            for item in items:
                entries.append(ris_entry(item))
                count += 1
            rispy.dump(entries, fh)
        else:
            raise ValueError(f"unknown export format {fmt!r}")
    tmp.replace(out)
    return count
