"""Served, ``p`` in the full-text screen opens the attached PDF in a new browser tab: the app
(on the server) delivers it to the signed-in session, never through a viewer on the server.
(Headless chromium has no PDF viewer, so the tab saves the file: the test reads what it got.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reviewflow.access.identity import check_passphrase, sign_in
from reviewflow.screening import decisions as core
from reviewflow.screening import fulltext as ft
from reviewflow.store import open_store
from tests.fulltext.pdf import write_pdf
from tests.team.browser import Person, browser_missing, chromium, served
from tests.team.conftest import PASSPHRASES, Team

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_p_opens_the_pdf_in_a_new_tab_of_the_signed_in_browser(
    sqlite_team: Team, browser: Any, tmp_path: Any
) -> None:
    team = sqlite_team
    for name in ("reviewer1", "reviewer2"):
        store = open_store(team.ws.database_url())
        sign_in(store, check_passphrase(store, name, PASSPHRASES[name]))
        for rid in team.ids[:2]:
            core.decide(store, name, rid, "title-abstract", "include")
        if name == "reviewer1":
            pdf = write_pdf(tmp_path / "report.pdf", "the full text of the first report")
            ft.attach(store, team.ws.root, name, [pdf], record_id=team.ids[0])
        store.dispose()
    with served(team.ws.root) as url:
        ana = Person(browser, url)
        downloads: list[Any] = []  # headless chromium has no PDF viewer: it saves the PDF
        ana.page.on("download", lambda download: downloads.append(download))
        ana.sign_in("reviewer2", PASSPHRASES["reviewer2"])
        ana.wait_text("Screen full texts")
        ana.press("ArrowDown")
        mark = ana.press("Enter")
        ana.wait_text("PDF attached", since=mark)
        mark = ana.press("p")
        ana.wait_text("opens in a new browser tab", since=mark)
        for _ in range(300):
            if downloads:
                break
            ana.page.wait_for_timeout(100)
        assert downloads, "the PDF never reached the browser"
        assert "/download/" in downloads[0].url
        assert downloads[0].suggested_filename == f"record-{team.ids[0]}.pdf"
        saved = tmp_path / "opened.pdf"
        downloads[0].save_as(saved)
        ana.close()
    assert saved.read_bytes() == pdf.read_bytes()
