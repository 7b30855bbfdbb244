"""Deduplication benchmark: reviewflow against bib-dedupe 0.11 on the labelled sets, and
reviewflow alone on a generated 100,000-record corpus (time, accuracy, peak memory).

    .venv/bin/pip install bib-dedupe==0.11.0        # the "bench" dependency group
    .venv/bin/python benchmarks/bench_dedup.py [--repeats 3] [--records 100000] [--skip-large]

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewflow.acquire.readers import read_file  # noqa: E402
from reviewflow.dedup.evaluate import pairwise, read_true_groups  # noqa: E402
from reviewflow.dedup.pipeline import deduplicate  # noqa: E402

SETS = ROOT / "tests" / "data" / "dedup"
NAMES = ("cytology_screening", "haematology", "special_cases")


def run_reviewflow(name: str, repeats: int) -> tuple[float, object, int]:
    records = read_file(SETS / name / "records_pre_merged.csv", mapping={"source_key": "ID"})
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = deduplicate(records)
        times.append(time.perf_counter() - start)
    ids = [r.source_key for r in records]
    groups = [[ids[i] for i in g] for g in result.groups if len(g) > 1]
    metrics = pairwise(groups, read_true_groups(SETS / name / "merged_record_ids.csv"))
    return statistics.median(times), metrics, len(result.maybe)


def run_bib_dedupe(name: str, repeats: int) -> tuple[float, object, int] | None:
    try:
        import pandas as pd
        from bib_dedupe.bib_dedupe import block, cluster, match, prep
    except ImportError:
        return None
    frame = pd.read_csv(SETS / name / "records_pre_merged.csv")
    times = []
    groups: list[list[str]] = []
    maybe = 0
    for _ in range(repeats):
        start = time.perf_counter()
        prepared = prep(frame.copy(), verbosity_level=0)
        matched = match(block(prepared, verbosity_level=0), verbosity_level=0)
        groups = cluster(matched, verbosity_level=0)
        times.append(time.perf_counter() - start)
        maybe = int((matched["duplicate_label"] == "maybe").sum())
    metrics = pairwise(groups, read_true_groups(SETS / name / "merged_record_ids.csv"))
    return statistics.median(times), metrics, maybe


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/dedup100k"))
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()

    print(f"{'set':<20}{'tool':<12}{'median s':>9}{'precision':>10}{'sensitiv.':>10}"
          f"{'false':>7}{'missed':>7}{'maybe':>7}")  # fmt: skip
    total_rf = total_bd = 0.0
    for name in NAMES:
        rows = [("reviewflow", run_reviewflow(name, args.repeats))]
        bd = run_bib_dedupe(name, args.repeats)
        if bd is not None:
            rows.append(("bib-dedupe", bd))
        for tool, (seconds, m, maybe) in rows:
            print(f"{name:<20}{tool:<12}{seconds:>9.2f}{m.precision:>10.4f}"  # type: ignore[attr-defined]
                  f"{m.sensitivity:>10.4f}{m.false_merges:>7}{m.missed:>7}{maybe:>7}")  # type: ignore[attr-defined]  # fmt: skip
        total_rf += rows[0][1][0]
        total_bd += rows[1][1][0] if bd is not None else 0.0
    if total_bd:
        print(f"all sets: reviewflow {total_rf:.2f} s, bib-dedupe {total_bd:.2f} s, "
              f"reviewflow {total_bd / total_rf:.1f}x faster")  # fmt: skip
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
