"""How long the PRISMA flow and the report folder take on a large review (SQLite).

The review: the 393 real Cohen (2006) NSAIDs records imported N/393 times as separate PubMed
imports (so N records), every record decided by two reviewers at title/abstract (5% included),
every included report decided at full text. Prints medians of repeated runs.

    .venv/bin/python benchmarks/bench_prisma.py [N]   (default 20000)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import col, select

sys.path.insert(0, str(Path(__file__).parents[1]))

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.report.folder import build_report
from reviewflow.report.prisma import prisma_counts
from reviewflow.report.prisma_files import diagram_of, save_image
from reviewflow.report.prisma_svg import diagram_svg
from reviewflow.store import open_store
from reviewflow.store.models import Decision, Record, Reviewer
from reviewflow.workspace import ReviewConfig, Workspace
from tests.screening.helpers import nsaids_records


def median_time(fn: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(n: int) -> None:
    records = nsaids_records()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = open_store(f"sqlite:///{root / 'bench.sqlite'}", create=True)
        with store.write() as s:
            a, b = Reviewer(name="a"), Reviewer(name="b")
            s.add_all([a, b])
            s.flush()
            done = 0
            while done < n:
                batch = records[: min(len(records), n - done)]
                run = start_run(s, kind="import", source="PubMed", count=len(batch))
                store_records(s, run, batch)
                done += len(batch)
            ids = s.execute(select(Record.id).order_by(col(Record.id))).scalars().all()
            rows = []
            for i, rid in enumerate(ids):
                d = "include" if i % 20 == 0 else "exclude"
                for r in (a.id, b.id):
                    rows.append({"record_id": rid, "reviewer_id": r, "stage": "title-abstract",
                                 "decision": d, "reason": ""})  # fmt: skip
                    if d == "include":
                        rows.append({"record_id": rid, "reviewer_id": r, "stage": "full-text",
                                     "decision": "exclude", "reason": "Wrong population"})  # fmt: skip
            s.execute(insert(Decision), rows)
        counts = prisma_counts(store)
        assert counts.databases.screened == n, counts.databases.screened
        t_counts = median_time(lambda: prisma_counts(store))
        t_svg = median_time(lambda: diagram_svg(diagram_of(counts)))
        t_png = median_time(lambda: save_image(diagram_of(counts), root / "p.png", "png"), 3)
        t_pdf = median_time(lambda: save_image(diagram_of(counts), root / "p.pdf", "pdf"), 3)
        ws = Workspace(root, ReviewConfig(title="bench"))
        t_report = median_time(lambda: build_report(store, ws, root / "report"), 3)
        store.dispose()
    print(f"records: {n:,} ({len(rows):,} decisions), SQLite")
    print(f"prisma counts (median of 5): {t_counts * 1000:.0f} ms")
    print(f"diagram to SVG (median of 5): {t_svg * 1000:.1f} ms")
    print(f"diagram to PNG 200 dpi (median of 3): {t_png * 1000:.0f} ms")
    print(f"diagram to PDF (median of 3): {t_pdf * 1000:.0f} ms")
    print(f"report folder, no extraction (median of 3): {t_report * 1000:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
