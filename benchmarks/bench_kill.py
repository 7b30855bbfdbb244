"""Crash figures: ``kill -9`` at random moments, then count what was lost.

``screening``: the real screening app (headless, ``tests/screening/drivers.py app``) presses
i / e / m on a SQLite review of the real NSAIDs records and prints every decision it reports
saved (what the person sees confirmed). It is killed with SIGKILL after a random 0.2-4 s, then
restarted, --kills times. After each kill: the audit rows written since the start must be the
confirmed changes, plus at most one change in flight (committed, not yet on screen); every
confirmed decision must be the stored one unless that in-flight change replaced it;
``PRAGMA integrity_check`` must say ok.

``import``: ``reviewflow import`` of a generated PubMed XML file of --records records (the real
fixture records cycled, as bench_import builds it) is killed with SIGKILL at a random moment in
[0, 1.2 × its duration] (re-measured whenever an import finishes first), --kills times. After
each kill the review must hold all of the file's records or none, no half-written search run,
and pass ``integrity_check``; a last import must then succeed.

    .venv/bin/python benchmarks/bench_kill.py screening [--kills 50] [--seed 1]
    .venv/bin/python benchmarks/bench_kill.py import [--kills 20] [--records 5000] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlmodel import col, func, select  # noqa: E402

from reviewflow.store import open_store  # noqa: E402
from reviewflow.store.models import AuditEntry, Decision, Record, SearchRun  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _integrity(url: str) -> str:
    store = open_store(url)
    try:
        with store.read() as s:
            return str(s.connection().exec_driver_sql("PRAGMA integrity_check").scalar())
    finally:
        store.dispose()


def _collect(stream: Any, lines: list[str], first: threading.Event) -> None:
    for line in stream:
        lines.append(line)
        first.set()


def screening(kills: int, seed: int) -> int:
    from tests.screening.test_concurrency import prepared

    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="reviewflow-kill-"))
    url = f"sqlite:///{folder / 'review.sqlite'}"
    prepared(url, copies=1)
    last: dict[int, str] = {}  # record → the decision last confirmed on screen
    confirmed = lost = in_flight = 0
    bad_integrity = 0
    audit_seen = 0
    for k in range(kills):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.screening.drivers", "app", url, "reviewer1"],
            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        lines: list[str] = []
        first = threading.Event()
        reader = threading.Thread(target=_collect, args=(proc.stdout, lines, first), daemon=True)
        reader.start()
        first.wait(timeout=120)
        time.sleep(rng.uniform(0.2, 4.0))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join(timeout=10)
        run = [(int(r), d) for r, d in (line.split() for line in lines if line.strip())]
        confirmed += len(run)
        store = open_store(url)
        with store.read() as s:
            audit = s.exec(
                select(AuditEntry.record_id)
                .where(AuditEntry.action == "decision.set", col(AuditEntry.id) > audit_seen)
                .order_by(col(AuditEntry.id))
            ).all()
            audit_seen = s.exec(select(func.max(AuditEntry.id))).one() or audit_seen
            stored = {d.record_id: d.decision for d in s.exec(select(Decision)).all()}
        store.dispose()
        for rid, decision in run:
            last[rid] = decision
        extra = len(audit) - len(run)
        flight = audit[-1] if extra == 1 else None
        if extra == 1:
            in_flight += 1
            last[flight] = stored[flight]  # the change committed as the process died
        missing = [r for r, d in last.items() if stored.get(r) != d]
        lost += max(0, -extra) + len(missing)
        integrity = _integrity(url)
        bad_integrity += integrity != "ok"
        print(f"kill {k + 1:3}: {len(run):4} confirmed, {extra:+d} audit rows beyond them, "
              f"{len(missing)} differ, integrity {integrity}", flush=True)  # fmt: skip
    print(f"screening app killed {kills} times (SIGKILL, random 0.2-4 s after the first "
          f"decision): {confirmed} decisions confirmed on screen, {lost} lost; {in_flight} "
          f"changes in flight committed without being shown; integrity_check not ok: "
          f"{bad_integrity}")  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)
    return 1 if lost or bad_integrity else 0


def _counts(url: str) -> tuple[int, int, int]:
    store = open_store(url)
    try:
        with store.read() as s:
            records = s.exec(select(func.count()).select_from(Record)).one()
            runs = s.exec(select(func.count()).select_from(SearchRun)).one()
            done = s.exec(
                select(func.count()).select_from(SearchRun).where(SearchRun.status == "complete")
            ).one()
        return records, runs, done
    finally:
        store.dispose()


def importing(kills: int, records: int, seed: int) -> int:
    from bench_import import build_file

    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="reviewflow-kill-import-"))
    big = folder / "big.xml"
    build_file(big, records)
    n = records
    root = folder / "review"
    cli = [sys.executable, "-m", "reviewflow"]
    subprocess.run([*cli, "init", str(root)], check=True, capture_output=True)
    url = f"sqlite:///{root / 'db' / 'reviewflow.sqlite'}"

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([*cli, "import", str(big), "--source", "PubMed"], cwd=root,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip

    # how long one import takes here (then undone: a fresh review for the kills)
    t0 = time.perf_counter()
    assert start().wait() == 0
    duration = time.perf_counter() - t0
    (root / "db" / "reviewflow.sqlite").unlink()
    for extra in ("-wal", "-shm"):
        Path(f"{root / 'db' / 'reviewflow.sqlite'}{extra}").unlink(missing_ok=True)
    subprocess.run([*cli, "init", str(root)], check=True, capture_output=True)

    outcomes = {"none": 0, "all": 0, "partial": 0}
    bad = killed = 0
    for k in range(kills):
        proc = start()
        delay = rng.uniform(0, 1.2 * duration)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < delay and proc.poll() is None:
            time.sleep(0.01)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        else:  # finished first: the load changed; aim the next kills at this duration
            duration = time.perf_counter() - t0
        code = proc.wait()
        killed += code == -signal.SIGKILL  # not finished before the kill
        have, runs, done = _counts(url)
        integrity = _integrity(url)
        if have == 0 and runs == 0:
            state = "none"
        elif have == n and runs == done == 1:
            state = "all"
        else:
            state = "partial"
        outcomes[state] += 1
        bad += integrity != "ok"
        print(f"kill {k + 1:3} at {delay:5.2f} s (exit {code}): {have} records, {runs} runs "
              f"→ {state}; integrity {integrity}", flush=True)  # fmt: skip
        if state == "all":  # start again from an empty review
            (root / "db" / "reviewflow.sqlite").unlink()
            for extra in ("-wal", "-shm"):
                Path(f"{root / 'db' / 'reviewflow.sqlite'}{extra}").unlink(missing_ok=True)
            subprocess.run([*cli, "init", str(root)], check=True, capture_output=True)
    final = start().wait()
    have, runs, done = _counts(url)
    print(f"import of {n:,} records ({big.stat().st_size / 1e6:.0f} MB, {duration:.1f} s "
          f"uninterrupted) killed {kills} times ({killed} before it finished): none {outcomes['none']}, all {outcomes['all']}, "
          f"partial {outcomes['partial']}; integrity_check not ok: {bad}; the import after: "
          f"exit {final}, {have:,} records")  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)
    return 1 if outcomes["partial"] or bad or final or have != n else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("screening")
    s.add_argument("--kills", type=int, default=50)
    s.add_argument("--seed", type=int, default=1)
    i = sub.add_parser("import")
    i.add_argument("--kills", type=int, default=20)
    i.add_argument("--records", type=int, default=5000)
    i.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average before: {load:.1f} on {os.cpu_count()} cores")
    if args.what == "screening":
        code = screening(args.kills, args.seed)
    else:
        code = importing(args.kills, args.records, args.seed)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    sys.exit(code)


if __name__ == "__main__":
    main()
