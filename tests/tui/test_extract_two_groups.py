"""The extraction TUI with a two-group outcome (Pilot): a heading per group, short labels under
it, values typed into the group fields reach the database, and events > total in a group shows
at that group's events field. Counts are dat.bcg's (tests/pooling/data/bcg.csv)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from sqlmodel import select
from textual.widgets import Input, Label, Static

from reviewflow.extraction.forms import Form, find_form
from reviewflow.extraction.studies import list_studies, sync_studies
from reviewflow.store import Store, open_store
from reviewflow.store.models import ExtractionValue
from reviewflow.tui.extract_app import ExtractApp
from reviewflow.workspace import Workspace
from tests.extraction.helpers import DATA, build_screened_review
from tests.tui.test_extract_app import SIZE, field, open_first_study, settle


@pytest.fixture
def review(sqlite_workspace: Workspace) -> Iterator[tuple[Store, Form]]:
    for old in sqlite_workspace.forms_dir.glob("*.toml"):
        old.unlink()
    shutil.copy(DATA / "extraction" / "two_groups.toml", sqlite_workspace.forms_dir)
    store = open_store(sqlite_workspace.database_url())
    build_screened_review(store)
    sync_studies(store, 2)
    assert list_studies(store, 2)
    yield store, find_form(sqlite_workspace.forms_dir)
    store.dispose()


async def test_two_group_outcome_shows_its_groups_and_saves_each_part(review) -> None:  # type: ignore[no-untyped-def]
    store, form = review
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)
        headings = [str(s.render()) for s in app.screen.query(".group").results(Static)]
        assert headings == ["Vaccinated", "Not vaccinated", "Specialist care", "Routine care"]
        labels = [
            str(field(app, f"outcome.tb.{p}").query_one(".field-label", Label).render())
            for p in ("events1", "total1", "events2", "total2")
        ]
        assert labels == ["Events (patients)", "Total (patients)"] * 2
        # dat.bcg, Aronson: 4 of 123 vaccinated, 11 of 139 not vaccinated; typed 139/11 first
        field(app, "outcome.tb.events1").query_one(Input).focus()
        await pilot.press(*"4", "tab", *"123", "tab", *"139", "tab", *"11", "tab")
        await settle(app)
        await pilot.pause()
        problem = field(app, "outcome.tb.events2").query_one(".field-problem", Static)
        assert str(problem.render()) == (
            "Tuberculosis, Not vaccinated: events (139) exceed total (11)"
        )
        field(app, "outcome.tb.events2").query_one(Input).focus()
        await pilot.press("end", *["backspace"] * 3, *"11", "tab")
        await pilot.press("end", *["backspace"] * 2, *"139", "tab")
        await settle(app)
        await pilot.pause()
        assert str(problem.render()) == ""
    with store.read() as s:
        rows = {r.field: r.value for r in s.exec(select(ExtractionValue)).all()}
    assert rows == {
        "outcome.tb.events1": "4",
        "outcome.tb.total1": "123",
        "outcome.tb.events2": "11",
        "outcome.tb.total2": "139",
    }
