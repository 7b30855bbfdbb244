"""Building a review with real records for the screening tests (no fixtures: also used by the
subprocesses of the concurrency and kill tests, and by the benchmark)."""

from __future__ import annotations

from pathlib import Path

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.acquire.readers import read_file
from reviewflow.records import RecordData
from reviewflow.store import Store
from tests.real_data import nsaids_records

DATA = Path(__file__).parents[1] / "data"
STRUCTURED = [DATA / "pubmed" / "metapub" / f"{pmid}.xml" for pmid in ("35830032", "33856845")]


def structured_records() -> list[RecordData]:
    """Two real PubMed XML records with structured abstracts, MeSH terms and publication types."""
    return [rec for path in STRUCTURED for rec in read_file(path)]


def add_records(store: Store, records: list[RecordData], source: str = "PubMed") -> list[int]:
    """Import ``records`` as one run; returns their record ids in order."""
    from sqlmodel import col, select

    from reviewflow.store.models import Record, RecordSource

    with store.write() as s:
        run = start_run(s, kind="import", source=source, file_name="test", count=len(records))
        store_records(s, run, records)
        ids = s.exec(
            select(RecordSource.record_id)
            .where(RecordSource.run_id == run)
            .order_by(col(RecordSource.record_id))
        ).all()
        assert len(ids) == len(records)
        assert s.get(Record, ids[0]) is not None
    return list(ids)


__all__ = ["add_records", "nsaids_records", "structured_records"]
