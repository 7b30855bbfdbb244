"""Concurrency figure: two screeners deciding thousands of records while a big import runs, all
three processes on one SQLite file (WAL).

The review holds the real NSAIDs records imported --copies times (13 copies: 5,109 records).
Two processes (``tests/screening/drivers.py core``, the core ``decide`` the screening app calls
on a key press) each decide every title/abstract record and then revise every fourth, printing
each change as it is committed; meanwhile ``reviewflow import`` stores a generated PubMed XML
file of --records records (bench_import's file). Counted afterwards: changes printed vs the
decisions and audit rows stored (0 lost), the import's records (all), every process's stderr
for "database is locked" (0 reaching a user), and ``integrity_check``.

    .venv/bin/python benchmarks/bench_concurrent.py [--copies 13] [--records 20000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlmodel import func, select  # noqa: E402

from reviewflow.store import open_store  # noqa: E402
from reviewflow.store.models import AuditEntry, Record  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def main() -> None:
    from bench_import import build_file

    from tests.screening.drivers import expected
    from tests.screening.test_concurrency import decisions_by, prepared

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=13)
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="reviewflow-concurrent-"))
    root = folder / "review"
    subprocess.run([sys.executable, "-m", "reviewflow", "init", str(root)], check=True,
                   capture_output=True)  # fmt: skip
    url = f"sqlite:///{root / 'db' / 'reviewflow.sqlite'}"
    ids = prepared(url, copies=args.copies)
    big = folder / "big.xml"
    build_file(big, args.records)
    go = folder / "go"
    screeners = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.screening.drivers", "core", url, who, str(go)],
            cwd=ROOT,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for who in ("reviewer1", "reviewer2")
    ]
    while not all((folder / f"ready-{w}").exists() for w in ("reviewer1", "reviewer2")):
        time.sleep(0.05)
    t0 = time.perf_counter()
    go.touch()
    time.sleep(2)  # both screeners are writing when the import starts
    importer = subprocess.Popen(
        [sys.executable, "-m", "reviewflow", "import", str(big), "--source", "Embase"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    imp_out, imp_err = importer.communicate()
    t_import = time.perf_counter() - t0
    outs = [p.communicate() for p in screeners]
    elapsed = time.perf_counter() - t0
    errors = [err for _out, err in outs] + [imp_err]
    locked = sum(e.lower().count("database is locked") for e in errors)
    changes = [len(out.splitlines()) for out, _err in outs]
    final = {i: expected(n, n % 4 == 0) for n, i in enumerate(ids)}
    found = decisions_by(url)
    lost = sum(
        sum(1 for i, d in final.items() if found[w].get(i) != d) for w in ("reviewer1", "reviewer2")
    )
    store = open_store(url)
    with store.read() as s:
        audit = Counter(s.exec(select(AuditEntry.actor)).all())
        records = s.exec(select(func.count()).select_from(Record)).one()
        integrity = s.connection().exec_driver_sql("PRAGMA integrity_check").scalar()
    store.dispose()
    print(f"records to screen: {len(ids):,}; import file: {args.records:,} records "
          f"({big.stat().st_size / 1e6:.0f} MB)")  # fmt: skip
    print(f"screeners: exit {[p.returncode for p in screeners]}, changes committed and shown "
          f"{changes}, audit rows {[audit['reviewer1'], audit['reviewer2']]}; "
          f"decisions lost or wrong: {lost}")  # fmt: skip
    print(
        f"import: exit {importer.returncode} after {t_import:.1f} s ({imp_out.strip()}); "
        f"records in the review: {records:,} (expected {len(ids) + args.records:,})"
    )
    print(f"'database is locked' on any stderr: {locked}; other stderr lines: "
          f"{sum(len(e.splitlines()) for e in errors)}; integrity_check: {integrity}; "
          f"total {elapsed:.1f} s")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    shutil.rmtree(folder, ignore_errors=True)
    ok = (not lost and not locked and importer.returncode == 0
          and all(p.returncode == 0 for p in screeners) and integrity == "ok"
          and records == len(ids) + args.records)  # fmt: skip
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
