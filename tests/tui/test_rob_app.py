"""The risk-of-bias screen driven with Pilot: a number key answers the highlighted question and
saves it at once; the domain judgement follows by the RoB 2 algorithm; another reviewer's
answers never show."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import DataTable

from reviewflow.extraction.studies import list_studies, sync_studies
from reviewflow.rob import assess
from reviewflow.store import Store, open_store
from reviewflow.tui.rob_app import RobApp, RobStudiesScreen, RobStudyScreen
from reviewflow.workspace import Workspace
from tests.extraction.helpers import build_screened_review

SIZE = (160, 50)


@pytest.fixture
def store(sqlite_workspace: Workspace) -> Iterator[Store]:
    store = open_store(sqlite_workspace.database_url())
    build_screened_review(store)
    sync_studies(store, 2)
    yield store
    store.dispose()


def _cell(screen: RobStudyScreen, row: int) -> str:
    return str(screen.query_one(DataTable).get_row_at(row)[2])


async def test_number_keys_answer_and_the_algorithm_judges(store: Store) -> None:
    first = list_studies(store, 2)[0]
    assess.set_answer(store, "reviewer2", first.id, "rob2", "1.1", "N")  # not to be seen
    app = RobApp(store, "reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RobStudiesScreen)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RobStudyScreen)
        assert screen.items[:4] == ["", "1.1", "1.2", "1.3"]
        assert _cell(screen, 1) == "·"  # reviewer 2's N stays hidden
        await pilot.press("down", "1")  # 1.1 = Y; the cursor moves to 1.2
        await pilot.press("1", "4")  # 1.2 = Y, 1.3 = N
        await pilot.pause()
        mine = assess.my_assessment(store, "reviewer1", first.id, "rob2")
        assert {k: mine.answers[k] for k in ("1.1", "1.2", "1.3")} == {
            "1.1": "Y",
            "1.2": "Y",
            "1.3": "N",
        }
        assert "low" in _cell(screen, 0)  # D1 by the algorithm
        await pilot.press("up", "backspace")  # clear 1.3
        await pilot.pause()
        assert "1.3" not in assess.my_assessment(store, "reviewer1", first.id, "rob2").answers
        assert "not yet" in _cell(screen, 0)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RobStudiesScreen)
    theirs = assess.my_assessment(store, "reviewer2", first.id, "rob2")
    assert theirs.answers == {"1.1": "N"}
