"""The screening app driven by keys (Textual's Pilot), asserting on the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import col, select
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerState

from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.screening.queue import Progress
from reviewflow.store import Store, open_store
from reviewflow.store.models import AuditEntry, Decision, FulltextRetrieval, Reviewer
from reviewflow.tui.screen_app import ScreenApp, ScreeningSetup
from reviewflow.workspace import Workspace
from tests.screening.helpers import add_records, nsaids_records, structured_records

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT
SIZE = (120, 40)


@pytest.fixture
def review(workspace: Workspace) -> Iterator[tuple[Store, list[int]]]:
    store = open_store(workspace.database_url())
    ids = add_records(store, structured_records() + nsaids_records(40))
    yield store, ids
    store.dispose()


def make_app(store: Store, reviewer: str = "reviewer1", stage: str = TA) -> ScreenApp:
    return ScreenApp(
        ScreeningSetup(store, reviewer, stage, review_title="NSAIDs",
                       highlight_include=("NSAID*", "randomi*"), highlight_exclude=("rats",))
    )  # fmt: skip


async def settle(pilot: Pilot[None]) -> None:
    """Wait for every worker, for the messages they posted, and for workers those started."""
    for attempt in range(10):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive worker (a load) replaced by a newer one
            continue
        await pilot.pause()
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers)
        if attempt >= 2 and not busy:  # a message posted from a thread may land a pause later
            break


def mine(store: Store, reviewer: str, stage: str = TA) -> dict[int, tuple[str, str, str]]:
    with store.read() as s:
        rid = s.exec(select(Reviewer.id).where(Reviewer.name == reviewer)).one()
        rows = s.exec(select(Decision).where(Decision.reviewer_id == rid, Decision.stage == stage))
        return {d.record_id: (d.decision, d.reason, d.note) for d in rows}


def shown_id(app: ScreenApp) -> int | None:
    return (
        app.screening.shown.view.record_id
        if app.screening.shown and app.screening.shown.view
        else None
    )


async def test_keys_decide_move_on_undo_and_note(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_id(app) == ids[0] and app.screening.shown.progress == Progress(0, 42)  # type: ignore[union-attr]
        assert app.screening.check_action("previous", ()) is None  # greyed on the first record
        assert app.screening.check_action("not_retrieved", ()) is False  # hidden at title/abstract
        await pilot.press("i")
        await settle(pilot)
        assert mine(store, "reviewer1") == {ids[0]: ("include", "", "")}
        assert shown_id(app) == ids[1] and app.screening.shown.progress.decided == 1  # type: ignore[union-attr]
        for key in "em":
            await pilot.press(key)
            await settle(pilot)
        assert mine(store, "reviewer1") == {
            ids[0]: ("include", "", ""), ids[1]: ("exclude", "", ""), ids[2]: ("maybe", "", ""),
        }  # fmt: skip
        await pilot.press("left")
        await settle(pilot)
        assert shown_id(app) == ids[2]
        await pilot.press("n")
        await pilot.press(*"animal model", "enter")
        await settle(pilot)
        assert mine(store, "reviewer1")[ids[2]] == ("maybe", "", "animal model")
        await pilot.press("u")  # undoes the note, my last change
        await settle(pilot)
        assert mine(store, "reviewer1")[ids[2]] == ("maybe", "", "")
        await pilot.press("u", "u")
        await settle(pilot)
        assert mine(store, "reviewer1") == {ids[0]: ("include", "", "")}
        assert shown_id(app) == ids[1]
        # a note typed before deciding is saved with the decision
        await pilot.press("n", *"check dose", "enter", "i")
        await settle(pilot)
        assert mine(store, "reviewer1")[ids[1]] == ("include", "", "check dose")
    with store.read() as s:
        actions = s.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
    assert list(actions) == ["decision.set"] * 3 + ["decision.note"] + ["decision.undo"] * 3 + [
        "decision.draft_note", "decision.set"
    ]  # fmt: skip


async def test_a_note_on_an_undecided_record_outlives_quitting(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    async with make_app(store).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", *"ask about dose", "enter")
        await settle(pilot)
        await pilot.press("q")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_id(app) == ids[0]
        line = app.screening.query_one("#mine").render()
        assert "ask about dose (saved with your decision)" in str(line)
        await pilot.press("e")
        await settle(pilot)
    assert mine(store, "reviewer1") == {ids[0]: ("exclude", "", "ask about dose")}


async def test_navigation_jump_search_and_resume(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    for rid in ids[:5]:
        core.decide(store, "reviewer1", rid, TA, "exclude")
    core.decide(store, "reviewer2", ids[5], TA, "include")  # another reviewer's: not mine
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_id(app) == ids[5]  # resumes at my first undecided record
        assert app.screening.shown.view.mine is None and app.screening.shown.progress.decided == 5  # type: ignore[union-attr]
        await pilot.press("g", *"30", "enter")
        await settle(pilot)
        assert app.screening.shown.position == 29 and shown_id(app) == ids[29]  # type: ignore[union-attr]
        await pilot.press("right")
        await settle(pilot)
        assert shown_id(app) == ids[30]
        target = nsaids_records(40)[17]
        await pilot.press("slash", *target.pmid, "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert shown_id(app) == ids[2 + 17]
        await pilot.press("space")  # next record I have not decided
        await settle(pilot)
        assert shown_id(app) == ids[20]
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
    assert mine(store, "reviewer1") == {i: ("exclude", "", "") for i in ids[:5]}


async def test_full_text_exclusion_reason_and_report_not_retrieved(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    for rid in ids[:3]:
        for who in ("reviewer1", "reviewer2"):
            core.decide(store, who, rid, TA, "include")
    app = make_app(store, stage=FT)
    reasons = core.ScreeningRules().exclusion_reasons
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert (
            app.screening.shown.length == 3
            and app.screening.check_action("not_retrieved", ()) is True
        )  # type: ignore[union-attr]
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("escape")  # no reason, no decision
        await settle(pilot)
        assert mine(store, "reviewer1", FT) == {}
        await pilot.press("e", "4")
        await settle(pilot)
        assert mine(store, "reviewer1", FT) == {ids[0]: ("exclude", reasons[3], "")}
        assert shown_id(app) == ids[1]
        await pilot.press("r")
        await settle(pilot)
        assert app.screening.shown.view.not_retrieved and app.screening.shown.progress == Progress(
            1, 2
        )  # type: ignore[union-attr]
        assert app.screening.check_action("decide", ("include",)) is None  # nothing to decide now
        await pilot.press("i")
        await settle(pilot)
        assert ids[1] not in mine(store, "reviewer1", FT)
        assert "NOT RETRIEVED (marked by you for the whole team" in str(
            app.screening.query_one("#mine").render()
        )
    with store.read() as s:
        assert s.exec(select(FulltextRetrieval.status)).all() == ["not_retrieved"]
    other = make_app(store, reviewer="reviewer2", stage=FT)  # the other reviewer is told who
    async with other.run_test(size=SIZE) as pilot:
        await settle(pilot)
        other.screening.load(record_id=ids[1])
        await settle(pilot)
        assert "NOT RETRIEVED (marked by reviewer1 for the whole team" in str(
            other.screening.query_one("#mine").render()
        )


async def test_app_never_shows_the_other_reviewers_decisions(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    for rid in ids:
        core.decide(store, "reviewer2", rid, TA, "include")
        core.set_note(store, "reviewer2", rid, TA, "SECRET-NOTE")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_id(app) == ids[0] and app.screening.shown.progress == Progress(0, 42)  # type: ignore[union-attr]
        for _ in range(3):
            text = app.screen.query_one("#mine").render()
            assert "SECRET" not in str(text) and "Not decided yet" in str(text)
            await pilot.press("right")
            await settle(pilot)
        assert "SECRET" not in app.export_screenshot()


async def test_search_counts_every_match_not_only_the_ones_listed(
    review: tuple[Store, list[int]],
) -> None:
    store, _ids = review
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        total = app.screening._queue().count_matches("the")
        assert total > 0
        await pilot.press("slash", *"the", "enter")
        await settle(pilot)
        hint = str(app.screen.query_one(".hint").render())
        shown = min(total, 100)
        assert hint.startswith(f"{total} records match 'the'"), hint
        assert ("first" in hint) == (total > shown)


async def test_c_shows_the_question_and_criteria_and_c_closes_them(
    review: tuple[Store, list[int]],
) -> None:
    from reviewflow.tui.widgets.text_screen import TextScreen
    from reviewflow.workspace import ReviewConfig

    store, _ids = review
    config = ReviewConfig("NSAIDs", question="Do NSAIDs reduce pain?",
                          inclusion_criteria=["Randomised trials"],
                          exclusion_criteria=["Animal studies"])  # fmt: skip
    app = ScreenApp(ScreeningSetup(store, "reviewer1", TA, criteria=config.criteria_text()))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        shown = str(app.screen.query_one("#text-body").render())
        assert "Do NSAIDs reduce pain?" in shown
        assert "• Randomised trials" in shown and "• Animal studies" in shown
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is app.screening


async def test_u_after_a_restart_undoes_my_last_decisions_in_turn(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    for rid in ids[:3]:
        core.decide(store, "reviewer1", rid, TA, "exclude")  # an earlier session
    core.decide(store, "reviewer2", ids[5], TA, "include")  # someone else's: never undone by me
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_id(app) == ids[3]
        await pilot.press("u")
        await settle(pilot)
        assert shown_id(app) == ids[2] and set(mine(store, "reviewer1")) == {ids[0], ids[1]}
        await pilot.press("u")
        await settle(pilot)
        assert shown_id(app) == ids[1] and set(mine(store, "reviewer1")) == {ids[0]}
        await pilot.press("u", "u")
        await settle(pilot)
        assert mine(store, "reviewer1") == {}
        said = [n.message for n in app._notifications]
        assert said[-1] == "nothing of yours to undo at this stage", said
    assert set(mine(store, "reviewer2")) == {ids[5]}


async def test_restart_resumes_after_my_last_decision_not_at_the_first_gap(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    for rid in (ids[0], ids[20], ids[21]):  # I jumped ahead and went on from there
        core.decide(store, "reviewer1", rid, TA, "exclude")
    core.decide(store, "reviewer2", ids[30], TA, "include")  # the other reviewer's place
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_id(app) == ids[22]
    other = make_app(store, reviewer="reviewer2", stage=TA)
    async with other.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown_id(other) == ids[31]  # per reviewer


async def test_full_text_shows_where_to_find_the_report_and_my_earlier_note(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    rid = ids[2]  # a real NSAIDs record with a PMID
    core.decide(store, "reviewer1", rid, TA, "include", note="check the dose arms")
    core.decide(store, "reviewer2", rid, TA, "include")
    app = make_app(store, stage=FT)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        view = app.screening.shown.view  # type: ignore[union-attr]
        assert view is not None and view.record_id == rid and view.pmid
        shown = str(app.screening.query_one("#record-text").render())
        assert f"https://pubmed.ncbi.nlm.nih.gov/{view.pmid}/" in shown
        assert "My title/abstract note: check the dose arms" in shown
