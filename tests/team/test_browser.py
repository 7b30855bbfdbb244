"""Team mode in a real browser (Debian's chromium via playwright): two people on their own
"computers" (browser contexts), signed in with their own passphrases, screening blinded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from reviewflow.store import Store
from tests.team.browser import Person, browser_missing, chromium, served
from tests.team.conftest import PASSPHRASES, Team

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def decisions(store: Store) -> list[tuple[int, str, str]]:
    with store.engine.connect() as conn:
        return [
            (r[0], r[1], r[2])
            for r in conn.execute(
                text(
                    "SELECT d.record_id, r.name, d.decision FROM decision d "
                    "JOIN reviewer r ON r.id = d.reviewer_id ORDER BY r.name, d.record_id"
                )
            )
        ]


def open_screening(person: Person) -> None:
    person.wait_text("Screen titles and abstracts")
    mark = person.press("Enter")  # no click needed: the page gives the terminal the focus
    person.wait_text("Record 1 of 12", since=mark)


def test_sign_in_include_sign_out_saves_reviewer1s_decision(team: Team, browser: Any) -> None:
    with served(team.ws.root) as url:
        alice = Person(browser, url)
        alice.sign_in("reviewer1", PASSPHRASES["reviewer1"])
        open_screening(alice)
        mark = alice.press("i")
        alice.wait_text("Record 2 of 12", since=mark)
        alice.sign_out()
        assert alice.page.url.endswith("/signin")
        alice.close()
    assert decisions(team.store) == [(team.ids[0], "reviewer1", "include")]
    with team.store.engine.connect() as conn:
        audit = conn.execute(text("SELECT actor, action FROM audit_log ORDER BY id")).all()
    assert ("reviewer1", "decision.set") in [(a, b) for a, b in audit]
    assert [b for a, b in audit if a == "reviewer1"][-1] == "auth.signout"


def test_a_wrong_passphrase_reaches_no_app(sqlite_team: Team, browser: Any) -> None:
    team = sqlite_team
    with served(team.ws.root) as url:
        mallory = Person(browser, url)
        mallory.sign_in("reviewer1", "a guess at the words")
        assert mallory.page.url.endswith("/signin")
        assert "Unknown reviewer name or wrong passphrase" in mallory.page.content()
        mallory.page.goto(url)  # straight to the app page: sent back to sign in
        assert mallory.page.url.endswith("/signin")
        mallory.page.wait_for_timeout(500)
        assert mallory.sockets == 0 and mallory.frames == []
        mallory.close()
    with team.store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM review_session")).scalar() == 0


def test_reviewer2_sees_none_of_reviewer1s_decisions(sqlite_team: Team, browser: Any) -> None:
    team = sqlite_team
    with served(team.ws.root) as url:
        alice, bob = Person(browser, url), Person(browser, url)
        alice.sign_in("reviewer1", PASSPHRASES["reviewer1"])
        open_screening(alice)
        for n in range(2, 5):  # reviewer1 decides three records
            alice.wait_text(f"Record {n - 1} of 12")
            mark = alice.press("e")
            alice.wait_text(f"Record {n} of 12", since=mark)
        bob.sign_in("reviewer2", PASSPHRASES["reviewer2"])
        open_screening(bob)
        bob.wait_text("0 / 12 decided")
        shown = bob.screen_text()
        assert "Not decided yet" in shown
        assert "EXCLUDE" not in shown and "3 / 12" not in shown
        mark = bob.press("ArrowRight")
        bob.wait_text("Record 2 of 12", since=mark)
        assert "EXCLUDE" not in bob.screen_text(mark)
        alice.close()
        bob.close()
    assert [d for d in decisions(team.store) if d[1] == "reviewer2"] == []


def test_two_sessions_screening_at_once_lose_nothing(team: Team, browser: Any) -> None:
    with served(team.ws.root) as url:
        alice, bob = Person(browser, url), Person(browser, url)
        alice.sign_in("reviewer1", PASSPHRASES["reviewer1"])
        bob.sign_in("reviewer2", PASSPHRASES["reviewer2"])
        open_screening(alice)
        open_screening(bob)
        for n in range(1, 11):  # keys arrive interleaved, each waits for its own next record
            marks = (alice.press("i"), bob.press("e" if n % 2 else "m"))
            alice.wait_text(f"Record {n + 1} of 12", since=marks[0])
            bob.wait_text(f"Record {n + 1} of 12", since=marks[1])
        alice.close()
        bob.close()
    got = decisions(team.store)
    assert [d for d in got if d[1] == "reviewer1"] == [
        (rid, "reviewer1", "include") for rid in team.ids[:10]
    ]
    assert [d for d in got if d[1] == "reviewer2"] == [
        (rid, "reviewer2", "exclude" if n % 2 else "maybe")
        for n, rid in enumerate(team.ids[:10], 1)
    ]


def test_the_adjudicator_reconciles_and_downloads_the_report(
    sqlite_team: Team, browser: Any, tmp_path: Any
) -> None:
    """Both reviewers screened (through the core, as the tests above do through the browser);
    the lead resolves a conflict and takes the report home, all in the browser."""
    from reviewflow.access.identity import check_passphrase, sign_in
    from reviewflow.screening import decisions as core
    from reviewflow.store import open_store

    team = sqlite_team
    for name, decision in (("reviewer1", "include"), ("reviewer2", "exclude")):
        store = open_store(team.ws.database_url())
        sign_in(store, check_passphrase(store, name, PASSPHRASES[name]))
        for rid in team.ids:
            core.decide(store, name, rid, "title-abstract", decision)
        store.dispose()
    with served(team.ws.root) as url:
        lead = Person(browser, url)
        lead.sign_in("adjudicator", PASSPHRASES["adjudicator"])
        lead.wait_text("Reconcile title/abstract conflicts")
        for _ in range(4):  # screen ×2, extract, my progress, then: reconcile title/abstract
            lead.press("ArrowDown")
        mark = lead.press("Enter")
        lead.wait_text("reviewer2", since=mark)
        mark = lead.press("i")
        lead.wait_text("Why include record", since=mark)
        lead.page.keyboard.type("both criteria met on reading")
        mark = lead.press("Enter")
        lead.wait_text(f"record {team.ids[0]}: ", since=mark)  # the resolution is saved
        mark = lead.press("q")
        lead.wait_text("Build the report", since=mark)
        for _ in range(5):  # reconcile ×2, consensus, agreement, PRISMA, then: the report
            lead.press("ArrowDown")
        downloads: list[Any] = []
        lead.page.on("download", lambda download: downloads.append(download))
        mark = lead.press("Enter")
        lead.wait_text("The report is in", since=mark, timeout=180)
        for _ in range(1200):
            if downloads:
                break
            lead.page.wait_for_timeout(100)
        assert downloads, "the report was never delivered to the browser"
        saved = tmp_path / "report.zip"
        downloads[0].save_as(saved)
        lead.close()
    import zipfile

    with zipfile.ZipFile(saved) as z:
        assert "index.html" in z.namelist()
    with team.store.engine.connect() as conn:
        res = conn.execute(text("SELECT record_id, decision, resolved_by, reason FROM resolution"))
        assert [tuple(r) for r in res] == [
            (team.ids[0], "include", "adjudicator", "both criteria met on reading")
        ]
