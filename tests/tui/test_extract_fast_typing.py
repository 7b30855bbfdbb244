"""Typing and pasting faster than the screen redraws: every value lands in its own field and is
saved (committed, audited). A terminal delivers a burst of keys (a fast typist, a paste without
bracketed-paste mode, ``tmux send-keys``) to the app before the first of them is handled; these
tests post the whole burst at once, with no wait between keys."""

from __future__ import annotations

from sqlmodel import select
from textual import events
from textual.widgets import Input

from reviewflow.extraction.values import my_values
from reviewflow.store.models import AuditEntry
from reviewflow.tui.extract_app import ExtractApp
from reviewflow.tui.widgets.extraction_field import ExtractionField
from tests.tui.test_extract_app import SIZE, field, open_first_study, review, settle

__all__ = ["review"]  # the fixture


def burst(app: ExtractApp, keys: list[str]) -> None:
    """Post every key to the app at once, as a terminal's input thread does for a burst."""
    for key in keys:
        char = {"tab": "\t", "enter": "\r", "shift+tab": None}.get(key, key)
        app.post_message(events.Key(key, char))


def typed(text: str) -> list[str]:
    return ["tab" if c == "\t" else "enter" if c == "\n" else c for c in text]


async def test_a_burst_of_keys_with_tabs_fills_successive_fields(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)  # the first field (country) has focus
        burst(app, typed("Turkey\tRetrospective\t3\t40\n12"))
        await pilot.pause()
        await settle(app)
        await pilot.pause()
        shown = {k: field(app, k).value for k in ("country", "design", "centres", "patients")}
        assert shown == {"country": "Turkey", "design": "retrospective", "centres": "3",
                         "patients": "40"}  # fmt: skip
        assert field(app, "mean_age").value == "12"  # Enter moved on too
        burst(app, ["shift+tab", *"9"])  # back to patients, its text selected: replaced
        await pilot.pause()
        await pilot.press("ctrl+q")
    assert my_values(store, "reviewer1", studies[0].id) == {
        "country": "Turkey", "design": "retrospective", "centres": "3", "patients": "9",
        "mean_age": "12",
    }  # fmt: skip
    with store.read() as s:
        audited = [
            a.after for a in s.exec(select(AuditEntry).where(AuditEntry.action == "extraction.set"))
        ]
    assert len(audited) == 6, audited  # patients saved as 40, then 9


async def test_a_paste_with_tabs_fills_successive_fields(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)
        app.post_message(events.Paste("Turkey\tRetrospective\t\t40\r\n"))  # a spreadsheet row
        await pilot.pause()
        await settle(app)
        await pilot.pause()
        assert app.focused is field(app, "patients").query_one(Input)
        said = " ".join(n.message for n in app._notifications)
        assert "4 values pasted into Country … Patients" in said, said
        await pilot.press("ctrl+q")
    # the choice as the form spells it, as when typed; the empty cell leaves centres empty
    assert my_values(store, "reviewer1", studies[0].id) == {
        "country": "Turkey",
        "design": "retrospective",
        "patients": "40",
    }


async def test_a_paste_with_more_values_than_fields_is_refused(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)
        last = list(app.screen.query(ExtractionField))[-1]
        last.query_one(Input).focus()
        await pilot.pause()
        app.post_message(events.Paste("7\n8\n9"))
        await pilot.pause()
        await settle(app)
        said = " ".join(n.message for n in app._notifications)
        assert "Paste refused: 3 values but only 1 field from here" in said, said
        assert last.value == ""
        await pilot.press("ctrl+q")
    assert my_values(store, "reviewer1", studies[0].id) == {}
