"""Labels (t), the optional title/abstract reason and the full-text "Other…" reason, driven by keys
in the screening and reconciliation apps, asserting on the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import col, select
from textual.widgets import Input

from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.store import Store, open_store
from reviewflow.store.models import AuditEntry, Decision, Resolution, Reviewer
from reviewflow.tui.reconcile_app import ReconcileApp, ReconcileSetup
from reviewflow.tui.screen_app import ScreenApp, ScreeningSetup
from reviewflow.workspace import Workspace
from tests.screening.helpers import add_records, nsaids_records
from tests.tui.test_reconcile_app import plain
from tests.tui.test_screen_app import settle, shown_id

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT
SIZE = (120, 40)
TA_REASONS = ("Animal study", "Not about NSAIDs")


@pytest.fixture
def review(workspace: Workspace) -> Iterator[tuple[Store, list[int]]]:
    store = open_store(workspace.database_url())
    ids = add_records(store, nsaids_records(12))
    yield store, ids
    store.dispose()


def app_for(store: Store, stage: str = TA, reviewer: str = "reviewer1") -> ScreenApp:
    rules = core.ScreeningRules(title_abstract_reasons=TA_REASONS, suggested_labels=("pediatric",))
    return ScreenApp(ScreeningSetup(store, reviewer, stage, rules=rules))


def mine(store: Store, stage: str = TA) -> dict[int, tuple[str, str, list[str]]]:
    with store.read() as s:
        me = s.exec(select(Reviewer.id).where(Reviewer.name == "reviewer1")).one()
        rows = s.exec(select(Decision).where(Decision.reviewer_id == me, Decision.stage == stage))
        return {d.record_id: (d.decision, d.reason, list(d.labels)) for d in rows}


def mine_line(app: ScreenApp) -> str:
    return str(app.screening.query_one("#mine").render())


async def test_title_abstract_reason_is_picked_or_skipped(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    app = app_for(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert type(app.screen).__name__ == "ChoicePrompt"
        await pilot.press("escape")  # no reason picked, no decision either
        await settle(pilot)
        assert mine(store) == {}
        await pilot.press("e", "2")
        await settle(pilot)
        await pilot.press("e", "3")  # the last choice: no reason
        await settle(pilot)
        await pilot.press("i")  # an inclusion asks nothing
        await settle(pilot)
    assert mine(store) == {
        ids[0]: ("exclude", "Not about NSAIDs", []),
        ids[1]: ("exclude", "", []),
        ids[2]: ("include", "", []),
    }


async def test_full_text_other_reason_in_own_words(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    for who in ("reviewer1", "reviewer2"):
        core.decide(store, who, ids[0], TA, "include")
        core.decide(store, who, ids[1], TA, "include")
    other = len(core.ScreeningRules().exclusion_reasons) + 1  # the choice after the list
    app = app_for(store, FT)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e", str(other), "enter")  # no words: refused, nothing saved
        await settle(pilot)
        assert mine(store, FT) == {}
        await pilot.press("e", str(other), *"conference abstract only", "enter")
        await settle(pilot)
        assert mine(store, FT) == {ids[0]: ("exclude", "Other: conference abstract only", [])}
        await pilot.press("left")
        await settle(pilot)
        assert "EXCLUDE — Other: conference abstract only" in mine_line(app)


async def test_labels_wait_for_the_decision_are_suggested_and_undone(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    app = app_for(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"dose, pe")
        await pilot.pause()
        await pilot.press("right")  # takes the suggestion from review.toml's list
        assert app.screen.query_one(Input).value == "dose, pediatric"
        await pilot.press("enter")
        await settle(pilot)
        assert mine(store) == {}  # not decided: the labels wait for the decision
        assert "Labels: dose, pediatric (saved with your decision)" in mine_line(app)
        await pilot.press("i")
        await settle(pilot)
        assert mine(store) == {ids[0]: ("include", "", ["dose", "pediatric"])}
        assert shown_id(app) == ids[1]
        await pilot.press("t")
        await settle(pilot)
        assert app.screen.query_one(Input).value == ""  # ids[0]'s labels are not ids[1]'s
        await pilot.press("escape", "left")
        await settle(pilot)
        assert shown_id(app) == ids[0]
        await pilot.press("t")
        await settle(pilot)
        assert app.screen.query_one(Input).value == "dose, pediatric"
        await pilot.press("end")  # the text is selected on opening: typing replaces it
        for _ in range(len(", pediatric")):
            await pilot.press("backspace")
        await pilot.press("enter")
        await settle(pilot)
        assert mine(store)[ids[0]] == ("include", "", ["dose"])
        assert "Your decision: INCLUDE   Labels: dose" in mine_line(app)
        await pilot.press("u")  # my last change was the labels: they come back
        await settle(pilot)
        assert mine(store)[ids[0]] == ("include", "", ["dose", "pediatric"])
    with store.read() as s:
        log = s.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
    assert list(log) == [
        "decision.draft_labels", "decision.set", "decision.labels", "decision.undo",
    ]  # fmt: skip
    # a new session: my labels are suggested (mine first, then review.toml's)
    app = app_for(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_id(app) == ids[1]
        await pilot.press("t")
        await settle(pilot)
        assert "Suggested: dose, pediatric" in str(app.screen.query_one(".hint").render())
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("right", "enter")
        await settle(pilot)
    assert core.my_labels(store, "reviewer1", TA) == {
        ids[0]: ["dose", "pediatric"],
        ids[1]: ["dose"],
    }


async def test_reconciliation_shows_both_reasons_and_labels_and_takes_other(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    rid = ids[0]
    for who in ("reviewer1", "reviewer2"):
        core.decide(store, who, rid, TA, "include")
    core.decide(store, "reviewer1", rid, FT, "include")
    core.set_labels(store, "reviewer1", rid, FT, ["single centre"])
    core.decide(store, "reviewer2", rid, FT, "exclude", "Other: abstract only")
    core.set_labels(store, "reviewer2", rid, FT, ["ask the author"])
    other = len(core.ScreeningRules().exclusion_reasons) + 1
    app = ReconcileApp(ReconcileSetup(store, ("adjudicator",), FT))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sides = plain(app.screen.query_one("#sides"))
        for shown in ("Other: abstract only", "single centre", "ask the author"):
            assert shown in sides, shown
        await pilot.press("e", str(other), *"conference abstract, no data", "enter")
        await settle(pilot)
    with store.read() as s:
        res = s.exec(select(Resolution)).one()
    assert (res.decision, res.reason) == ("exclude", "Other: conference abstract, no data")
