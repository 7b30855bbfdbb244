"""Helpers for the PubMed search tests: replayed sessions, built replies, a fake clock.

Real recordings live in tests/data/entrez (see SOURCES.md there). Where no real recording
exists, a helper here *builds* a reply in the documented format; every such reply says so.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lxml import etree

from reviewflow.acquire.entrez.polite import Backoff
from reviewflow.acquire.entrez.transport import Exchange, ReplayTransport, Reply
from reviewflow.acquire.pubmed import Contact, PubMedClient

DATA = Path(__file__).resolve().parents[1] / "data" / "entrez"
EMAIL = "reviewer@example.org"
API_KEY = "0123456789abcdef0123456789abcdef0123"  # a made-up key in NCBI's 36-character shape

# PMIDs of the recorded EFetch replies in tests/data/entrez
PUBMED1 = ["12091962", "9997"]  # efetch_pubmed1.xml
PUBMED2 = ["11748933", "11700088"]  # efetch_pubmed2.xml
ERRATUM = "38833988"  # efetch_38833988.xml
EMPTY_PMID = "37909814"  # efetch_empty_37909814.xml: an empty PubmedArticleSet


@dataclass
class FakeClock:
    """A clock that only moves when something sleeps; records every sleep."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(
    transport: Any, *, api_key: str = "", clock: FakeClock | None = None, attempts: int = 4
) -> tuple[PubMedClient, FakeClock]:
    clock = clock or FakeClock()
    client = PubMedClient(
        Contact(EMAIL, api_key),
        transport,
        clock=clock.clock,
        sleep=clock.sleep,
        backoff=Backoff(attempts=attempts, base=1.0, cap=60.0, random=lambda: 0.5),
    )
    return client, clock


# -- built replies (NOT recordings) ------------------------------------------------------------
ESEARCH_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD '
    b'esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)


def esearch_xml(
    ids: list[str],
    *,
    count: int | None = None,
    webenv: str = "MCID_6927d6e7fee3e90f880ec190",
    query_key: str = "1",
    translation: str = '"test"[All Fields]',
) -> bytes:
    """An ESearch reply BUILT in the layout of the recorded esearch2.xml (usehistory=y)."""
    count = len(ids) if count is None else count
    idlist = "".join(f"<Id>{i}</Id>\n" for i in ids)
    history = f"<QueryKey>{query_key}</QueryKey><WebEnv>{webenv}</WebEnv>" if webenv else ""
    body = (
        f"<eSearchResult><Count>{count}</Count><RetMax>{len(ids)}</RetMax><RetStart>0</RetStart>"
        f"{history}<IdList>\n{idlist}</IdList><TranslationSet/>"
        f"<QueryTranslation>{translation}</QueryTranslation></eSearchResult>\n"
    )
    return ESEARCH_HEAD + body.replace("&", "&amp;").encode()


# NCBI's documented error bodies, BUILT (no real recording was available offline)
RATE_LIMIT_429 = '{"error":"API rate limit exceeded","api-key":"%s","count":"11","limit":"10"}\n'
ESEARCH_CAP_ERROR = (
    ESEARCH_HEAD
    + b"<eSearchResult><ERROR>Search Backend failed: 'retstart' cannot be larger than 9998. "
    b"For PubMed, ESearch can only retrieve the first 9,999 records matching the query."
    b"</ERROR></eSearchResult>\n"
)
EFETCH_HISTORY_ERROR = (
    b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eFetchResult PUBLIC "-//NLM//DTD '
    b'efetch 20131226//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">\n'
    b"<eFetchResult>\n\t<ERROR>Cannot retrieve history data. query_key: 1, WebEnv: "
    b"MCID_6927d6e7fee3e90f880ec190, retstart: 0, retmax: 2</ERROR>\n</eFetchResult>\n"
)
SERVER_ERROR_502 = b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"


def records_xml(pmids: Iterable[str]) -> bytes:
    """A PubmedArticleSet ASSEMBLED from the recorded records in tests/data/entrez (each record
    byte for byte as recorded; only the choice of records in one reply is made up)."""
    wanted = list(pmids)
    found: dict[str, bytes] = {}
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    for path in sorted(DATA.glob("efetch_*.xml")):
        root = etree.parse(str(path), parser).getroot()
        for article in root:
            pmid = article.findtext("MedlineCitation/PMID") or article.findtext("BookDocument/PMID")
            if pmid in wanted:
                found[pmid] = etree.tostring(article, encoding="utf-8")
    head = (DATA / "efetch_pubmed1.xml").read_bytes().split(b"<PubmedArticleSet>")[0]
    parts = [found[p] for p in wanted if p in found]
    return head + b"<PubmedArticleSet>\n" + b"\n".join(parts) + b"\n</PubmedArticleSet>\n"


# -- replay ---------------------------------------------------------------------------------------
def replay(folder: Path, steps: list[dict[str, Any]]) -> ReplayTransport:
    """A replay transport from steps ``{"method", "endpoint", "params", "status", "body",
    "headers", "raises"}``; ``body`` is a file name in tests/data/entrez or bytes (built)."""
    folder.mkdir(parents=True, exist_ok=True)
    exchanges = []
    for n, step in enumerate(steps, 1):
        body = step.get("body", b"")
        name = ""
        if isinstance(body, bytes) and body:
            name = f"built-{n:03d}.bin"
            (folder / name).write_bytes(body)
        elif isinstance(body, str) and body:
            name = f"recorded-{n:03d}-{body}"
            (folder / name).write_bytes((DATA / body).read_bytes())
        exchanges.append(
            Exchange(
                method=step.get("method", "GET"),
                endpoint=step["endpoint"],
                params=dict(step.get("params", {})),
                status=int(step.get("status", 200)),
                body=name,
                headers=dict(step.get("headers", {})),
                raises=step.get("raises", ""),
            )
        )
    return ReplayTransport(exchanges, folder)


# -- a fake PubMed for date splitting ----------------------------------------------------------
class FakePubMed:
    """Answers ESearch from a table PMID → publication date, as PubMed would (Count over the
    whole date range; IDs only up to retmax). Counts the searches it answered."""

    def __init__(self, published: dict[str, list[date]]) -> None:
        self.published = published
        self.searches: list[tuple[str, str]] = []

    def request(
        self, method: str, url: str, *, params: Any = None, data: Any = None, timeout: Any = None
    ) -> Reply:
        sent = dict(params or data or {})
        assert url.endswith("esearch.fcgi"), url
        lo = _day(sent.get("mindate", "0001/01/01"), end=False)
        hi = _day(sent.get("maxdate", "9999/12/31"), end=True)
        self.searches.append((sent.get("mindate", ""), sent.get("maxdate", "")))
        hits = [p for p, days in self.published.items() if any(lo <= d <= hi for d in days)]
        retmax = int(sent.get("retmax", "20"))
        webenv = f"MCID_fake{len(self.searches)}"
        return Reply(200, esearch_xml(hits[:retmax], count=len(hits), webenv=webenv))


def _day(text: str, *, end: bool) -> date:
    """PubMed's reading of a date bound: ``YYYY`` and ``YYYY/MM`` cover the whole period."""
    parts = [int(x) for x in text.split("/")]
    year = parts[0]
    month = parts[1] if len(parts) > 1 else (12 if end else 1)
    last = calendar.monthrange(year, month)[1]
    day = parts[2] if len(parts) > 2 else (last if end else 1)
    return date(year, month, day)
