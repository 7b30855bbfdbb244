"""The record list (``L`` in the screening screen) driven by keys, asserting on the database."""

from __future__ import annotations

import pytest
from sqlmodel import col, select
from textual.widgets import DataTable

from reviewflow.screening import decisions as core
from reviewflow.screening.listing import ListFilter, list_records
from reviewflow.store import Store
from reviewflow.store.models import AuditEntry
from reviewflow.tui import record_list
from reviewflow.tui.record_list import RecordListScreen, parse_years
from reviewflow.tui.screen_app import ScreenApp, ScreeningSetup
from tests.tui.test_screen_app import FT, SIZE, TA, make_app, mine, review, settle, shown_id

__all__ = ["review"]  # the fixture


def listed(app: object) -> list[int]:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, RecordListScreen)
    table = screen.query_one(DataTable)
    return [int(str(k.value)) for k in table.rows]


async def test_list_filters_sorts_and_opens_a_record(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    for rid in ids:  # the other reviewer has decided everything: none of it may show
        core.decide(store, "reviewer2", rid, TA, "include")
    core.decide(store, "reviewer1", ids[1], TA, "exclude")
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        assert listed(app) == ids
        table = app.screen.query_one(DataTable)
        assert [str(table.get_cell_at((i, 1))) for i in range(3)] == ["—", "exclude", "—"]
        assert "include" not in {str(table.get_cell_at((i, 1))) for i in range(len(ids))}
        await pilot.press("d", "d")  # any → undecided → include (mine: none)
        await settle(pilot)
        assert listed(app) == []
        await pilot.press("d")  # → exclude
        await settle(pilot)
        assert listed(app) == [ids[1]]
        await pilot.press("x", "slash", *"pain nsaid", "enter")
        await settle(pilot)
        wanted = [
            r.record_id
            for r in list_records(store, "reviewer1", TA, ListFilter(words="pain nsaid")).rows
        ]
        assert listed(app) == wanted and len(wanted) >= 2
        await pilot.press("s", "r")  # sort by year, newest first
        await settle(pilot)
        by_year = list_records(
            store, "reviewer1", TA, ListFilter(words="pain nsaid", sort="year", descending=True)
        )
        assert listed(app) == [r.record_id for r in by_year.rows]
        await pilot.press("y", *"2000", "enter")
        await settle(pilot)
        rows = list_records(store, "reviewer1", TA, ListFilter(words="pain nsaid")).rows
        in_2000 = [r for r in by_year.rows if r.year and r.year == 2000]
        assert listed(app) == [r.record_id for r in in_2000] and len(in_2000) < len(rows)
        table = app.screen.query_one(DataTable)
        await pilot.press("down")
        under_cursor = listed(app)[table.cursor_row]
        await pilot.press("enter")  # open it in the screening screen
        await settle(pilot)
        assert app.screen is app.screening and shown_id(app) == under_cursor
        assert mine(store, "reviewer2") == {rid: ("include", "", "") for rid in ids}


async def test_bulk_exclude_asks_with_the_count_and_u_takes_the_batch_back(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    for rid in ids[:10]:
        core.decide(store, "reviewer2", rid, TA, "maybe")
    core.decide(store, "reviewer1", ids[0], TA, "include")
    target = ListFilter(words="the", year_to=1999)
    rows = list_records(store, "reviewer1", TA, target).rows
    undecided = [r.record_id for r in rows if r.decision is None]
    assert len(undecided) >= 3
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        await pilot.press("slash", *"the", "enter", "y", *"-1999", "enter")
        await settle(pilot)
        assert listed(app) == [r.record_id for r in rows]
        await pilot.press("b", "2")  # exclude…
        await pilot.pause()
        question = str(app.screen.query_one("Label").render())
        assert f"Exclude the {len(undecided)} undecided records listed?" in question
        await pilot.press("2")  # "No, cancel"
        await settle(pilot)
        assert mine(store, "reviewer1") == {ids[0]: ("include", "", "")}
        await pilot.press("b", "2", "1")  # exclude, yes
        await settle(pilot)
        assert mine(store, "reviewer1") == {
            ids[0]: ("include", "", ""), **{rid: ("exclude", "", "") for rid in undecided}
        }  # fmt: skip
        assert mine(store, "reviewer2") == {rid: ("maybe", "", "") for rid in ids[:10]}
        await pilot.press("q")
        await settle(pilot)
        screening = app.screening
        assert screening.shown and screening.shown.progress.decided == 1 + len(undecided)
        await pilot.press("u")  # the whole batch, one audited undo per record
        await settle(pilot)
        assert mine(store, "reviewer1") == {ids[0]: ("include", "", "")}
        assert screening.shown and screening.shown.progress.decided == 1
        await pilot.press("u")  # then my decision before it
        await settle(pilot)
        assert mine(store, "reviewer1") == {}
    with store.read() as s:
        actions = s.exec(
            select(AuditEntry.action)
            .where(AuditEntry.actor == "reviewer1")
            .order_by(col(AuditEntry.id))
        ).all()
    n = len(undecided)
    assert list(actions) == ["decision.set"] * (1 + n) + ["decision.undo"] * (n + 1)


async def test_full_text_bulk_exclusion_asks_one_reason(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    for rid in ids[:4]:
        for who in ("reviewer1", "reviewer2"):
            core.decide(store, who, rid, TA, "include")
    core.set_retrieval(store, "reviewer1", ids[2], retrieved=False)
    reasons = core.ScreeningRules().exclusion_reasons
    app = make_app(store, stage=FT)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        assert listed(app) == ids[:4]
        await pilot.press("b", "2")
        await pilot.pause()
        assert "Why are the 3 undecided records excluded?" in str(
            app.screen.query_one("Label").render()
        )
        await pilot.press("3", "1")  # the third reason, yes
        await settle(pilot)
        assert mine(store, "reviewer1", FT) == {
            rid: ("exclude", reasons[2], "") for rid in (ids[0], ids[1], ids[3])
        }
        table = app.screen.query_one(DataTable)
        assert str(table.get_cell_at((2, 1))) == "not retr."
        await pilot.press("u")  # in the list too: the batch
        await settle(pilot)
        assert mine(store, "reviewer1", FT) == {}


def test_years_are_a_year_or_a_range() -> None:
    assert parse_years("2005") == (2005, 2005)
    assert parse_years("1990-2000") == (1990, 2000) and parse_years("1990–2000") == (1990, 2000)
    assert parse_years("2005-") == (2005, None) and parse_years(" -1999") == (None, 1999)
    assert parse_years("") == (None, None)


async def test_the_table_shows_a_page_at_a_time(
    review: tuple[Store, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, ids = review
    monkeypatch.setattr(record_list, "PAGE", 10)
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        assert listed(app) == ids[:10]
        assert "rows 1-10 ([ ] pages)" in str(app.screen.query_one("#filters").render())
        await pilot.press("right_square_bracket", "right_square_bracket", "down")
        assert listed(app) == ids[20:30]
        await pilot.press("s", "s")  # by title: the page that holds the record under the cursor
        await settle(pilot)
        by_title = [
            r.record_id for r in list_records(store, "reviewer1", TA, ListFilter(sort="title")).rows
        ]
        at = by_title.index(ids[21])
        assert listed(app) == by_title[at // 10 * 10 : at // 10 * 10 + 10]
        await pilot.press("enter")
        await settle(pilot)
        assert shown_id(app) == ids[21]
        await pilot.press("L")  # again: the same filter and sort, at the record being screened
        await settle(pilot)
        page = by_title[at // 10 * 10 : at // 10 * 10 + 10]
        assert (
            listed(app) == page
            and listed(app)[app.screen.query_one(DataTable).cursor_row] == ids[21]
        )
        for _ in range(at // 10 + 1):  # back to the first page, and no page before it
            await pilot.press("left_square_bracket")
        assert listed(app) == by_title[:10]


async def test_no_bulk_decision_in_the_relevance_order(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    app = ScreenApp(ScreeningSetup(store, "reviewer1", TA, order="relevance"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        assert sorted(listed(app)) == sorted(ids)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, RecordListScreen)  # no question asked
        assert any("no bulk decisions in the relevance order" in str(n.message)
                   for n in app._notifications)  # fmt: skip
    assert mine(store, "reviewer1") == {}


async def test_label_filter_and_a_bulk_exclusion_with_an_optional_reason(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    rules = core.ScreeningRules(title_abstract_reasons=("wrong population", "not a trial"))
    core.set_labels(store, "reviewer1", ids[4], TA, ["animal"])
    core.set_labels(store, "reviewer1", ids[7], TA, ["animal"])
    core.set_labels(store, "reviewer2", ids[8], TA, ["animal"])  # not mine: never listed
    app = ScreenApp(ScreeningSetup(store, "reviewer1", TA, rules=rules))
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        await pilot.press("t", "2")  # (any label), animal
        await settle(pilot)
        assert listed(app) == [ids[4], ids[7]]
        table = app.screen.query_one(DataTable)
        assert str(table.get_cell(str(ids[4]), "Labels")) == "animal"
        await pilot.press("b", "2")  # exclude: the reasons of review.toml, optional
        await pilot.pause()
        assert "optional" in str(app.screen.query_one("Label").render())
        await pilot.press("2", "1")  # not a trial; yes
        await settle(pilot)
        assert str(table.get_cell(str(ids[7]), "Reason")) == "not a trial"
    assert mine(store, "reviewer1") == {
        rid: ("exclude", "not a trial", "") for rid in (ids[4], ids[7])
    }
    assert mine(store, "reviewer2") == {}
