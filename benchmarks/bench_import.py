"""Benchmark: ``reviewflow import`` of a large PubMed XML file against Bio.Entrez.read.

Builds a PubMed XML file of N records (default 20,000) by cycling the real efetch records in
tests/data/pubmed (every PubmedArticle and PubmedBookArticle, each copy with a new PMID), then,
in one run and on the same file:

- reviewflow's reader alone (``read_file``),
- ``reviewflow import`` in-process (read + store into a fresh SQLite workspace, one transaction),
- ``reviewflow import`` as a user runs it (a subprocess, Python start-up included),
- ``Bio.Entrez.read(validate=False)`` parsing the file (no storing),

and prints records/s and the ratios, from medians of --repeat interleaved rounds, in wall-clock
and in CPU time (user + system, child processes included: the CLI subprocess and the worker
processes that parse a big PubMed XML file while the importing process stores its records).

With ``--postgres`` it also imports in-process into a throw-away PostgreSQL server (Debian's
``postgresql`` binaries, started as the test suite starts one: fsync off, so the figure is
reviewflow's and the driver's work, not the disk's).

    .venv/bin/python benchmarks/bench_import.py [--records 20000] [--repeat 3] [--postgres]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "pubmed"
DOCTYPE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)


def source_records() -> list[etree._Element]:
    """Every efetch record in the fixtures (the 2016 baseline file is another format)."""
    records = []
    for path in sorted(FIXTURES.rglob("*.xml*")):
        if "medline16n" in path.name:
            continue
        tree = etree.parse(str(path))
        if tree.getroot().tag != "PubmedArticleSet":
            continue
        records.extend(tree.getroot().iterchildren("PubmedArticle", "PubmedBookArticle"))
    return records


def build_file(target: Path, n: int) -> int:
    """Write n records cycling the fixtures; PMIDs 90000001… so no two copies share one."""
    records = source_records()
    if not records:
        sys.exit(f"no PubMed XML fixtures under {FIXTURES}")
    with target.open("wb") as out:
        out.write(b'<?xml version="1.0" ?>\n' + DOCTYPE.encode() + b"\n<PubmedArticleSet>\n")
        for i in range(n):
            template = records[i % len(records)]
            pmid = str(90_000_001 + i)
            old = template.findtext(".//PMID") or ""
            element = etree.fromstring(etree.tostring(template))
            for node in element.iter("PMID"):
                if node.text == old:
                    node.text = pmid
            for node in element.iter("ArticleId"):
                if node.get("IdType") == "pubmed" and node.text == old:
                    node.text = pmid
            element.tail = "\n"
            out.write(etree.tostring(element, encoding="utf-8"))
        out.write(b"</PubmedArticleSet>\n")
    return len(records)


def _cpu() -> float:
    """User + system CPU seconds of this process and its finished children."""
    me, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the generated XML file here")
    parser.add_argument("--postgres", action="store_true", help="also import into PostgreSQL")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from Bio import Entrez

    from reviewflow.acquire.importer import import_file
    from reviewflow.acquire.readers import read_file
    from reviewflow.store import open_store

    work = Path(tempfile.mkdtemp(prefix="bench_import_"))
    cleanup: list[Callable[[], None]] = []
    try:
        xml = args.keep or work / "pubmed_bench.xml"
        distinct = build_file(xml, args.records)
        n = args.records
        size_mb = xml.stat().st_size / 1e6
        print(f"file: {n} records ({distinct} distinct real records cycled), {size_mb:.1f} MB")
        print(
            f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; median of {args.repeat} runs"
        )

        def parse_only(_ws: Path) -> None:
            records = read_file(xml)
            assert len(records) == n

        def fresh_store() -> Path:
            ws = Path(tempfile.mkdtemp(dir=work))
            open_store(f"sqlite:///{ws / 'review.sqlite'}", create=True).dispose()
            return ws

        def in_process(ws: Path) -> None:
            store = open_store(f"sqlite:///{ws / 'review.sqlite'}")
            try:
                assert import_file(store, xml).added == n
            finally:
                store.dispose()

        exe = Path(sys.executable).parent / "reviewflow"

        def fresh_workspace() -> Path:
            ws = Path(tempfile.mkdtemp(dir=work)) / "review"
            subprocess.run([str(exe), "init", str(ws)], check=True, capture_output=True)
            return ws

        def cli(ws: Path) -> None:
            subprocess.run(
                [str(exe), "-w", str(ws), "import", str(xml)], check=True, capture_output=True
            )

        def biopython(_ws: Path) -> None:
            with xml.open("rb") as handle:
                data = Entrez.read(handle, validate=False)
            assert len(data["PubmedArticle"]) + len(data["PubmedBookArticle"]) == n

        # label → (untimed set-up giving a fresh workspace, timed work)
        cases: dict[str, tuple[Callable[[], Path], Callable[[Path], None]]] = {
            "reviewflow read_file (parse only)": (lambda: work, parse_only),
            "reviewflow import, in-process (parse + store)": (fresh_store, in_process),
            "reviewflow import, CLI subprocess (parse + store)": (fresh_workspace, cli),
            "Bio.Entrez.read(validate=False) (parse only)": (lambda: work, biopython),
        }
        wall: dict[str, list[float]] = {k: [] for k in cases}
        cpu: dict[str, list[float]] = {k: [] for k in cases}
        # interleaved rounds, so that other people's load on the machine hits every case alike;
        # CPU time (user + sys, children included) is the steadier figure on a shared machine
        for _ in range(args.repeat):
            for label, (setup, case) in cases.items():
                ws = setup()
                gc.collect()
                start, start_cpu = time.perf_counter(), _cpu()
                case(ws)
                wall[label].append(time.perf_counter() - start)
                cpu[label].append(_cpu() - start_cpu)

        print(f"{'':52s} {'wall s':>7s} {'rec/s':>7s} {'CPU s':>7s} {'rec/s':>7s}")
        for label in cases:
            w, c = statistics.median(wall[label]), statistics.median(cpu[label])
            print(f"{label:52s} {w:7.2f} {n / w:7.0f} {c:7.2f} {n / c:7.0f}")
        bio = "Bio.Entrez.read(validate=False) (parse only)"
        for label in list(cases)[:3]:
            ratio_wall = statistics.median(wall[bio]) / statistics.median(wall[label])
            ratio_cpu = statistics.median(cpu[bio]) / statistics.median(cpu[label])
            print(f"Biopython / {label}: {ratio_wall:.1f}x wall, {ratio_cpu:.1f}x CPU")
        for label in list(cases)[1:3]:  # the targets of issue 3, on wall-clock medians
            w = statistics.median(wall[label])
            ratio = statistics.median(wall[bio]) / w
            met = "met" if n / w >= 4000 and ratio >= 8 else "NOT met"
            print(f"target >= 4,000 rec/s and >= 8x Biopython, {label}: {met}")
        if args.postgres:
            from tests.conftest import PostgresServer, _fresh_pg_database, _pg_bindir

            bindir = _pg_bindir()
            if bindir is None:
                sys.exit("--postgres: PostgreSQL binaries not found (Debian package postgresql)")
            server = PostgresServer(bindir)
            server.start()
            cleanup.append(server.stop)

            def fresh_pg() -> str:
                url = _fresh_pg_database(server.url)
                open_store(url, create=True).dispose()
                return url

            def in_process_pg(url: str) -> None:
                store = open_store(url)
                try:
                    assert import_file(store, xml).added == n
                finally:
                    store.dispose()

            # after the other cases, not between them: the server's own work after an import
            # (autovacuum, checkpoints) would slow whatever ran next
            times = []
            for _ in range(args.repeat):
                url = fresh_pg()
                gc.collect()
                start = time.perf_counter()
                in_process_pg(url)
                times.append(time.perf_counter() - start)
            w = statistics.median(times)
            label = "reviewflow import, in-process, PostgreSQL"
            print(f"{label:52s} {w:7.2f} {n / w:7.0f}   (its own rounds, after the others)")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average at the end (1/5/15 min): {load}")
    finally:
        for stop in cleanup:
            stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
