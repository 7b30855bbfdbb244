"""SVG snapshots of the extraction screens (pytest-textual-snapshot).

Update after a deliberate change with ``pytest tests/tui/test_extract_snapshots.py
--snapshot-update`` and look at the SVGs before committing them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerState

from reviewflow.extraction.forms import Form, shipped_form
from reviewflow.extraction.studies import StudyInfo, list_studies, sync_studies
from reviewflow.extraction.values import mark_finished, save_value
from reviewflow.store import Store, open_store
from reviewflow.store.reviewers import sync_reviewers
from reviewflow.tui.extract_app import ExtractApp
from reviewflow.workspace import ReviewConfig, ReviewerConfig
from tests.extraction.helpers import build_screened_review, pritz_counts

SIZE = (130, 40)
PEOPLE = [ReviewerConfig("reviewer1"), ReviewerConfig("reviewer2"),
          ReviewerConfig("adjudicator", "adjudicator")]  # fmt: skip


@pytest.fixture
def snap_review(tmp_path: Path) -> Iterator[tuple[Store, Form, list[StudyInfo]]]:
    store = open_store(f"sqlite:///{tmp_path / 'snap.sqlite'}", create=True)
    sync_reviewers(store, ReviewConfig("Snapshots", reviewers=PEOPLE))
    build_screened_review(store)
    sync_studies(store, 2)
    form = shipped_form()
    studies = list_studies(store, 2)
    _, improved, treated = pritz_counts()[5]  # Awad et al.: 25 of 42
    for who, events in (("reviewer1", improved), ("reviewer2", improved - 2)):
        save_value(store, who, form, studies[0].id, "country", "USA")
        save_value(
            store, who, form, studies[0].id, "outcome.favourable_outcome.events", str(events)
        )
        save_value(
            store, who, form, studies[0].id, "outcome.favourable_outcome.total", str(treated)
        )
        save_value(store, who, form, studies[0].id, "design", "Retrospective")
        save_value(store, who, form, studies[0].id, "patients", str(treated))
        mark_finished(store, who, form, studies[0].id)
    # edited after finishing: the study stays finished, the invalid value is a discrepancy
    save_value(store, "reviewer1", form, studies[0].id, "patients", "42.0.")
    yield store, form, studies
    store.dispose()


async def settle(pilot: Pilot[None]) -> None:
    for attempt in range(10):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers)
        if attempt >= 2 and not busy:
            break


def test_snapshot_study_form_beside_the_report(
    snap_compare: Callable[..., bool], snap_review
) -> None:  # type: ignore[no-untyped-def]
    store, form, _ = snap_review

    async def open_study(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        for field in pilot.app.screen.query(Input):  # a blinking cursor made this flaky
            field.cursor_blink = False
        await pilot.pause()

    app = ExtractApp(store, form, reviewer="reviewer1")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_study)


def test_snapshot_consensus_view(snap_compare: Callable[..., bool], snap_review) -> None:  # type: ignore[no-untyped-def]
    store, form, _ = snap_review
    app = ExtractApp(store, form, reviewer="adjudicator", consensus_by="adjudicator")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
