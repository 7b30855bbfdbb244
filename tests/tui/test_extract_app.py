"""The extraction TUI driven with Pilot: entries reach the database as typed, validation shows at
the field, blinding holds on screen, and the consensus screen settles discrepancies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Input, Static

from reviewflow.extraction.consensus import consensus_values
from reviewflow.extraction.forms import Form, find_form
from reviewflow.extraction.studies import StudyInfo, list_studies, sync_studies
from reviewflow.extraction.values import mark_finished, my_finished, my_values, save_value
from reviewflow.store import Store, open_store
from reviewflow.store.models import AuditEntry, ExtractionStatus, ExtractionValue
from reviewflow.tui.extract_app import ExtractApp, StudiesScreen, StudyScreen
from reviewflow.tui.widgets.extraction_consensus import ConsensusScreen
from reviewflow.tui.widgets.extraction_field import ExtractionField
from reviewflow.workspace import Workspace
from tests.extraction.helpers import build_screened_review, pritz_counts

SIZE = (140, 50)
REQUIRED = {"country": "USA", "design": "prospective", "patients": "58"}  # the form's spelling


@pytest.fixture
def review(sqlite_workspace: Workspace) -> Iterator[tuple[Store, Form, list[StudyInfo]]]:
    store = open_store(sqlite_workspace.database_url())
    build_screened_review(store)
    sync_studies(store, 2)
    yield store, find_form(sqlite_workspace.forms_dir), list_studies(store, 2)
    store.dispose()


async def settle(app: ExtractApp) -> None:
    await app.workers.wait_for_complete()
    await app.workers.wait_for_complete()


def field(app: ExtractApp, key: str) -> ExtractionField:
    return app.screen.query_one(f"#field-{key.replace('.', '-')}", ExtractionField)


async def open_first_study(app: ExtractApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await settle(app)
    assert isinstance(app.screen, StudiesScreen)
    await pilot.press("enter")
    await pilot.pause()
    await settle(app)
    await pilot.pause()
    assert isinstance(app.screen, StudyScreen)


async def test_values_typed_reach_the_database_with_an_audit_row(review, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Tab and Enter save each value once. The save after a pause in typing is kept out of it:
    on a loaded machine the pilot's keys can be 0.8 s apart, which saved a half-typed value."""
    from reviewflow.tui.widgets import extraction_field

    monkeypatch.setattr(extraction_field, "SAVE_AFTER_PAUSE", 3600.0)
    store, form, studies = review
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)
        study = app.screen.study  # type: ignore[attr-defined]
        assert study.id == studies[0].id
        # the first field (country) has focus: type, Tab to the next (design)
        await pilot.press(*"Germany", "tab")
        await pilot.press(*"Retrospective", "enter")
        await settle(app)
        # Pritz 1997's first study (Giannotta et al.): 16 of 17 improved, used as mortality counts
        _, events, total = pritz_counts()[0]
        field(app, "outcome.mortality.events").query_one(Input).focus()
        await pilot.press(*str(events), "tab", *str(total), "tab")
        await settle(app)
        await pilot.pause()
    with store.read() as s:
        rows = {r.field: r.value for r in s.exec(select(ExtractionValue)).all()}
        audits = s.exec(select(AuditEntry).where(AuditEntry.action == "extraction.set")).all()
    assert rows == {
        "country": "Germany",
        "design": "retrospective",  # typed "Retrospective": stored as the form spells it
        "outcome.mortality.events": str(events),
        "outcome.mortality.total": str(total),
    }
    assert len(audits) == 4 and {a.actor for a in audits} == {"reviewer1"}


async def test_quitting_while_typing_saves_the_value(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    app = ExtractApp(store, form, reviewer="reviewer2")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)
        field(app, "stent_device").query_one(Input).focus()
        await pilot.press(*"Solitaire AB", "ctrl+q")  # no Enter, no Tab
        await pilot.pause()
    assert my_values(store, "reviewer2", studies[0].id) == {"stent_device": "Solitaire AB"}


async def test_invalid_values_are_flagged_at_the_field_and_kept_as_typed(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)
        field(app, "patients").query_one(Input).focus()
        await pilot.press(*"12.5")
        problem = field(app, "patients").query_one(".field-problem", Static)
        assert "Patients: must be a whole number" in str(problem.render())
        assert field(app, "patients").has_class("-invalid")
        await pilot.press("tab")
        # events above total: the message appears at the events field once both are entered
        field(app, "outcome.sich.events").query_one(Input).focus()
        await pilot.press(*"10", "tab", *"8", "tab")
        await settle(app)
        await pilot.pause()
        message = str(
            field(app, "outcome.sich.events").query_one(".field-problem", Static).render()
        )
        assert "events (10) exceed total (8)" in message
    assert my_values(store, "reviewer1", studies[0].id)["patients"] == "12.5"


async def test_reviewer_never_sees_the_other_reviewers_values(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    save_value(store, "reviewer2", form, studies[0].id, "country", "Japan")
    save_value(store, "reviewer2", form, studies[0].id, "patients", "58")
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)
        shown = [f.value for f in app.screen.query(ExtractionField)]
        assert shown == [""] * len(form.fields)
        await pilot.press("escape")
        await pilot.pause()
        await settle(app)
        table = app.screen.query_one(DataTable)
        assert "0/20" in str(table.get_row_at(0)[2])


