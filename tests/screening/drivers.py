"""Programs the concurrency and kill tests run as separate processes.

python -m tests.screening.drivers core URL REVIEWER GO_FILE
    decide every title/abstract record (include/exclude from the real labels), then revise
    every fourth; print one line per committed change.
python -m tests.screening.drivers app URL REVIEWER
    drive the screening app headless, pressing i / e / m; print one line per change the app
    reports committed (its DecisionSaved message), until killed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.store import open_store

TA = flow.TITLE_ABSTRACT


def expected(record_index: int, revised: bool) -> str:
    first = "include" if record_index % 3 == 0 else "exclude"
    if not revised:
        return first
    return "maybe" if first == "exclude" else "exclude"


def run_core(url: str, reviewer: str, go: Path) -> None:
    store = open_store(url)
    with store.read() as s:
        ids = flow.title_abstract_ids(s)
    (go.parent / f"ready-{reviewer}").touch()
    while not go.exists():  # both processes start together
        time.sleep(0.01)
    # a short pause between decisions (a person is a thousand times slower): in a tight loop
    # the writer that holds SQLite's lock takes it again at once while the other process's
    # busy handler sleeps, so one reviewer could finish before the other wrote anything
    for i, rid in enumerate(ids):
        core.decide(store, reviewer, rid, TA, expected(i, False))
        print(f"{rid} {expected(i, False)}", flush=True)
        time.sleep(0.001)
    for i, rid in enumerate(ids):
        if i % 4 == 0:
            core.decide(store, reviewer, rid, TA, expected(i, True))
            print(f"{rid} {expected(i, True)}", flush=True)
            time.sleep(0.001)
    store.dispose()


def run_app(url: str, reviewer: str) -> None:
    from reviewflow.tui.screen_app import (
        DecisionSaved,
        ScreenApp,
        ScreeningScreen,
        ScreeningSetup,
    )

    class ReportingScreen(ScreeningScreen):
        def on_decision_saved(self, message: DecisionSaved) -> None:
            super().on_decision_saved(message)
            after = message.change.after
            print(f"{message.change.record_id} {after.decision if after else '-'}", flush=True)

    class Reporting(ScreenApp):
        SCREEN = ReportingScreen

    store = open_store(url)
    app = Reporting(ScreeningSetup(store, reviewer, TA))

    async def drive() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            keys = "iem"
            n = 0
            while True:
                await pilot.press(keys[n % 3])
                n += 1
                await app.workers.wait_for_complete()
                await pilot.pause()

    asyncio.run(drive())


if __name__ == "__main__":
    mode, url, reviewer = sys.argv[1:4]
    if mode == "core":
        run_core(url, reviewer, Path(sys.argv[4]))
    else:
        run_app(url, reviewer)
