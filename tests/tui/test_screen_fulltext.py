"""The full-text screen and attached PDFs: the record says whether one is attached, ``p`` opens
it with the viewer (the viewer's launch is caught here: no test starts a real viewer), says why
when it cannot, and under ``reviewflow serve`` delivers the PDF to the browser instead."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.screening import fulltext as ft
from reviewflow.store import Store, open_store
from reviewflow.tui.screen_app import ScreenApp, ScreeningSetup
from reviewflow.workspace import Workspace
from tests.fulltext.pdf import write_pdf
from tests.screening.helpers import add_records, nsaids_records, structured_records
from tests.tui.test_screen_app import settle

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT


@pytest.fixture
def review(workspace: Workspace, tmp_path: Path) -> Iterator[tuple[Workspace, Store, list[int]]]:
    """Two reports sought for retrieval; the first (a real PubMed record) has its PDF."""
    store = open_store(workspace.database_url())
    ids = add_records(store, structured_records() + nsaids_records(5))
    for rid in ids[:2]:
        for who in ("reviewer1", "reviewer2"):
            core.decide(store, who, rid, TA, "include")
    pdf = write_pdf(tmp_path / "35830032.pdf", "Safety of long-term proton pump inhibitors")
    ft.attach(store, workspace.root, "reviewer2", [pdf])
    yield workspace, store, ids
    store.dispose()


class Launches:
    """Stands in for subprocess.Popen in the fulltext module: records what would start."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, command: list[str], **kw: Any) -> None:
        self.calls.append((command, kw))


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> Launches:
    caught = Launches()
    monkeypatch.setattr(ft.subprocess, "Popen", caught)
    monkeypatch.setenv(ft.VIEWER_ENV, "true --viewer")  # /usr/bin/true: found on the PATH
    return caught


def app_for(ws: Workspace, store: Store, stage: str = FT) -> ScreenApp:
    return ScreenApp(ScreeningSetup(store, "reviewer1", stage, review_dir=ws.root))