async def test_values_shown_again_when_the_study_is_reopened(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    save_value(store, "reviewer1", form, studies[0].id, "angioplasty", "yes")
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)
        assert field(app, "angioplasty").value == "yes"
        await pilot.press("ctrl+n")
        await pilot.pause()
        await settle(app)
        await pilot.pause()
        assert app.screen.study.id == studies[1].id  # type: ignore[attr-defined]
        assert field(app, "angioplasty").value == ""
        await pilot.press("ctrl+p")  # back to the first study (not the command palette)
        await pilot.pause()
        await settle(app)
        await pilot.pause()
        assert app.screen.study.id == studies[0].id  # type: ignore[attr-defined]
        assert field(app, "angioplasty").value == "yes"


async def test_consensus_screen_accepts_agreements_and_settles_a_discrepancy(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    sid = studies[0].id
    _, events, total = pritz_counts()[3]  # Kassell et al.: 43 of 58
    for who, ev in (("reviewer1", events), ("reviewer2", events + 1)):
        save_value(store, who, form, sid, "outcome.recanalisation.events", str(ev))
        save_value(store, who, form, sid, "outcome.recanalisation.total", str(total))
        for key, value in REQUIRED.items():
            save_value(store, who, form, sid, key, value)
        mark_finished(store, who, form, sid)
    app = ExtractApp(store, form, reviewer="adjudicator", consensus_by="adjudicator")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await settle(app)
        await pilot.pause()
        assert isinstance(app.screen, ConsensusScreen)
        status = str(app.screen.query_one("#consensus-status", Static).render())
        assert "4 fields where the reviewers agree became consensus values" in status
        assert "1 discrepancy, 0 settled · 4 studies waiting for reviewers to finish" in status
        await pilot.press("1")  # take reviewer1's value
        await settle(app)
        await pilot.pause()
        assert "1 discrepancy, 1 settled" in str(
            app.screen.query_one("#consensus-status", Static).render()
        )
    rows = consensus_values(store)[sid]
    assert rows["outcome.recanalisation.events"].value == str(events)
    assert rows["outcome.recanalisation.events"].source == "adjudicated"
    assert rows["outcome.recanalisation.total"].source == "agreed"
    assert rows["outcome.recanalisation.total"].decided_by == "adjudicator"


def footer_state(app: ExtractApp, action: str) -> str:
    """How the footer shows an action: enabled, greyed (shown, disabled) or hidden."""
    shown = [b for b in app.screen.active_bindings.values() if b.binding.action == action]
    return ("enabled" if shown[0].enabled else "greyed") if shown else "hidden"


async def test_finish_key_marks_the_study_finished_in_the_database(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    sid = studies[0].id
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)
        # required fields empty: the key is greyed out and pressing it changes nothing
        assert (footer_state(app, "finish"), footer_state(app, "reopen")) == ("greyed", "hidden")
        await pilot.press("ctrl+f")
        await settle(app)
        await pilot.pause()
        assert my_finished(store, "reviewer1", [sid]) == set()
        said = [n.message for n in app._notifications]
        assert any("not finished" in m and "Patients: required" in m for m in said), said
        await pilot.press(*"USA", "tab", *"Prospective", "tab")
        field(app, "patients").query_one(Input).focus()
        await pilot.press(*"58")  # not yet saved: finishing saves it first
        await pilot.pause()
        assert footer_state(app, "finish") == "enabled"
        await pilot.press("ctrl+f")
        await settle(app)
        await pilot.pause()
        assert my_finished(store, "reviewer1", [sid]) == {sid}
        assert (footer_state(app, "finish"), footer_state(app, "reopen")) == ("hidden", "enabled")
        assert "✓" in str(app.screen.query_one("#study-status", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        await settle(app)
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(0)[2]).startswith("✓ 3/20  finished")
        assert "1 finished" in str(app.screen.query_one("#studies-status", Static).render())
        await pilot.press("f")  # on the list the same action reopens it
        await settle(app)
        await pilot.pause()
        await settle(app)
        assert my_finished(store, "reviewer1", [sid]) == set()
    assert my_values(store, "reviewer1", sid) == {**REQUIRED, "country": "USA"}
    with store.read() as s:
        actions = [
            a.action
            for a in s.exec(select(AuditEntry).where(AuditEntry.entity == "extraction_status"))
        ]
        (status,) = s.exec(select(ExtractionStatus)).all()
    assert actions == ["extraction.finished", "extraction.reopened"]
    assert status.finished_at is None


async def test_the_list_shows_only_the_reviewers_own_finished_status(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    for key, value in REQUIRED.items():
        save_value(store, "reviewer2", form, studies[0].id, key, value)
    mark_finished(store, "reviewer2", form, studies[0].id)
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await settle(app)
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(0)[2]).strip() == "0/20"
        assert "0 finished" in str(app.screen.query_one("#studies-status", Static).render())
        # nothing entered: finishing from the list is greyed out, reopening hidden
        assert (footer_state(app, "finish"), footer_state(app, "reopen")) == ("greyed", "hidden")
        await pilot.press("f")  # greyed, but it says why
        await settle(app)
        await pilot.pause()
        said = " ".join(n.message for n in app._notifications)
        assert "not finished, 3 fields to fix" in said and "Country: required" in said, said
    assert my_finished(store, "reviewer1", [studies[0].id]) == set()


async def test_a_choice_typed_in_another_case_shows_and_saves_the_forms_spelling(review) -> None:  # type: ignore[no-untyped-def]
    store, form, studies = review
    app = ExtractApp(store, form, reviewer="reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await open_first_study(app, pilot)
        field(app, "design").query_one(Input).focus()
        await pilot.press(*"pROSPECTIVE", "tab")
        await settle(app)
        await pilot.pause()
        assert field(app, "design").value == "prospective"  # the form's spelling
    assert my_values(store, "reviewer1", studies[0].id) == {"design": "prospective"}
