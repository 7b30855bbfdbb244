"""The reconciliation app: conflicts side by side, resolutions by key, on the database."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rich.console import Console
from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import OptionList
from textual.worker import WorkerState

from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.store import Store, open_store
from reviewflow.store.models import AuditEntry, Resolution
from reviewflow.tui.reconcile_app import ReconcileApp, ReconcileSetup
from reviewflow.workspace import Workspace
from tests.screening.helpers import add_records, nsaids_records

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT
SIZE = (120, 40)


@pytest.fixture
def conflicted(workspace: Workspace) -> Iterator[tuple[Store, list[int]]]:
    """Ten real records: 0-3 in conflict at title/abstract (3 with notes), 4-9 agreed."""
    store = open_store(workspace.database_url())
    ids = add_records(store, nsaids_records(10))
    pairs = [("include", "exclude"), ("maybe", "include"), ("exclude", "maybe"),
             ("include", "exclude")] + [("include", "include")] * 3 + [("exclude", "exclude")] * 3  # fmt: skip
    for rid, (a, b) in zip(ids, pairs, strict=True):
        core.decide(store, "reviewer1", rid, TA, a, note="dose unclear" if rid == ids[3] else None)
        core.decide(
            store, "reviewer2", rid, TA, b, note="no control group" if rid == ids[3] else None
        )
    yield store, ids
    store.dispose()


async def settle(pilot: Pilot[None]) -> None:
    """Wait for every worker, for the messages they posted, and for workers those started."""
    for attempt in range(10):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers)
        if attempt >= 2 and not busy:  # a message posted from a thread may land a pause later
            break


def plain(widget: object) -> str:
    """The text a Static shows (a Rich table rendered to plain text)."""
    console = Console(width=100, file=io.StringIO(), record=True)
    console.print(widget.content)  # type: ignore[attr-defined]
    return console.export_text()


def resolutions(store: Store) -> dict[int, tuple[str, str, str]]:
    with store.read() as s:
        rows = s.exec(select(Resolution)).all()
    return {r.record_id: (r.decision, r.reason, r.resolved_by) for r in rows}


async def test_adjudicator_resolves_conflicts_with_a_reason(
    conflicted: tuple[Store, list[int]],
) -> None:
    store, ids = conflicted
    app = ReconcileApp(ReconcileSetup(store, ("adjudicator",), TA))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert [c.record_id for c in app.reconciling.items] == ids[:4]
        await pilot.press("down", "down", "down")
        await settle(pilot)
        sides = plain(app.screen.query_one("#sides"))
        assert "dose unclear" in sides and "no control group" in sides
        await pilot.press("e", *"no control group", "enter")
        await settle(pilot)
        assert resolutions(store) == {ids[3]: ("exclude", "no control group", "adjudicator")}
        assert [c.record_id for c in app.reconciling.items] == ids[:3]
        await pilot.press("home")
        await settle(pilot)
        assert app.screen.query_one("#conflicts", OptionList).highlighted == 0
        await pilot.press("i", "enter")  # an empty reason is refused
        await settle(pilot)
        assert len(resolutions(store)) == 1
        await pilot.press("i", *"population fits", "enter")
        await settle(pilot)
        assert resolutions(store)[ids[0]] == ("include", "population fits", "adjudicator")
        await pilot.press("a")  # show resolved ones too, to revise
        await settle(pilot)
        assert len(app.reconciling.items) == 4
    with store.read() as s:
        f = flow.review_flow(s, 2)
        log = s.exec(select(AuditEntry).where(AuditEntry.action == "resolution.set")).all()
    assert f.title_abstract.outcome[ids[0]] == "include" and len(log) == 2


async def test_reviewers_together_at_full_text_pick_a_listed_reason(
    conflicted: tuple[Store, list[int]],
) -> None:
    store, ids = conflicted
    reasons = core.ScreeningRules().exclusion_reasons
    rid = ids[4]  # agreed include at title/abstract
    core.decide(store, "reviewer1", rid, FT, "include")
    core.decide(store, "reviewer2", rid, FT, "exclude", reason=reasons[0])
    app = ReconcileApp(ReconcileSetup(store, ("reviewer1", "reviewer2"), FT))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert [c.record_id for c in app.reconciling.items] == [rid]
        assert reasons[0] in plain(app.screen.query_one("#sides"))
        await pilot.press("e", "2")
        await settle(pilot)
    assert resolutions(store) == {rid: ("exclude", reasons[1], "reviewer1 + reviewer2")}
    with store.read() as s:
        assert flow.review_flow(s, 2).full_text.exclusion_reason == {rid: reasons[1]}
