"""The store on both backends: pragmas, JSON round trips, transactions, constraints, locks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.errors import DatabaseError
from reviewflow.store import Store, open_store
from reviewflow.store.models import AuditEntry, Record, RecordSource
from tests.real_data import nsaids_records


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'r.sqlite'}", create=True)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_records_round_trip_with_provenance(store: Store) -> None:
    records = nsaids_records(50)
    with store.write() as s:
        run = start_run(s, kind="import", source="PubMed", file_name="nsaids.csv", count=50)
        summary = store_records(s, run, records)
    assert (summary.added, summary.already_in_review) == (50, 0)
    with store.read() as s:
        stored = s.exec(select(Record).order_by(Record.id)).all()
        sources = s.exec(select(RecordSource)).all()
    assert [r.pmid for r in stored] == [r.pmid for r in records]
    assert stored[3].title == records[3].title and stored[3].abstract == records[3].abstract
    assert stored[3].authors == records[3].authors  # JSON list survives both backends
    assert stored[0].extra == {"label_included": records[0].extra["label_included"]}
    assert {src.source_key for src in sources} == {r.source_key for r in records}


def test_rerun_of_same_source_links_known_pmids_instead_of_copying(store: Store) -> None:
    first, second = nsaids_records(30)[:20], nsaids_records(30)[10:]
    with store.write() as s:
        store_records(s, start_run(s, kind="search", source="PubMed"), first)
    with store.write() as s:
        again = store_records(
            s, start_run(s, kind="search", source="PubMed"), second, reuse_same_source=True
        )
    assert (again.added, again.already_in_review) == (10, 10)
    with store.write() as s:  # another database's export of the same papers: kept, dedup links them
        other = store_records(
            s, start_run(s, kind="import", source="Embase"), first, reuse_same_source=True
        )
    assert other.added == 20
    with store.read() as s:
        assert len(s.exec(select(Record)).all()) == 50


def test_a_failed_write_changes_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as s:
        store_records(s, start_run(s, kind="import", source="PubMed"), nsaids_records(5))
        raise RuntimeError("reader failed half-way")
    with store.read() as s:
        assert s.exec(select(Record)).all() == []


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(IntegrityError), store.write() as s:
        s.add(RecordSource(record_id=999, run_id=999))
        s.flush()


def test_audit_rows_keep_json_before_and_after(store: Store) -> None:
    from reviewflow.store.audit import audit

    with store.write() as s:
        audit(
            s,
            "reviewer1",
            "decision.set",
            "decision",
            1,
            {"decision": "maybe"},
            {"decision": "include"},
            record_id=7,
        )
    with store.read() as s:
        row = s.exec(select(AuditEntry)).one()
    assert (row.before, row.after, row.record_id) == (
        {"decision": "maybe"},
        {"decision": "include"},
        7,
    )
    assert row.at.tzinfo is not None


def test_a_second_writer_gets_a_clear_error_after_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.sqlite"
    open_store(f"sqlite:///{path}", create=True).dispose()
    monkeypatch.setenv("REVIEWFLOW_BUSY_TIMEOUT_MS", "200")
    store = open_store(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        with pytest.raises(DatabaseError, match="locked by another writer"), store.write() as s:
            s.execute(
                text(
                    "INSERT INTO reviewer (name, role, created_at) VALUES ('x', 'reviewer', '2026-01-01')"
                )
            )
        with store.read() as s:  # WAL: readers are not blocked by the writer
            assert s.exec(select(Record)).all() == []
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://u@h/db", "unknown database URL 'mysql://u@h/db'"),
        ("not a url", "cannot read database URL"),
        ("postgresql://u:secret@127.0.0.1:1/x", "postgresql://u:***@127.0.0.1:1/x"),
    ],
)
def test_bad_database_urls_are_one_clear_line(url: str, message: str) -> None:
    with pytest.raises(DatabaseError) as err:
        open_store(url)
    assert message in str(err.value)
    assert "secret" not in str(err.value) and "\n" not in str(err.value)


def test_missing_sqlite_file_is_not_created_silently(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no database at .*run 'reviewflow init'"):
        open_store(f"sqlite:///{tmp_path / 'absent.sqlite'}")
    assert not (tmp_path / "absent.sqlite").exists()
