"""The PubMed E-utilities client: ESearch with the history server, EFetch in batches, and
searches larger than PubMed's 9,999-record limit split by publication date.

Polite by construction: ``tool`` and ``email`` go with every request, requests are spaced to
3 per second (10 with an API key), and faults (HTTP 429/5xx, timeouts, an error inside a 200
reply, a batch missing PMIDs) are retried with exponential back-off and jitter before failing
with one clear line. The API key is sent to NCBI and nowhere else: every message built here
passes through :meth:`PubMedClient.scrub`, and no parameter list kept or logged includes it.

HTTP goes through a transport (``reviewflow.acquire.entrez.transport``) so tests replay
recorded sessions without a network.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

import requests

from reviewflow.acquire.entrez.polite import (
    RATE_WITH_KEY,
    RATE_WITHOUT_KEY,
    Backoff,
    RateLimiter,
    parse_retry_after,
)
from reviewflow.acquire.entrez.responses import (
    ReplyError,
    SearchResult,
    body_errors,
    efetch_pmids,
    parse_esearch,
)
from reviewflow.acquire.entrez.slicing import (
    EARLIEST,
    LATEST,
    PUBMED_CAP,
    SearchPlan,
    SearchSlice,
    fmt_day,
    parse_bound,
    run_query,
)
from reviewflow.acquire.entrez.transport import Transport, default_transport, public_params
from reviewflow.errors import InputError, NetworkError

log = logging.getLogger(__name__)

EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
TOOL = "reviewflow"
BATCH_SIZE = 500  # records per EFetch request (NCBI's advice for XML is a few hundred)
LONG_QUERY = 1800  # above this many URL-encoded characters, ESearch is sent by POST

T = TypeVar("T")
__all__ = [
    "BATCH_SIZE", "EUTILS_URL", "PUBMED_CAP", "Contact", "FetchedBatch", "PubMedClient",
    "SearchPlan", "SearchSlice", "batches", "contact_from", "parse_bound", "run_query",
]  # fmt: skip


@dataclass(frozen=True)
class Contact:
    """Who is asking: NCBI wants ``tool`` and ``email`` on every request."""

    email: str
    api_key: str = field(default="", repr=False)
    tool: str = TOOL

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.email or ""):
            raise InputError(
                f"contact e-mail {self.email!r} is not an e-mail address: NCBI requires one "
                "(--email, REVIEWFLOW_EMAIL, or email under [contact] in review.toml)"
            )


@dataclass
class FetchedBatch:
    """The EFetch replies for one batch of PMIDs: the XML bodies, and the PMIDs that never
    came back after every retry."""

    asked: list[str]
    bodies: list[bytes]
    received: list[str]
    missing: list[str]
    requests: int = 0


class PubMedClient:
    """ESearch and EFetch against PubMed, politely, through an injectable transport."""

    def __init__(
        self,
        contact: Contact,
        transport: Transport | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff | None = None,
        timeout: float | tuple[float, float] = (10.0, 120.0),
        base_url: str = EUTILS_URL,
    ) -> None:
        self.contact = contact
        self.transport: Transport = transport if transport is not None else default_transport()
        self.sleep = sleep
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.base_url = base_url.rstrip("/") + "/"
        rate = RATE_WITH_KEY if contact.api_key else RATE_WITHOUT_KEY
        self.limiter = RateLimiter(rate, clock=clock, sleep=sleep)
        self.requests_sent = 0
        self.retries = 0

    # -- the one place a request is sent ---------------------------------------------------
    def scrub(self, text: str) -> str:
        """The text with the API key replaced by ``***``."""
        key = self.contact.api_key
        return text.replace(key, "***") if key else text

    def _call(
        self, method: str, endpoint: str, params: Mapping[str, str], read: Callable[[bytes], T]
    ) -> T:
        """Send one request, retrying transient faults; ``read`` turns the body into a value
        and raises :class:`ReplyError` for a bad one. A permanent ReplyError propagates."""
        sent: dict[str, str] = {**params, "tool": self.contact.tool, "email": self.contact.email}
        if self.contact.api_key:
            sent["api_key"] = self.contact.api_key
        url = f"{self.base_url}{endpoint}.fcgi"
        what = f"{endpoint} ({_describe(params)})"
        attempts = self.backoff.attempts
        last = ""
        connect_failures = 0
        for attempt in range(1, attempts + 1):
            retry_after: float | None = None
            refused = False
            self.limiter.wait()
            self.requests_sent += 1
            log.debug("%s %s %s", method, endpoint, public_params(params))
            try:
                if method == "POST":
                    reply = self.transport.request(method, url, data=sent, timeout=self.timeout)
                else:
                    reply = self.transport.request(method, url, params=sent, timeout=self.timeout)
            except requests.Timeout:
                last = "no reply in time (timeout)"
            except requests.ConnectionError as exc:
                connect_failures += 1
                refused = True
                last = _connection_reason(exc)
                if connect_failures >= 2:
                    raise NetworkError(
                        f"cannot reach PubMed at {self.base_url} ({last}): "
                        "check the network connection and run the search again"
                    ) from None
            except requests.RequestException as exc:
                last = self.scrub(" ".join(str(exc).split()))[:200]
            else:
                status = int(reply.status_code)
                body = bytes(reply.content or b"")
                if status == 429 or status >= 500:
                    detail = "; ".join(body_errors(body)) or _status_text(status)
                    last = f"HTTP {status} ({self.scrub(detail)[:200]})"
                    retry_after = parse_retry_after(_header(reply.headers, "Retry-After"))
                elif status >= 400:
                    detail = "; ".join(body_errors(body)) or _status_text(status)
                    raise NetworkError(
                        f"PubMed refused {what}: HTTP {status} ({self.scrub(detail)[:200]})"
                    )
                else:
                    try:
                        return read(body)
                    except ReplyError as exc:
                        if exc.permanent:
                            raise ReplyError(self.scrub(str(exc)), permanent=True) from None
                        last = self.scrub(str(exc))[:200]
            if attempt < attempts:
                delay = self.backoff.delay(attempt, retry_after)
                self.retries += 1
                # a refused connection is tried once more, quietly: offline fails in one line
                log.log(
                    logging.INFO if refused else logging.WARNING,
                    "PubMed %s: %s; retry %d of %d in %.1f s",
                    what,
                    last,
                    attempt,
                    attempts - 1,
                    delay,
                )
                self.sleep(delay)
        raise NetworkError(f"PubMed {what} failed after {attempts} attempts: {last}")

    # -- ESearch ------------------------------------------------------------------------------
    def esearch(
        self,
        term: str,
        *,
        mindate: str = "",
        maxdate: str = "",
        datetype: str = "pdat",
        retmax: int = PUBMED_CAP,
    ) -> SearchResult:
        """One ESearch with the history server (``usehistory=y``)."""
        params = {"db": "pubmed", "term": term, "usehistory": "y", "retmax": str(retmax)}
        if mindate or maxdate:
            params.update(
                datetype=datetype,
                mindate=mindate or fmt_day(EARLIEST),
                maxdate=maxdate or fmt_day(LATEST),
            )
        method = "POST" if len(urlencode(params)) > LONG_QUERY else "GET"
        try:
            return self._call(method, "esearch", params, parse_esearch)
        except ReplyError as exc:
            if exc.cap_reached:
                raise
            raise NetworkError(f"PubMed esearch: {exc}") from None

    # -- EFetch -------------------------------------------------------------------------------
    def efetch(
        self, pmids: list[str], *, history: tuple[str, str, int] | None = None
    ) -> FetchedBatch:
        """Fetch the PubMed XML of ``pmids`` (at most :data:`BATCH_SIZE`).

        With ``history=(webenv, query_key, retstart)`` the first request reads the slice from
        the history server; retries, and a lost history, send the PMIDs still missing by POST.
        A batch that comes back short is asked again for the missing PMIDs only.
        """
        if not pmids:
            return FetchedBatch([], [], [], [])
        if len(pmids) > BATCH_SIZE:
            raise ValueError(f"at most {BATCH_SIZE} PMIDs per EFetch, got {len(pmids)}")
        wanted = set(pmids)
        received: list[str] = []
        got: set[str] = set()
        bodies: list[bytes] = []
        sent_before = self.requests_sent
        for attempt in range(1, self.backoff.attempts + 1):
            ask = [p for p in pmids if p not in got]
            params: dict[str, str]
            if history is not None and attempt == 1:
                webenv, query_key, retstart = history
                params = {
                    "db": "pubmed",
                    "WebEnv": webenv,
                    "query_key": query_key,
                    "retstart": str(retstart),
                    "retmax": str(len(pmids)),
                    "retmode": "xml",
                }
                method = "GET"
            else:
                params = {"db": "pubmed", "id": ",".join(ask), "retmode": "xml"}
                method = "POST"
            try:
                body, pmids_in_body = self._call(method, "efetch", params, _read_efetch)
            except ReplyError as exc:
                if exc.history_lost or exc.cap_reached:
                    log.warning("PubMed efetch: %s; asking for the PMIDs by list instead", exc)
                    history = None
                    continue
                raise NetworkError(f"PubMed efetch: {exc}") from None
            bodies.append(body)
            for pmid in pmids_in_body:
                if pmid in wanted and pmid not in got:
                    got.add(pmid)
                    received.append(pmid)
            if len(got) == len(wanted):
                break
            short = len(wanted) - len(got)
            if attempt < self.backoff.attempts:
                delay = self.backoff.delay(attempt)
                self.retries += 1
                log.warning(
                    "PubMed efetch: %d of %d PMIDs missing from the reply; asking again in %.1f s",
                    short,
                    len(wanted),
                    delay,
                )
                self.sleep(delay)
        missing = [p for p in pmids if p not in got]
        return FetchedBatch(
            list(pmids), bodies, received, missing, self.requests_sent - sent_before
        )


def _read_efetch(body: bytes) -> tuple[bytes, list[str]]:
    return body, efetch_pmids(body)


def batches(items: list[str], size: int = BATCH_SIZE) -> Iterable[tuple[int, list[str]]]:
    """``(offset, chunk)`` pairs of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


