"""The manual queue pane: side by side, differing fields marked, decisions on the keypress."""

from __future__ import annotations

from sqlmodel import col, select

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.dedup import review
from reviewflow.records import RecordData
from reviewflow.store import Store
from reviewflow.store.models import AuditEntry, DuplicateCandidate
from reviewflow.tui.dedup_queue import DedupQueueApp, field_rows
from tests.dedup.helpers import labelled


def _queued_store(store: Store) -> None:
    with store.write() as s:
        run = start_run(s, kind="import", source="special", file_name="records_pre_merged.csv")
        store_records(s, run, labelled("special_cases"))
    review.run(store)


def test_field_rows_mark_differences() -> None:
    a = RecordData(title="Stroke care", year=2021, doi="10.1/a")
    b = RecordData(title="Stroke Care.", year=2022, doi="10.1/a")
    rows = {name: differs for name, _x, _y, differs in field_rows(a, b)}
    assert rows["Title"] is False and rows["Year"] is True and rows["DOI"] is False


async def test_keypress_commits_decision(store: Store) -> None:
    _queued_store(store)
    app = DedupQueueApp(store, "alice")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        assert "Pair 1 of 1" in str(app.query_one("#status").render())
        await pilot.press("n")
        await pilot.pause()
        with store.read() as s:
            candidate = s.exec(select(DuplicateCandidate)).one()
            assert (candidate.status, candidate.decided_by) == ("distinct", "alice")
        await pilot.press("u")  # reopen
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
    with store.read() as s:
        assert s.exec(select(DuplicateCandidate)).one().status == "duplicate"
        assert review.duplicates_removed(s) == 4
        actions = s.exec(
            select(AuditEntry.action)
            .where(AuditEntry.actor == "alice")
            .order_by(col(AuditEntry.id))
        ).all()
        assert actions == ["dedup.distinct", "dedup.maybe", "dedup.merge", "dedup.duplicate"]
