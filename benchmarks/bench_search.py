"""Benchmark: reviewflow's own work in a PubMed search, network excluded.

A fake E-utilities server (in-process, no sockets) holds N records (default 20,000, so the
search is over PubMed's 9,999 cap and is split by date). Its records are the real efetch
records in tests/data/entrez and /work/shared/data/pubmed, cycled, each copy with a new PMID.
``run_search`` then runs end to end into a fresh SQLite database: ESearch (with the date
splitting), EFetch in batches of 500 from the history server, parsing, the short-batch check,
storing records, hits and provenance. Sleeps are skipped, so the time measured is reviewflow's
alone; the script also prints the request count and the floor the NCBI rate limit puts on a
live run (requests / 3 per s, or / 10 per s with an API key).

    .venv/bin/python benchmarks/bench_search.py [--records 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewflow.acquire.entrez.polite import Backoff  # noqa: E402
from reviewflow.acquire.entrez.transport import Reply  # noqa: E402
from reviewflow.acquire.pubmed import Contact, PubMedClient  # noqa: E402
from reviewflow.acquire.search import run_search  # noqa: E402
from reviewflow.acquire.strategy import SavedQuery  # noqa: E402
from reviewflow.store import open_store  # noqa: E402

SOURCES = [ROOT / "tests" / "data" / "entrez", Path("/work/shared/data/pubmed")]
HEAD = (
    b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    b'1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)


def real_records() -> list[etree._Element]:
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    found: dict[str, etree._Element] = {}
    for folder in SOURCES:
        for path in sorted(folder.rglob("*.xml")):
            root = etree.parse(str(path), parser).getroot()
            if root.tag != "PubmedArticleSet":
                continue
            for article in root.iter("PubmedArticle"):
                pmid = article.findtext("MedlineCitation/PMID") or ""
                found.setdefault(pmid, article)
    return list(found.values())


class FakeEutils:
    """ESearch (Count over a date range, IDs up to retmax, a WebEnv per search) and EFetch
    (from a WebEnv by position, or by an ID list) over an in-memory table of records."""

    def __init__(self, n: int) -> None:
        templates = real_records()
        self.bodies: dict[str, bytes] = {}
        self.dates: dict[str, date] = {}
        start = date(2020, 1, 1)
        for i in range(n):
            pmid = str(50_000_000 + i)
            article = templates[i % len(templates)]
            pmid_el = article.find("MedlineCitation/PMID")
            assert pmid_el is not None
            old = pmid_el.text
            pmid_el.text = pmid
            self.bodies[pmid] = etree.tostring(article, encoding="utf-8")
            pmid_el.text = old
            self.dates[pmid] = start + timedelta(days=(i * 730) // n)
        self.history: dict[str, list[str]] = {}
        self.requests = 0
        print(f"{len(templates)} distinct real records cycled into {n:,}")

    def request(
        self, method: str, url: str, *, params: Any = None, data: Any = None, timeout: Any = None
    ) -> Reply:
        self.requests += 1
        sent = dict(params or data or {})
        if url.endswith("esearch.fcgi"):
            lo = _day(sent.get("mindate", "1000/01/01"))
            hi = _day(sent.get("maxdate", "3000/12/31"))
            hits = [p for p, d in self.dates.items() if lo <= d <= hi]
            webenv = f"MCID_bench{len(self.history)}"
            ids = hits[: int(sent["retmax"])]
            self.history[webenv] = ids
            idlist = "".join(f"<Id>{p}</Id>" for p in ids)
            xml = (
                f"<eSearchResult><Count>{len(hits)}</Count><RetMax>{len(ids)}</RetMax>"
                f"<RetStart>0</RetStart><QueryKey>1</QueryKey><WebEnv>{webenv}</WebEnv>"
                f"<IdList>{idlist}</IdList><QueryTranslation>bench</QueryTranslation>"
                "</eSearchResult>"
            )
            return Reply(200, xml.encode())
        if "id" in sent:
            wanted = sent["id"].split(",")
        else:
            start = int(sent["retstart"])
            wanted = self.history[sent["WebEnv"]][start : start + int(sent["retmax"])]
        body = HEAD + b"<PubmedArticleSet>\n" + b"\n".join(self.bodies[p] for p in wanted)
        return Reply(200, body + b"\n</PubmedArticleSet>\n")


def _day(text: str) -> date:
    y, m, d = (int(x) for x in text.split("/"))
    return date(y, m, d)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    times: list[float] = []
    requests = slices = 0
    for _ in range(args.repeat):
        server = FakeEutils(args.records)
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite:///{tmp}/bench.sqlite", create=True)
            client = PubMedClient(
                Contact("bench@example.org"), server, sleep=lambda _s: None,
                backoff=Backoff(attempts=1),
            )  # fmt: skip
            t0 = time.perf_counter()
            report = run_search(store, SavedQuery(name="bench", query="bench"), client)
            times.append(time.perf_counter() - t0)
            store.dispose()
        assert report.records_added == args.records and report.complete, report
        requests, slices = server.requests, report.slices
    median = statistics.median(times)
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} Python {platform.python_version()}"
    )
    print(f"records: {args.records:,}  date slices: {slices}  requests: {requests}")
    print(f"run_search, network excluded: median {median:.2f} s of {args.repeat} "
          f"({', '.join(f'{t:.2f}' for t in times)}) = {args.records / median:,.0f} records/s")  # fmt: skip
    print(f"rate-limit floor of a live run: {requests / 3:.1f} s at 3 requests/s, "
          f"{requests / 10:.1f} s at 10/s (API key)")  # fmt: skip


if __name__ == "__main__":
    main()
