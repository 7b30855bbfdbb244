"""Benchmark: ``reviewflow import`` of a large PubMed XML file against Bio.Entrez.read.

Builds a PubMed XML file of N records (default 20,000) by cycling the real efetch records in
tests/data/pubmed (every PubmedArticle and PubmedBookArticle, each copy with a new PMID), then,
in one run and on the same file:

- reviewflow's reader alone (``read_file``),
- ``reviewflow import`` in-process (read + store into a fresh SQLite workspace, one transaction),
- ``reviewflow import`` as a user runs it (a subprocess, Python start-up included),
- ``Bio.Entrez.read(validate=False)`` parsing the file (no storing),

and prints records/s (median of --repeat runs) and the ratios.

    .venv/bin/python benchmarks/bench_import.py [--records 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
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


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times = []
    result: object = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the generated XML file here")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from Bio import Entrez

    from reviewflow.acquire.readers import read_file
    from reviewflow.cli.importing import import_file
    from reviewflow.store import open_store

    work = Path(tempfile.mkdtemp(prefix="bench_import_"))
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

        t_read, records = timed(lambda: read_file(xml), args.repeat)
        assert isinstance(records, list) and len(records) == n

        def one_import() -> int:
            ws = Path(tempfile.mkdtemp(dir=work))
            store = open_store(f"sqlite:///{ws / 'review.sqlite'}", create=True)
            try:
                result = import_file(store, xml)
            finally:
                store.dispose()
            shutil.rmtree(ws)
            return result.added

        t_import, added = timed(one_import, args.repeat)
        assert added == n, added

        exe = Path(sys.executable).parent / "reviewflow"

        def cli_import() -> None:
            ws = Path(tempfile.mkdtemp(dir=work)) / "review"
            subprocess.run([str(exe), "init", str(ws)], check=True, capture_output=True)
            start = time.perf_counter()
            subprocess.run(
                [str(exe), "-w", str(ws), "import", str(xml)], check=True, capture_output=True
            )
            times_cli.append(time.perf_counter() - start)
            shutil.rmtree(ws.parent)

        times_cli: list[float] = []
        for _ in range(args.repeat):
            cli_import()
        t_cli = statistics.median(times_cli)

        def biopython() -> int:
            with xml.open("rb") as handle:
                data = Entrez.read(handle, validate=False)
            return len(data["PubmedArticle"]) + len(data["PubmedBookArticle"])

        t_bio, bio_n = timed(biopython, args.repeat)
        assert bio_n == n, bio_n

        rows = [
            ("reviewflow read_file (parse only)", t_read),
            ("reviewflow import, in-process (parse + store)", t_import),
            ("reviewflow import, CLI subprocess (parse + store)", t_cli),
            ("Bio.Entrez.read(validate=False) (parse only)", t_bio),
        ]
        for label, seconds in rows:
            print(f"{label:52s} {seconds:7.2f} s  {n / seconds:8.0f} records/s")
        print(f"ratio import (in-process) / Biopython parse: {t_bio / t_import:.1f}x")
        print(f"ratio import (CLI) / Biopython parse:        {t_bio / t_cli:.1f}x")
        print(f"store share of in-process import: {(t_import - t_read) / t_import:.0%}")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average at the end (1/5/15 min): {load}  (others' work slows every row alike)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