def said(app: ScreenApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_p_opens_the_attached_pdf_in_the_viewer_detached(
    review: tuple[Workspace, Store, list[int]], launches: Launches
) -> None:
    ws, store, ids = review
    app = app_for(ws, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = str(app.screening.query_one("#record-text").render())
        assert f"Full text: PDF attached (fulltext/{ids[0]}.pdf; p opens it)" in shown
        await pilot.press("p")
        await pilot.pause()
        path = ws.root / "fulltext" / f"{ids[0]}.pdf"
        assert launches.calls == [
            (["true", "--viewer", str(path)],
             {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL,
              "stderr": subprocess.DEVNULL, "start_new_session": True})
        ]  # fmt: skip
        assert f"record {ids[0]}: opening fulltext/{ids[0]}.pdf" in said(app)
        await pilot.press("right")  # the second report has no PDF
        await settle(pilot)
        shown = str(app.screening.query_one("#record-text").render())
        assert "Full text: no PDF attached (reviewflow fulltext attach)" in shown
        await pilot.press("p")
        await pilot.pause()
        assert len(launches.calls) == 1
        assert said(app)[-1] == (
            f"no PDF attached to record {ids[1]}: "
            f"reviewflow fulltext attach FILE.pdf --record {ids[1]}"
        )


async def test_a_missing_file_or_viewer_is_said_not_launched(
    review: tuple[Workspace, Store, list[int]], launches: Launches, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, store, ids = review
    app = app_for(ws, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        monkeypatch.setenv(ft.VIEWER_ENV, "no-such-pdf-viewer")
        await pilot.press("p")
        await pilot.pause()
        assert said(app)[-1].startswith(
            "no PDF viewer found (no-such-pdf-viewer is not installed): set REVIEWFLOW_PDF_VIEWER"
        )
        (ws.root / "fulltext" / f"{ids[0]}.pdf").unlink()
        await pilot.press("p")
        await pilot.pause()
        assert said(app)[-1] == f"fulltext/{ids[0]}.pdf: the attached PDF is missing from {ws.root}"
    assert launches.calls == []


async def test_served_the_pdf_goes_to_the_browser(
    review: tuple[Workspace, Store, list[int]], launches: Launches, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under `reviewflow serve` the app runs on the server: no viewer there; the file is
    delivered to the browser session (textual-serve opens it in a new tab)."""
    ws, store, ids = review
    app = app_for(ws, store)
    delivered: list[tuple[Path, dict[str, Any]]] = []
    monkeypatch.setattr(ScreenApp, "is_web", property(lambda self: True))
    monkeypatch.setattr(app, "deliver_binary", lambda path, **kw: delivered.append((path, kw)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
    assert delivered == [
        (ws.root / "fulltext" / f"{ids[0]}.pdf",
         {"save_filename": f"record-{ids[0]}.pdf", "open_method": "browser",
          "mime_type": "application/pdf"})
    ]  # fmt: skip
    assert launches.calls == []


async def test_title_abstract_screening_has_no_pdf_key(
    review: tuple[Workspace, Store, list[int]], launches: Launches
) -> None:
    ws, store, _ids = review
    app = app_for(ws, store, TA)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screening.check_action("open_pdf", ()) is False
        await pilot.press("p")
        await pilot.pause()
        assert "Full text:" not in str(app.screening.query_one("#record-text").render())
    assert launches.calls == []


def studies_first_with_pdf(ws: Workspace, tmp_path: Path) -> tuple[Store, int, int]:
    """A screened review's studies; the first study's report has a PDF, the second's none."""
    from reviewflow.extraction.studies import list_studies, sync_studies
    from tests.extraction.helpers import build_screened_review

    store = open_store(ws.database_url())
    build_screened_review(store)
    sync_studies(store, 2)
    studies = list_studies(store, 2)
    first, other = (st.reports[0].record_id for st in studies[:2])
    ft.attach(store, ws.root, "reviewer1", [write_pdf(tmp_path / "a.pdf", "x")], record_id=first)
    return store, first, other


async def test_extraction_opens_the_studys_pdf_with_ctrl_o(
    sqlite_workspace: Workspace, tmp_path: Path, launches: Launches
) -> None:
    from reviewflow.extraction.forms import find_form
    from reviewflow.tui.extract_app import ExtractApp, StudyScreen

    ws = sqlite_workspace
    store, first, other = studies_first_with_pdf(ws, tmp_path)
    app = ExtractApp(store, find_form(ws.forms_dir), reviewer="reviewer1", review_dir=ws.root)
    async with app.run_test(size=(140, 50)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, StudyScreen)
        shown = str(app.screen.query_one("#report-text").render())
        assert f"PDF attached: fulltext/{first}.pdf (Ctrl+O opens it)" in shown
        await pilot.press("ctrl+o")  # the focus is in the form's first field
        await pilot.pause()
        assert launches.calls and launches.calls[0][0][-1] == str(ws.root / f"fulltext/{first}.pdf")
        await pilot.press("ctrl+n")  # the next study has no PDF
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert said(app)[-1].startswith(f"no PDF attached to record {other}:")  # type: ignore[arg-type]
        assert len(launches.calls) == 1
    store.dispose()


async def test_risk_of_bias_opens_the_studys_pdf_with_p(
    sqlite_workspace: Workspace, tmp_path: Path, launches: Launches
) -> None:
    from reviewflow.tui.rob_app import RobApp, RobStudyScreen

    ws = sqlite_workspace
    store, first, other = studies_first_with_pdf(ws, tmp_path)
    app = RobApp(store, "reviewer1", review_dir=ws.root)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RobStudyScreen)
        shown = str(app.screen.query_one("#rob-report-text").render())
        assert f"PDF attached: fulltext/{first}.pdf (p opens it)" in shown
        await pilot.press("p")
        await pilot.pause()
        assert [c[0][-1] for c in launches.calls] == [str(ws.root / f"fulltext/{first}.pdf")]
        await pilot.press("right_square_bracket")  # the next study has no PDF
        await pilot.pause()
        assert "PDF attached" not in str(app.screen.query_one("#rob-report-text").render())
        await pilot.press("p")
        await pilot.pause()
        assert said(app)[-1].startswith(f"no PDF attached to record {other}:")  # type: ignore[arg-type]
        assert len(launches.calls) == 1
    store.dispose()


async def test_reconciliation_at_full_text_opens_the_conflicts_pdf_with_p(
    review: tuple[Workspace, Store, list[int]], launches: Launches
) -> None:
    from reviewflow.tui.reconcile_app import ReconcileApp, ReconcileSetup

    ws, store, ids = review
    core.decide(store, "reviewer1", ids[0], FT, "include")  # a conflict on the report with a PDF
    core.decide(
        store, "reviewer2", ids[0], FT, "exclude", reason=core.ScreeningRules().exclusion_reasons[0]
    )
    app = ReconcileApp(ReconcileSetup(store, ("adjudicator",), FT, review_dir=ws.root))
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        shown = str(app.screen.query_one("#record-text").render())
        assert f"PDF attached (fulltext/{ids[0]}.pdf; p opens it)" in shown
        await pilot.press("p")
        await pilot.pause()
        assert [c[0][-1] for c in launches.calls] == [str(ws.root / f"fulltext/{ids[0]}.pdf")]
    ta = ReconcileApp(ReconcileSetup(store, ("adjudicator",), TA, review_dir=ws.root))
    async with ta.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        assert ta.screen.check_action("open_pdf", ()) is False  # no PDF key at title/abstract
