"""Deduplication benchmark: reviewflow against bib-dedupe 0.11 on the labelled sets and on a
generated corpus with the export faults of issue 15 (both tools in one run: automatic merges
and the manual queue), and reviewflow alone on a generated 100,000-record corpus (time,
accuracy, peak memory).

    .venv/bin/pip install bib-dedupe==0.11.0        # the "bench" dependency group
    .venv/bin/python benchmarks/bench_dedup.py [--repeats 3] [--records 100000] [--skip-large]
        [--noisy-records 5000] [--export-noise 0.3]

Both tools get the same records already in memory and are timed from there to duplicate
groups (bib-dedupe: prep → block → match → cluster, on all cores; reviewflow: one process,
one core). Accuracy is pairwise against the labelled groups. The large corpus runs in a child
process (read + dedup of the CSV, as `reviewflow dedup` does) so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewflow.acquire.readers import read_file  # noqa: E402
from reviewflow.dedup.evaluate import (  # noqa: E402
    PairwiseMetrics,
    pairs_of,
    pairwise,
    read_true_groups,
)
from reviewflow.dedup.pipeline import deduplicate  # noqa: E402

SETS = ROOT / "tests" / "data" / "dedup"
NAMES = ("cytology_screening", "haematology", "special_cases")


@dataclass(frozen=True)
class Run:
    """One tool on one set: median time, automatic merges against the truth, and the manual
    queue (pairs a person is asked about; ``queued_true`` of them are true duplicates not
    already merged, so ``with_queue`` is the sensitivity once a person confirms those)."""

    seconds: float
    metrics: PairwiseMetrics
    queued: int
    queued_true: int

    @property
    def with_queue(self) -> float:
        m = self.metrics
        return (m.correct_pairs + self.queued_true) / m.true_pairs if m.true_pairs else 1.0


def _run(seconds: list[float], groups: list[list[str]], queue: set[tuple[str, str]],
         truth_path: Path) -> Run:  # fmt: skip
    truth = read_true_groups(truth_path)
    merged, true = pairs_of(groups), pairs_of(truth)
    queued_true = len((queue & true) - merged)
    return Run(statistics.median(seconds), pairwise(groups, truth), len(queue), queued_true)


def run_reviewflow(records_csv: Path, truth: Path, repeats: int) -> Run:
    records = read_file(records_csv, mapping={"source_key": "ID"})
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = deduplicate(records)
        times.append(time.perf_counter() - start)
    ids = [r.source_key for r in records]
    groups = [[ids[i] for i in g] for g in result.groups if len(g) > 1]
    queue = {(min(ids[p.a], ids[p.b]), max(ids[p.a], ids[p.b])) for p in result.maybe}
    return _run(times, groups, queue, truth)


def run_bib_dedupe(records_csv: Path, truth: Path, repeats: int) -> Run | None:
    try:
        import pandas as pd
        from bib_dedupe.bib_dedupe import block, cluster, match, prep
    except ImportError:
        return None
    frame = pd.read_csv(records_csv)
    times = []
    groups: list[list[str]] = []
    queue: set[tuple[str, str]] = set()
    for _ in range(repeats):
        start = time.perf_counter()
        prepared = prep(frame.copy(), verbosity_level=0)
        matched = match(block(prepared, verbosity_level=0), verbosity_level=0)
        groups = cluster(matched, verbosity_level=0)
        times.append(time.perf_counter() - start)
        maybe = matched[matched["duplicate_label"] == "maybe"]
        pairs = zip(maybe["ID_1"], maybe["ID_2"], strict=True)
        queue = {(min(a, b), max(a, b)) for a, b in pairs}
    return _run(times, groups, queue, truth)


LARGE_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from reviewflow.acquire.readers import read_file
from reviewflow.dedup.evaluate import pairwise, read_true_groups
from reviewflow.dedup.pipeline import deduplicate
from pathlib import Path
folder = Path({folder!r})
start = time.perf_counter()
records = read_file(folder / "records.csv", mapping={{"source_key": "ID"}})
read = time.perf_counter() - start
result = deduplicate(records)
total = time.perf_counter() - start
ids = [r.source_key for r in records]
m = pairwise([[ids[i] for i in g] for g in result.groups if len(g) > 1],
             read_true_groups(folder / "merged_record_ids.csv"))
print(json.dumps(dict(records=len(records), read=read, total=total, scored=result.pairs_scored,
    maybe=len(result.maybe), precision=m.precision, sensitivity=m.sensitivity,
    false_merges=m.false_merges, missed=m.missed, true_pairs=m.true_pairs,
    peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def large(records: int, folder: Path) -> dict[str, float]:
    if not (folder / "records.csv").exists():
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "make_dedup_corpus.py"),
             "--records", str(records), "--out", str(folder)],
            check=True,
        )  # fmt: skip
    code = LARGE_CHILD.format(root=str(ROOT), folder=str(folder))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


def make_noisy(records: int, noise: float, folder: Path) -> None:
    if not (folder / "records.csv").exists():
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "make_dedup_corpus.py"),
             "--records", str(records), "--export-noise", str(noise), "--out", str(folder)],
            check=True, capture_output=True,
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/dedup100k"))
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--noisy-records", type=int, default=5_000)
    parser.add_argument("--export-noise", type=float, default=0.3)
    args = parser.parse_args()

    noisy = Path(f"/tmp/dedup_noisy_{args.noisy_records}_{args.export_noise}")
    make_noisy(args.noisy_records, args.export_noise, noisy)
    sets = [(n, SETS / n / "records_pre_merged.csv", SETS / n / "merged_record_ids.csv")
            for n in NAMES]  # fmt: skip
    sets.append(("generated noise", noisy / "records.csv", noisy / "merged_record_ids.csv"))
    print(
        "automatic: merged without a person; queue: pairs sent to a person (true: of them "
        "true duplicates not merged); +queue: sensitivity once a person confirms those"
    )
    print(f"{'set':<20}{'tool':<12}{'median s':>9}{'precision':>10}{'sensitiv.':>10}"
          f"{'false':>7}{'missed':>7}{'queue':>7}{'true':>6}{'+queue':>8}")  # fmt: skip
    total_rf = total_bd = 0.0
    for name, records_csv, truth in sets:
        rows = [("reviewflow", run_reviewflow(records_csv, truth, args.repeats))]
        bd = run_bib_dedupe(records_csv, truth, args.repeats)
        if bd is not None:
            rows.append(("bib-dedupe", bd))
        for tool, run in rows:
            m = run.metrics
            print(f"{name:<20}{tool:<12}{run.seconds:>9.2f}{m.precision:>10.4f}"
                  f"{m.sensitivity:>10.4f}{m.false_merges:>7}{m.missed:>7}{run.queued:>7}"
                  f"{run.queued_true:>6}{run.with_queue:>8.4f}")  # fmt: skip
        if name in NAMES:
            total_rf += rows[0][1].seconds
            total_bd += bd.seconds if bd is not None else 0.0
    if total_bd:
        print(f"labelled sets: reviewflow {total_rf:.2f} s, bib-dedupe {total_bd:.2f} s, "
              f"reviewflow {total_bd / total_rf:.1f}x faster")  # fmt: skip
    else:
        print(
            "bib-dedupe not installed (.venv/bin/pip install bib-dedupe==0.11.0): its rows "
            "are missing"
        )
    if not args.skip_large:
        r = large(args.records, args.corpus)
        print(
            f"generated corpus: {r['records']:.0f} records, read {r['read']:.1f} s, read+dedup "
            f"{r['total']:.1f} s, {r['scored']:.0f} pairs compared, peak RSS "
            f"{r['peak_rss_mb']:.0f} MB, precision {r['precision']:.5f}, sensitivity "
            f"{r['sensitivity']:.4f} ({r['false_merges']:.0f} false merges, {r['missed']:.0f} "
            f"of {r['true_pairs']:.0f} pairs missed), {r['maybe']:.0f} maybe pairs"
        )


if __name__ == "__main__":
    main()
