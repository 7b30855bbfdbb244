"""Screening prioritisation benchmark: `reviewflow simulate` against ASReview LAB's default model
(`asreview simulate`, ELAS u4) on the labelled sets in ../shared/data/screening.

    python3 -m venv .venv-asreview && .venv-asreview/bin/pip install asreview==3.0.8
    .venv/bin/python benchmarks/bench_prioritise.py [--seeds 1 2 3] [--asreview PATH]
    .venv/bin/python benchmarks/bench_prioritise.py --no-asreview --seeds $(seq 1 30)
    .venv/bin/python benchmarks/bench_prioritise.py --scale 100000

ASReview lives in its own virtual environment (it pins rispy and pandas below reviewflow's).
Each run: the seed picks one included and one excluded prior (the same records for both tools);
both commands run as a person would run them (a fresh process, start-up included, wall clock);
both orders are scored by the same functions (WSS@95 and recall after 10 % of the records,
priors counted as screened). The stopping rule's columns are reviewflow's: records screened when
it stops and the recall then; with --no-asreview the runs are in-process, to count how often the
rule reaches its target over many seeds.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewflow.screening.simulation import read_labelled, recall_at, replay, wss  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "screening"
SETS = ("Cohen2006_ACEInhibitors", "Cohen2006_ADHD", "Cohen2006_NSAIDS")
LABEL = "label_included"


def pick_priors(labels: list[bool], seed: int) -> list[int]:
    rng = random.Random(seed)
    included = [i for i, label in enumerate(labels) if label]
    excluded = [i for i, label in enumerate(labels) if not label]
    return [rng.choice(included), rng.choice(excluded)]


def run_reviewflow(path: Path, ids: list[str], priors: list[int], seed: int, tmp: Path) -> dict:
    out = tmp / "order.csv"
    cmd = [str(ROOT / ".venv" / "bin" / "reviewflow"), "simulate", str(path),
           "--id-column", "record_id", "--label-column", LABEL, "--seed", str(seed),
           "--out", str(out), "--json"]  # fmt: skip
    for i in priors:
        cmd += ["--prior", ids[i]]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    with out.open(newline="") as fh:
        labels = [row["label"] == "1" for row in csv.DictReader(fh)]
    stop = json.loads(done.stdout)["stopping"]
    return {"labels": labels, "seconds": seconds, "stop": stop}


def run_asreview(exe: Path, path: Path, priors: list[int], seed: int, tmp: Path) -> dict:
    project = tmp / "run.asreview"
    project.unlink(missing_ok=True)
    cmd = [str(exe), "simulate", str(path), "--prior-idx", *map(str, priors),
           "--seed", str(seed), "--n-stop", "-1", "-o", str(project)]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=tmp)
    seconds = time.perf_counter() - start
    with zipfile.ZipFile(project) as z:
        z.extract("results.db", tmp)
    db = sqlite3.connect(tmp / "results.db")
    labels = [bool(x) for (x,) in db.execute("SELECT label FROM results ORDER BY rowid")]
    first = [r for (r,) in db.execute("SELECT record_id FROM results ORDER BY rowid LIMIT 2")]
    db.close()
    (tmp / "results.db").unlink()
    return {"labels": labels, "seconds": seconds, "first": first}


def scale(n: int) -> None:
    """What the screening TUI's background worker pays on a big review: the ACE inhibitors
    texts repeated to ``n`` records (each copy numbered, so no two are equal), TF-IDF once, then
    one refit on 500 decisions (10 % includes) and the new order of the rest."""
    from reviewflow.screening.ranking import Ranker

    data = read_labelled(DATA / "Cohen2006_ACEInhibitors.csv", "record_id", LABEL)
    texts = [f"{data.texts[i % len(data.texts)]} copy{i // len(data.texts)}" for i in range(n)]
    start = time.perf_counter()
    ranker = Ranker(texts)
    features = time.perf_counter() - start
    labels = {i: i % 10 == 0 for i in range(500)}
    start = time.perf_counter()
    ranker.fit(labels)
    order = ranker.order(list(range(500, n)))
    refit = time.perf_counter() - start
    print(f"{n:,} records: TF-IDF {features:.1f} s ({ranker.features.shape[1]:,} terms, "
          f"{ranker.features.nnz:,} non-zeros); refit on 500 decisions + order of "
          f"{len(order):,}: {refit:.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--asreview", type=Path, default=ROOT / ".venv-asreview/bin/asreview")
    parser.add_argument("--no-asreview", action="store_true", help="reviewflow only, in-process")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument("--scale", type=int, help="only time the model on this many records")
    args = parser.parse_args()
    if args.scale:
        scale(args.scale)
        return
    with_asreview = not args.no_asreview
    if with_asreview and not args.asreview.exists():
        sys.exit(f"{args.asreview} not found: install ASReview (see the docstring) or pass "
                 "--no-asreview")  # fmt: skip
    runs = []
    head = f"{'set':<24}{'seed':>5}{'WSS@95':>8}{'R@10%':>7}{'s/run':>7}{'stop at':>9}{'recall':>7}"
    print(head + (f"{'ASR WSS':>9}{'R@10%':>7}{'s/run':>7}" if with_asreview else ""))
    for name in SETS:
        path = DATA / f"{name}.csv"
        data = read_labelled(path, "record_id", LABEL)
        for seed in args.seeds:
            priors = pick_priors(data.labels, seed)
            with tempfile.TemporaryDirectory() as tmp:
                if with_asreview:
                    ours = run_reviewflow(path, data.ids, priors, seed, Path(tmp))
                else:
                    start = time.perf_counter()
                    sim = replay(data.texts, data.labels, priors, seed)
                    ours = {"labels": sim.labels, "seconds": time.perf_counter() - start,
                            "stop": {**sim.stopping.as_dict(), "recall_at_stop": sim.stop_recall,
                                     "screened_at_stop": sim.stopping.ranked_screened
                                     + sim.stopping.sampled}}  # fmt: skip
                theirs = run_asreview(args.asreview, path, priors, seed, Path(tmp)) if (
                    with_asreview) else None  # fmt: skip
            run = {"set": name, "seed": seed, "priors": [data.ids[i] for i in priors],
                   "wss95": wss(ours["labels"]), "recall10": recall_at(ours["labels"]),
                   "seconds": ours["seconds"], "stop_at": ours["stop"]["screened_at_stop"],
                   "stop_recall": ours["stop"]["recall_at_stop"],
                   "records": len(data.ids)}  # fmt: skip
            line = (f"{name:<24}{seed:>5}{run['wss95']:>8.3f}{run['recall10']:>7.3f}"
                    f"{run['seconds']:>7.2f}{run['stop_at']:>9}{run['stop_recall']:>7.3f}")  # fmt: skip
            if theirs is not None:
                assert theirs["first"] == priors, (theirs["first"], priors)
                assert len(theirs["labels"]) == len(data.ids)
                run.update(asr_wss95=wss(theirs["labels"]), asr_recall10=recall_at(theirs["labels"]),
                           asr_seconds=theirs["seconds"])  # fmt: skip
                line += (f"{run['asr_wss95']:>9.3f}{run['asr_recall10']:>7.3f}"
                         f"{run['asr_seconds']:>7.2f}")  # fmt: skip
            print(line, flush=True)
            runs.append(run)
    print()
    for name in (*SETS, "all"):
        mine = [r for r in runs if name in (r["set"], "all")]
        parts = [f"{name:<24} WSS@95 {statistics.mean(r['wss95'] for r in mine):.3f}",
                 f"R@10% {statistics.mean(r['recall10'] for r in mine):.3f}",
                 f"{statistics.mean(r['seconds'] for r in mine):.2f} s/run"]  # fmt: skip
        if with_asreview:
            parts += [f"| ASReview WSS@95 {statistics.mean(r['asr_wss95'] for r in mine):.3f}",
                      f"R@10% {statistics.mean(r['asr_recall10'] for r in mine):.3f}",
                      f"{statistics.mean(r['asr_seconds'] for r in mine):.2f} s/run"]  # fmt: skip
        print("  ".join(parts))
    reached = sum(r["stop_recall"] >= 0.95 for r in runs)
    saved = statistics.mean(1 - r["stop_at"] / r["records"] for r in runs)
    print(f"stopping rule (recall target 0.95, confidence 0.95): target reached in {reached} of "
          f"{len(runs)} runs ({reached / len(runs):.1%}); mean share left unscreened {saved:.3f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