def _describe(params: Mapping[str, str]) -> str:
    if "id" in params:
        n = params["id"].count(",") + 1
        return f"{n} PMID{'s' if n != 1 else ''}"
    if "retstart" in params and "WebEnv" in params:
        return f"records {int(params['retstart']) + 1}–{int(params['retstart']) + int(params['retmax'])}"
    parts = [f"{k}={params[k]}" for k in ("mindate", "maxdate") if k in params]
    return ", ".join(parts) or "query"


def _status_text(status: int) -> str:
    return {
        429: "too many requests",
        500: "server error",
        502: "bad gateway",
        503: "service unavailable",
        504: "gateway timeout",
    }.get(status, "error")


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _connection_reason(exc: BaseException) -> str:
    text = str(exc)
    for needle, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("NameResolutionError", "host name not found"),
        ("Temporary failure in name resolution", "host name not found"),
        ("Network is unreachable", "network unreachable"),
        ("Connection reset", "connection reset"),
    ):
        if needle in text:
            return reason
    return "connection failed"


def contact_from(
    email: str | None, config_email: str | None = None, environ: Mapping[str, str] | None = None
) -> Contact:
    """The contact for NCBI: ``--email``, else ``REVIEWFLOW_EMAIL``, else review.toml's
    ``[contact] email``; the API key only from ``NCBI_API_KEY``."""
    env = os.environ if environ is None else environ
    chosen = (email or env.get("REVIEWFLOW_EMAIL") or config_email or "").strip()
    if not chosen:
        raise InputError(
            "no contact e-mail for NCBI: pass --email, set REVIEWFLOW_EMAIL, or add "
            'email = "…" under [contact] in review.toml'
        )
    return Contact(email=chosen, api_key=(env.get("NCBI_API_KEY") or "").strip())
