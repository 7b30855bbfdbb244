"""SQL pieces that differ between the backends, run on both."""

from __future__ import annotations

from sqlmodel import col, func, select

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.records import RecordData
from reviewflow.store import Store
from reviewflow.store.models import Record
from reviewflow.store.sql import id_in


def test_id_in_takes_more_ids_than_a_statement_takes_parameters(store: Store) -> None:
    """40,000 ids: more than SQLite's 32,766 parameters per statement allow as an IN list."""
    with store.write() as s:
        run = start_run(s, kind="import", method="database", source="test")
        store_records(s, run, [RecordData(title=f"record {i}") for i in range(40_000)])
    with store.read() as s:
        ids = list(s.exec(select(Record.id).order_by(col(Record.id))).all())
        assert len(ids) == 40_000

        def count(wanted: list[int]) -> int:
            where = id_in(col(Record.id), wanted, sqlite=store.is_sqlite)
            return s.exec(select(func.count()).select_from(Record).where(where)).one()

        assert count(ids) == 40_000
        assert count(ids[::2]) == 20_000
        assert count([ids[7], ids[7], -1]) == 1  # repeats and unknown ids
        assert count([]) == 0
        titles = s.exec(
            select(Record.title)
            .where(id_in(col(Record.id), ids[-3:], sqlite=store.is_sqlite))
            .order_by(col(Record.id))
        ).all()
        assert titles == ["record 39997", "record 39998", "record 39999"]
