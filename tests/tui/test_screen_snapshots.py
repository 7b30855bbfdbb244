"""SVG snapshots of the screening and reconciliation screens (pytest-textual-snapshot).

Update after a deliberate change with ``pytest tests/tui --snapshot-update`` and look at the
SVGs before committing them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerState

from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.store import Store, open_store
from reviewflow.store.reviewers import sync_reviewers
from reviewflow.tui.reconcile_app import ReconcileApp, ReconcileSetup
from reviewflow.tui.screen_app import ScreenApp, ScreeningSetup
from reviewflow.workspace import ReviewConfig, ReviewerConfig
from tests.screening.helpers import add_records, nsaids_records, structured_records

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT
SIZE = (120, 40)
PEOPLE = [ReviewerConfig("reviewer1"), ReviewerConfig("reviewer2"),
          ReviewerConfig("adjudicator", "adjudicator")]  # fmt: skip


@pytest.fixture
def snap_store(tmp_path: Path) -> Iterator[tuple[Store, list[int]]]:
    store = open_store(f"sqlite:///{tmp_path / 'snap.sqlite'}", create=True)
    sync_reviewers(store, ReviewConfig("Snapshots", reviewers=PEOPLE))
    ids = add_records(store, structured_records() + nsaids_records(20))
    yield store, ids
    store.dispose()


async def settle(pilot: Pilot[None]) -> None:
    for attempt in range(10):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers)
        if attempt >= 2 and not busy:
            break


def screening(store: Store, stage: str = TA) -> ScreenApp:
    return ScreenApp(
        ScreeningSetup(store, "reviewer1", stage, review_title="Long-term PPI safety",
                       highlight_include=("proton pump inhibitor*", "meta-analys*", "PPI*"),
                       highlight_exclude=("narrative review", "rats"))
    )  # fmt: skip


def test_snapshot_structured_abstract_with_highlights(
    snap_compare: Callable[..., bool], snap_store: tuple[Store, list[int]]
) -> None:
    store, _ids = snap_store
    assert snap_compare(screening(store), terminal_size=SIZE, run_before=settle)


def test_snapshot_full_text_exclusion_reasons(
    snap_compare: Callable[..., bool], snap_store: tuple[Store, list[int]]
) -> None:
    store, ids = snap_store
    for who in ("reviewer1", "reviewer2"):
        core.decide(store, who, ids[1], TA, "include")

    async def open_reasons(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(screening(store, FT), terminal_size=SIZE, run_before=open_reasons)


def test_snapshot_reconciliation_side_by_side(
    snap_compare: Callable[..., bool], snap_store: tuple[Store, list[int]]
) -> None:
    store, ids = snap_store
    core.decide(store, "reviewer1", ids[2], TA, "include", note="QoL is our outcome")
    core.decide(store, "reviewer2", ids[2], TA, "maybe", note="no NSAID comparison?")
    core.decide(store, "reviewer1", ids[3], TA, "exclude")
    core.decide(store, "reviewer2", ids[3], TA, "include")
    app = ReconcileApp(ReconcileSetup(store, ("adjudicator",), TA, review_title="NSAIDs"))
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
