"""The record list on a 20,000-record review: the core listing, the screen, a bulk decision.

The review is built from the real records of the three Cohen (2006) reviews in
``../shared/data/screening`` (3,788 PubMed records), imported again and again until there are
``--records`` of them (default 20,000), every other import under the source name "Embase".
Reviewer 2 has decided every other record (never shown, must not slow reviewer 1 down);
reviewer 1 has decided the first quarter.

Measured:
- ``list_records`` (core, in-process) for each filter/sort below: the median of ``--repeat``;
- the screen (Textual Pilot, 120x40 headless): from pressing ``L`` in the screening screen to the
  table filled with every row, and from pressing ``d`` (a new decision filter) to the table
  filled again;
- ``decide_undecided`` on ``--bulk`` records (one audited ``decide()`` each) and ``undo_bulk``.

    .venv/bin/python benchmarks/bench_record_list.py [--records 20000] [--bulk 1000]
        [--db sqlite:///PATH | postgresql://…]   (default: a SQLite file in a temp folder)
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from pathlib import Path

from bench_screening import real_records  # the same real records (this script's folder)
from sqlalchemy import insert
from sqlmodel import func, select

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.screening import flow
from reviewflow.screening.listing import ListFilter, decide_undecided, list_records, undo_bulk
from reviewflow.store import Store, open_store
from reviewflow.store.models import Decision, Record, Reviewer
from reviewflow.store.reviewers import sync_reviewers
from reviewflow.workspace import ReviewConfig, ReviewerConfig

TA = flow.TITLE_ABSTRACT
FILTERS = {
    "everything, position order": ListFilter(),
    "undecided by me": ListFilter(decision="undecided"),
    "words 'randomized placebo'": ListFilter(words="randomized placebo"),
    "years 1995-2000, by first author": ListFilter(year_from=1995, year_to=2000, sort="author"),
    "source Embase, by title": ListFilter(source="Embase", sort="title"),
}


def build(store: Store, n: int) -> None:
    sync_reviewers(
        store, ReviewConfig("Benchmark", reviewers=[ReviewerConfig("r1"), ReviewerConfig("r2")])
    )
    base = real_records()
    have, copy = 0, 0
    while have < n:
        batch = base[: n - have]
        source = "Embase" if copy % 2 else "PubMed"
        with store.write() as s:
            store_records(s, start_run(s, kind="import", source=source), batch)
        have, copy = have + len(batch), copy + 1
    with store.read() as s:
        who = dict(s.execute(select(Reviewer.name, Reviewer.id)).all())
        ids = list(s.exec(select(Record.id).order_by(Record.id)).all())

    def rows(reviewer: int, chosen: list[int | None]) -> list[dict[str, object]]:
        return [{"record_id": i, "reviewer_id": reviewer, "stage": TA, "decision": "exclude",
                 "reason": "", "note": ""} for i in chosen]  # fmt: skip

    with store.write() as s:
        s.execute(insert(Decision), rows(who["r2"], ids[::2]))
        s.execute(insert(Decision), rows(who["r1"], ids[: len(ids) // 4]))


def report(label: str, seconds: list[float]) -> None:
    ms = [t * 1000 for t in seconds]
    print(f"{label:<48} median {statistics.median(ms):8.1f} ms   (n={len(ms)})")


async def screen_times(store: Store, repeat: int) -> tuple[list[float], list[float], int]:
    from textual.widgets import DataTable

    from reviewflow.tui.record_list import RecordListScreen
    from reviewflow.tui.screen_app import ScreenApp, ScreeningSetup

    opened, refiltered, rows = [], [], 0
    app = ScreenApp(ScreeningSetup(store, "r1", TA, review_title="Benchmark"))
    async with app.run_test(size=(120, 40)) as pilot:
        while app.screening.shown is None:
            await pilot.pause()

        async def filled(screen: RecordListScreen, before: object) -> None:
            while screen.listing is None or screen.listing is before:
                await pilot.pause(0.001)
            await pilot.pause()  # the refresh that draws it

        for _ in range(repeat):
            app.screening.list_filter = None  # every time the whole list (it keeps its filter)
            t = time.perf_counter()
            await pilot.press("L")
            while not isinstance(app.screen, RecordListScreen):
                await pilot.pause(0.001)
            screen = app.screen
            await filled(screen, None)
            opened.append(time.perf_counter() - t)
            rows = screen.query_one(DataTable).row_count
            t = time.perf_counter()
            before = screen.listing
            await pilot.press("d")
            await filled(screen, before)
            refiltered.append(time.perf_counter() - t)
            await pilot.press("q")
            while app.screen is not app.screening:
                await pilot.pause(0.001)
    return opened, refiltered, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--bulk", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temp folder)")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-list-')) / 'review.sqlite'}"
    store = open_store(url, create=True)
    with store.read() as s:
        have = s.scalar(select(func.count()).select_from(Record)) or 0
    if not have:
        t0 = time.perf_counter()
        build(store, args.records)
        print(f"built {args.records:,} records in {time.perf_counter() - t0:.0f} s")
    print(
        f"{platform.python_implementation()} {platform.python_version()}, {store.url.split(':')[0]}"
    )
    for label, f in FILTERS.items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            listing = list_records(store, "r1", TA, f)
            times.append(time.perf_counter() - t)
        report(f"list_records: {label} ({len(listing.rows):,} rows)", times)
    opened, refiltered, rows = asyncio.run(screen_times(store, args.repeat))
    report(f"screen: L to the table filled ({rows:,} rows)", opened)
    report("screen: d (undecided) to the table filled again", refiltered)
    undecided = list_records(store, "r1", TA, ListFilter(decision="undecided")).rows
    ids = [r.record_id for r in undecided[: args.bulk]]
    t = time.perf_counter()
    done = decide_undecided(store, "r1", TA, ids, "exclude")
    bulk = time.perf_counter() - t
    t = time.perf_counter()
    undone = undo_bulk(store, "r1", TA, [c.record_id for c in done.changes])
    back = time.perf_counter() - t
    print(f"decide_undecided: {len(done.changes):,} records in {bulk:.1f} s "
          f"({bulk / max(len(done.changes), 1) * 1000:.1f} ms each)")  # fmt: skip
    print(f"undo_bulk: {len(undone):,} records in {back:.1f} s "
          f"({back / max(len(undone), 1) * 1000:.1f} ms each)")  # fmt: skip
    store.dispose()


if __name__ == "__main__":
    main()
