"""``reviewflow screen --order relevance``: the background model learns from this reviewer's
decisions only, the queue shows the most relevant undecided record next, `o` switches back."""

from __future__ import annotations

import pytest

from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.store import Store
from reviewflow.tui.screen_app import ScreenApp, ScreeningSetup
from tests.screening.spy import record_fits
from tests.tui.test_screen_app import SIZE, review, settle, shown_id

__all__ = ["review"]  # the fixture, shared with test_screen_app

TA = flow.TITLE_ABSTRACT


async def test_relevance_order_learns_from_my_decisions_only(
    review: tuple[Store, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, ids = review
    for rid in ids[10:20]:  # the other reviewer's decisions, before and during my session
        core.decide(store, "reviewer2", rid, TA, "include")
    given = record_fits(monkeypatch)
    app = ScreenApp(ScreeningSetup(store, "reviewer1", TA, order="relevance"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screening
        assert shown_id(app) == ids[0]  # no decision yet: record order
        await pilot.press("i")
        await settle(pilot)
        core.decide(store, "reviewer2", ids[1], TA, "exclude")
        assert shown_id(app) == ids[1]
        await pilot.press("e")
        await settle(pilot)
        ranking = screen.ranking
        assert ranking is not None and ranking.trained_on == 2
        assert ranking.order[:2] == [ids[0], ids[1]]
        # the key moved on in the order it had (no model yet); the new order does not pull the
        # record away from under the reviewer, the next key uses it
        assert shown_id(app) == ids[2]
        await pilot.press("e")
        await settle(pilot)
        top = next(r for r in ranking.order if r not in ids[:3])
        assert shown_id(app) == top  # the most relevant undecided record by the last model
        ranking = screen.ranking
        assert ranking is not None and ranking.trained_on == 3
        assert screen.relevance is not None
        for labels in given:  # every training set: my decisions, never reviewer2's
            trained = {screen.relevance.ids[i]: v for i, v in labels.items()}
            mine = {ids[0]: True, ids[1]: False, ids[2]: False}
            assert trained == {r: mine[r] for r in ids[: len(trained)]}
        assert len(given[-1]) == 3
        assert "1 includes found" in str(screen.query_one("#counts").render())
        await pilot.press("o")  # back to import order: the record stays, space goes on from it
        await settle(pilot)
        assert screen.order == "import" and screen.ranking is None
        assert shown_id(app) == top
        await pilot.press("space")  # the next undecided after it, in record order
        await settle(pilot)
        assert shown_id(app) == next(r for r in ids if r > top and r not in ids[10:20])
        await pilot.press("o")  # relevance again: the new order's most relevant record is shown
        await settle(pilot)
        ranking = screen.ranking
        assert ranking is not None and screen.order == "relevance"
        decided = {ids[0], ids[1], ids[2]}
        assert shown_id(app) == next(r for r in ranking.order if r not in decided)


async def test_while_sampling_only_the_samples_next_record_is_decided(
    review: tuple[Store, list[int]],
) -> None:
    """Once the stopping rule samples at random, a record the reviewer picks is no random draw:
    deciding off the sample's order, and leaving the order, are refused in one line."""
    store, ids = review
    core.decide(store, "reviewer1", ids[0], TA, "include")
    for rid in ids[1:11]:  # 10 excludes in a row (the patience for ~40 records): sampling
        core.decide(store, "reviewer1", rid, TA, "exclude")
    app = ScreenApp(ScreeningSetup(store, "reviewer1", TA, order="relevance"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screening
        ranking = screen.ranking
        assert ranking is not None and ranking.stopping.sampling
        drawn = shown_id(app)
        assert drawn == ranking.order[11]  # the sample's first record
        await pilot.press("right")  # look at another record: allowed ...
        await settle(pilot)
        other = shown_id(app)
        assert other != drawn
        await pilot.press("e")  # ... deciding it is not
        await settle(pilot)
        await pilot.press("left", "left")  # nor revising a decision made before
        await settle(pilot)
        revised = shown_id(app)
        assert revised == ids[10]
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("o")  # nor leaving the sample's order
        await settle(pilot)
        assert screen.order == "relevance"
        said = [n.message for n in app._notifications]
        assert len(said) == 3 and all("random sampling" in m for m in said)
        mine = {d.record_id: d.decision for d in core.my_decisions(store, "reviewer1", TA)}
        assert other not in mine and mine[revised] == "exclude" and len(mine) == 11
        await pilot.press("space", "e")  # the sample's next record: decided
        await settle(pilot)
        mine = {d.record_id: d.decision for d in core.my_decisions(store, "reviewer1", TA)}
        assert mine.get(drawn) == "exclude" and len(mine) == 12
