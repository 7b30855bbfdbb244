"""Screening a 100,000-record review: TUI start-up and keypress → next record, with Pilot.

The review is built from the real records of the three Cohen (2006) reviews in
``../shared/data/screening`` (ACE inhibitors, ADHD, NSAIDs: 3,788 PubMed records), imported
again and again until there are ``--records`` of them (default 100,000). Reviewer 2 has decided
every other record (they must not slow reviewer 1 down, nor show).

Measured, in-process, with Textual's Pilot on a 120x40 headless terminal:
- start-up: from creating the app to the first record rendered (fresh review; and resuming
  with half the review already decided, where the first undecided record is 50,000 rows in);
  and the same from launching a new Python process (interpreter and imports included);
- keypress → next record rendered: ``pilot.press("i")`` until the next record is on screen
  (the decision committed first), and the same for → (next without deciding).

    .venv/bin/python benchmarks/bench_screening.py [--records 100000] [--presses 200]
        [--db sqlite:///PATH | postgresql://…]   (default: a SQLite file in a temp folder)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, insert
from sqlmodel import col, func, select

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.records import RecordData
from reviewflow.screening import flow
from reviewflow.store import Store, open_store
from reviewflow.store.models import AuditEntry, Decision, Record, Reviewer
from reviewflow.store.reviewers import sync_reviewers
from reviewflow.workspace import ReviewConfig, ReviewerConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' record reader
from tests.real_data import cohen_records

DATA = Path(__file__).parents[2] / "shared" / "data" / "screening"
FILES = ["Cohen2006_ACEInhibitors.csv", "Cohen2006_ADHD.csv", "Cohen2006_NSAIDS.csv"]
TA = flow.TITLE_ABSTRACT


def real_records() -> list[RecordData]:
    return [r for name in FILES for r in cohen_records(DATA / name)]


def build(store: Store, n: int) -> None:
    sync_reviewers(
        store, ReviewConfig("Benchmark", reviewers=[ReviewerConfig("r1"), ReviewerConfig("r2")])
    )
    with store.read() as s:
        have = s.scalar(select(func.count()).select_from(Record)) or 0
    if have >= n:
        return
    base = real_records()
    t0 = time.perf_counter()
    while have < n:
        batch = base[: n - have]
        with store.write() as s:
            store_records(s, start_run(s, kind="import", source=f"copy {have}"), batch)
        have += len(batch)
    with store.read() as s:
        r2 = s.exec(select(Reviewer.id).where(Reviewer.name == "r2")).one()
        ids = list(s.exec(select(Record.id).order_by(Record.id)).all())
    with store.write() as s:  # reviewer 2's decisions on every other record, in bulk
        rows = [
            {"record_id": i, "reviewer_id": r2, "stage": TA, "decision": "exclude",
             "reason": "", "note": ""}
            for i in ids[::2]
        ]  # fmt: skip
        s.execute(insert(Decision), rows)
    print(f"built {n:,} records from {len(base):,} real ones in {time.perf_counter() - t0:.0f} s")


def forget(store: Store, reviewer: str) -> None:
    """Start reviewer 1 afresh (so the benchmark database can be reused with --db)."""
    with store.write() as s:
        r1 = s.exec(select(Reviewer.id).where(Reviewer.name == reviewer)).one()
        s.execute(delete(Decision).where(col(Decision.reviewer_id) == r1))
        s.execute(delete(AuditEntry).where(col(AuditEntry.actor) == reviewer))


def decide_first_half(store: Store, reviewer: str) -> None:
    """Reviewer 1 has screened the first half (bulk insert, with audit rows as decide makes)."""
    with store.read() as s:
        r1 = s.exec(select(Reviewer.id).where(Reviewer.name == reviewer)).one()
        done = set(s.exec(select(Decision.record_id).where(Decision.reviewer_id == r1)).all())
        ids = list(s.exec(select(Record.id).order_by(Record.id)).all())
    half = [i for i in ids[: len(ids) // 2] if i not in done]
    if not half:
        return
    with store.write() as s:
        s.execute(
            insert(Decision),
            [{"record_id": i, "reviewer_id": r1, "stage": TA, "decision": "include",
              "reason": "", "note": ""} for i in half],
        )  # fmt: skip
        s.execute(
            insert(AuditEntry),
            [{"actor": reviewer, "action": "decision.set", "entity": "decision", "record_id": i,
              "before": None, "after": {"stage": TA, "decision": "include"}} for i in half],
        )  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def shown_id(app, pilot) -> int | None:  # type: ignore[no-untyped-def]
    return (
        app.screening.shown.view.record_id
        if app.screening.shown and app.screening.shown.view
        else None
    )


async def wait_for_new_record(app, pilot, old: int | None, since: float) -> None:  # type: ignore[no-untyped-def]
    """Until another record is shown and the screen refreshed with it."""
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = (
            app.screening.shown.view.record_id
            if app.screening.shown and app.screening.shown.view
            else None
        )
        if shown is not None and shown != old and app.screening.rendered_at > since:
            return


async def measure(store: Store, reviewer: str, presses: int) -> dict[str, list[float]]:
    """Times end when the app's screen refresh with the new record has happened (the app
    stamps ``rendered_at`` after that refresh); Pilot's own idle waits are not counted."""
    from reviewflow.tui.screen_app import ScreenApp, ScreeningSetup

    out: dict[str, list[float]] = {"start": [], "decide": [], "next": []}
    t0 = time.perf_counter()
    app = ScreenApp(ScreeningSetup(store, reviewer, TA, review_title="Benchmark"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_new_record(app, pilot, None, t0)
        out["start"].append(app.screening.rendered_at - t0)
        for key, name in (("i", "decide"), ("right", "next")):
            for _ in range(presses):
                old = await shown_id(app, pilot)
                t = time.perf_counter()
                await pilot.press(key)
                await wait_for_new_record(app, pilot, old, t)
                out[name].append(app.screening.rendered_at - t)
    return out


COLD = """
import asyncio, sys, time
import reviewflow.cli  # what `reviewflow screen` imports before the app
from reviewflow.store import open_store
from reviewflow.tui.screen_app import ScreenApp, ScreeningSetup
app = ScreenApp(ScreeningSetup(open_store(sys.argv[1]), "r1", "title-abstract"))
async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.screening.rendered_at:
            await pilot.pause()
        print(time.time())
asyncio.run(main())
"""


def cold_start(url: str) -> float:
    """A new Python process: interpreter, the CLI's imports, the store, the first record."""
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", COLD, url], capture_output=True, text=True, check=True
    ).stdout
    return float(out.strip().splitlines()[-1]) - t0


def report(label: str, values: list[float]) -> None:
    ms = [v * 1000 for v in values]
    print(
        f"{label:<44} median {statistics.median(ms):7.1f} ms   p95 {percentile(ms, 0.95):7.1f} ms"
        f"   (n={len(ms)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temp folder)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-screening-"))
    url = args.db or f"sqlite:///{folder / 'review.sqlite'}"
    store = open_store(url, create=True)
    build(store, args.records)
    forget(store, "r1")
    print(f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"database {store.display_url}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for label, prepare in (("fresh", None), ("half decided", decide_first_half)):
        if prepare:
            prepare(store, "r1")
        starts: list[float] = []
        keys: dict[str, list[float]] = {"decide": [], "next": []}
        for run in range(args.starts):
            result = asyncio.run(measure(store, "r1", args.presses if run == 0 else 0))
            starts += result["start"]
            for k in keys:
                keys[k] += result[k]
        report(f"start-up to first record ({label})", starts)
        report(f"  … in a new process, imports included ({label})",
               [cold_start(url) for _ in range(args.starts)])  # fmt: skip
        if label == "fresh":
            report("keypress i → decision saved, next record shown", keys["decide"])
            report("keypress → → next record shown", keys["next"])
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    store.dispose()


if __name__ == "__main__":
    main()
