"""The home screen: sign-in in a terminal, and what each role is offered (and refused)."""

from __future__ import annotations

from reviewflow.access.identity import check_passphrase, sign_in
from reviewflow.store import open_store
from reviewflow.tui.home_app import HomeApp, HomeScreen, HomeSetup, SignInScreen
from reviewflow.tui.screen_app import ScreeningScreen
from reviewflow.tui.widgets.text_screen import TextScreen
from tests.team.conftest import PASSPHRASES, Team

SIZE = (110, 34)


def app_for(team: Team, name: str | None) -> HomeApp:
    store = open_store(team.ws.database_url())
    if name:
        sign_in(store, check_passphrase(store, name, PASSPHRASES[name]))
    return HomeApp(HomeSetup(store, team.ws))


def labels(app: HomeApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, HomeScreen)
    return [t.label for t in screen.tasks]


async def settle(app: HomeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_a_reviewer_is_offered_their_own_work_only(sqlite_team: Team) -> None:
    app = app_for(sqlite_team, "reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert labels(app) == ["Screen titles and abstracts", "Screen full texts",
                               "Extract data", "Assess risk of bias (RoB 2)", "My progress",
                               "Sign out"]  # fmt: skip
        progress = str(app.screen.query_one("#home-progress").render())
        assert "Title/abstract: 0 of 12 decided" in progress


async def test_the_adjudicator_is_offered_the_unblinded_work(sqlite_team: Team) -> None:
    app = app_for(sqlite_team, "adjudicator")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        got = labels(app)
        assert (
            "Reconcile title/abstract conflicts" in got
            and "Build the report and download it" in got
        )
        assert "Agreement between the reviewers (Cohen's kappa)" in got
        assert "Extract data" in got  # the lead extracts too (a small team's second reviewer)
        assert "Assess risk of bias (RoB 2)" not in got  # the reviewers assess
        app.screen.open("agreement")
        await settle(app, pilot)
        assert isinstance(app.screen, TextScreen)
        assert "No record has been screened by two reviewers yet." in app.screen.text


async def test_terminal_sign_in_refuses_a_wrong_passphrase(sqlite_team: Team) -> None:
    app = app_for(sqlite_team, None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, SignInScreen)
        await pilot.press(*"reviewer2", "enter", *"wrong words here", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SignInScreen)
        assert "wrong passphrase" in str(app.screen.query_one("#sign-in-error").render())
        assert app.setup.store.identity is None
        await pilot.press(*PASSPHRASES["reviewer2"], "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen) and app.screen.who.name == "reviewer2"


async def test_screening_from_home_and_back(sqlite_team: Team) -> None:
    app = app_for(sqlite_team, "reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")  # the first task: title/abstract screening
        await settle(app, pilot)
        assert isinstance(app.screen, ScreeningScreen)
        await pilot.press("i")
        await settle(app, pilot)
        await pilot.press("q")
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "Title/abstract: 1 of 12 decided" in str(
            app.screen.query_one("#home-progress").render()
        )


async def test_risk_of_bias_from_home_and_back(sqlite_team: Team) -> None:
    app = app_for(sqlite_team, "reviewer1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.open("rob")
        await settle(app, pilot)
        from reviewflow.tui.rob_app import RobStudiesScreen

        assert isinstance(app.screen, RobStudiesScreen)
        assert app.screen.state.reviewer == "reviewer1"  # signed in as, never chosen
        await pilot.press("q")
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
