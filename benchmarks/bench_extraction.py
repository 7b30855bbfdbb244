"""Extraction timings: saving a value, the study list, the discrepancy list, the export, and
the TUI's field edit → value committed.

The review: ``--studies`` included studies (default 200) made of real NSAIDs PubMed records
(tests/data/screening), both reviewers having filled every field of the reference form
(``rescue_stenting``), one field in twenty different between them. The values are the
dat.pritz1997 counts cycled over the studies (real published counts used as realistic input).

    .venv/bin/python benchmarks/bench_extraction.py [--studies 200] [--saves 300]
        [--db sqlite:///PATH | postgresql://…]   (default: a SQLite file in a temp folder)
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).parents[1]))

from reviewflow.extraction.consensus import discrepancies
from reviewflow.extraction.export import extraction_frame
from reviewflow.extraction.forms import shipped_form
from reviewflow.extraction.studies import list_studies, sync_studies
from reviewflow.extraction.values import my_progress, save_value
from reviewflow.store import Store, open_store
from reviewflow.store.models import ExtractionValue, Reviewer
from reviewflow.store.reviewers import sync_reviewers
from reviewflow.workspace import ReviewConfig, ReviewerConfig
from tests.extraction.helpers import build_screened_review, pritz_counts

PEOPLE = [ReviewerConfig("reviewer1"), ReviewerConfig("reviewer2"),
          ReviewerConfig("adjudicator", "adjudicator")]  # fmt: skip
SAMPLE = {
    "country": "Japan", "design": "retrospective", "centres": "3", "mean_age": "67.5",
    "nihss_mean": "16", "nihss_sd": "5.2", "occlusion_site": "M1", "stent_device": "Solitaire",
    "angioplasty": "yes", "gp_inhibitor": "no", "antiplatelet": "aspirin + clopidogrel",
}  # fmt: skip


def fill(store: Store, studies: list[int]) -> None:
    form = shipped_form()
    counts = pritz_counts()
    with store.read() as s:
        ids = {r.name: r.id for r in s.exec(select(Reviewer)).all()}
    rows = []
    for i, sid in enumerate(studies):
        _, x, n = counts[i % len(counts)]
        values = dict(SAMPLE, patients=str(n))
        for o in form.outcomes:
            values[f"outcome.{o.key}.events"], values[f"outcome.{o.key}.total"] = str(x), str(n)
        for j, (key, value) in enumerate(values.items()):
            rows.append(
                {"study_id": sid, "reviewer_id": ids["reviewer1"], "field": key, "value": value}
            )
            other = value if (i * 20 + j) % 20 else value + "0"  # one field in twenty differs
            rows.append(
                {"study_id": sid, "reviewer_id": ids["reviewer2"], "field": key, "value": other}
            )
    with store.write() as s:
        s.execute(insert(ExtractionValue), rows)


def median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


async def tui_edit_ms(store: Store, presses: int) -> tuple[float, float]:
    from textual.widgets import Input

    from reviewflow.tui.extract_app import ExtractApp, StudyScreen

    form = shipped_form()
    app = ExtractApp(store, form, reviewer="reviewer1")
    times = []
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, StudyScreen)
        field = app.screen.query_one("#field-centres")
        for i in range(presses):
            field.query_one(Input).focus()
            await pilot.pause()
            t = time.perf_counter()
            await pilot.press("ctrl+a", "ctrl+k", *str(i + 1), "tab")  # select, clear, type, leave
            await app.workers.wait_for_complete()
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


async def bare_input_ms(presses: int) -> tuple[float, float]:
    """The same key presses into a bare Textual Input: Pilot's own cost on this machine."""
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Input(id="a")
            yield Input(id="b")

    app = Bare()
    times = []
    async with app.run_test(size=(140, 45)) as pilot:
        for i in range(presses):
            app.query_one("#a", Input).focus()
            await pilot.pause()
            t = time.perf_counter()
            await pilot.press("ctrl+a", "ctrl+k", *str(i + 1), "tab")
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--db")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-extraction-"))
    url = args.db or f"sqlite:///{folder / 'bench.sqlite'}"
    store = open_store(url, create=True)
    sync_reviewers(store, ReviewConfig("Benchmark", reviewers=PEOPLE))
    t = time.perf_counter()
    build_screened_review(store, n=args.studies + 1, included=args.studies)
    sync_studies(store, 2)
    studies = [s.id for s in list_studies(store, 2)]
    fill(store, studies)
    build_s = time.perf_counter() - t
    form = shipped_form()

    print(f"machine: {platform.machine()} {platform.processor() or ''}, {platform.python_version()}, "
          f"{store.display_url.split(':')[0]}")  # fmt: skip
    print(
        f"review: {len(studies)} studies x {len(form.fields)} fields x 2 reviewers (built in {build_s:.1f} s)"
    )
    med, p95 = median_ms(lambda: my_progress(store, "reviewer1", form, studies), 10)
    print(f"study list progress (one reviewer, all studies): median {med:.1f} ms, p95 {p95:.1f} ms")
    found: list[object] = []
    med, p95 = median_ms(lambda: found.append(len(discrepancies(store, form))), 5)
    print(f"discrepancy list ({found[-1]} fields differ): median {med:.1f} ms, p95 {p95:.1f} ms")
    med, p95 = median_ms(lambda: extraction_frame(store, form), 5)
    print(f"export frame (wide, {len(studies)} rows): median {med:.1f} ms, p95 {p95:.1f} ms")
    n = 0

    def one_save() -> None:
        nonlocal n
        n += 1
        save_value(store, "reviewer1", form, studies[n % len(studies)], "centres", str(n))

    med, p95 = median_ms(one_save, args.saves)
    print(
        f"save_value (one committed, audited value): median {med:.2f} ms, p95 {p95:.2f} ms ({args.saves} saves)"
    )
    med, p95 = asyncio.run(tui_edit_ms(store, 50))
    base, _ = asyncio.run(bare_input_ms(50))
    print(
        f"TUI field edit -> committed (Pilot, 140x45; select, clear, type, Tab): median {med:.1f} ms, "
        f"p95 {p95:.1f} ms (50 edits); the same keys into a bare Input: median {base:.1f} ms "
        f"(ratio {med / base:.1f})"
    )
    store.dispose()


if __name__ == "__main__":
    main()
