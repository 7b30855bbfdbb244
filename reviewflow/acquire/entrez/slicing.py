"""Searches larger than PubMed's 9,999-record limit: halve the publication-date range until
every slice is under the cap, then merge the slices' PMIDs (a record with an electronic and a
print date can fall in two slices; it is kept once).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from reviewflow.acquire.entrez.responses import ReplyError, SearchResult
from reviewflow.errors import InputError

if TYPE_CHECKING:
    from reviewflow.acquire.pubmed import PubMedClient

PUBMED_CAP = 9999  # PubMed serves only the first 9,999 records of one search
# publication-date bounds used to split an undated search that is over the cap
EARLIEST = date(1000, 1, 1)
LATEST = date(3000, 12, 31)

Progress = Callable[[str], None]


@dataclass
class SearchSlice:
    """One ESearch whose records PubMed serves in full (count ≤ the cap)."""

    mindate: str
    maxdate: str
    count: int
    ids: list[str]
    webenv: str = ""
    query_key: str = ""


@dataclass
class SearchPlan:
    """The result of running a query: PubMed's count and translation, the slices, and the
    merged PMIDs (duplicates across slices removed, first occurrence kept)."""

    count: int
    translation: str
    slices: list[SearchSlice]
    pmids: list[str]
    not_found: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_bound(text: str, *, end: bool) -> date:
    """``YYYY``, ``YYYY/MM`` or ``YYYY/MM/DD`` (``-`` also accepted) as the first day of the
    period (``end=False``) or its last day (``end=True``)."""
    parts = re.split(r"[/-]", text.strip())
    if not (1 <= len(parts) <= 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a date: use YYYY, YYYY/MM or YYYY/MM/DD")
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else (12 if end else 1)
    last_day = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
    day = int(parts[2]) if len(parts) > 2 else (last_day if end else 1)
    return date(year, month, day)


def fmt_day(day: date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def run_query(
    client: PubMedClient,
    term: str,
    *,
    mindate: str = "",
    maxdate: str = "",
    datetype: str = "pdat",
    cap: int = PUBMED_CAP,
    progress: Progress | None = None,
) -> SearchPlan:
    """Run ``term``; when PubMed finds more than ``cap`` records, halve the publication-date
    range until every slice is under the cap, and merge the slices' PMIDs."""
    say = progress or (lambda _m: None)
    try:
        first: SearchResult | None = client.esearch(
            term, mindate=mindate, maxdate=maxdate, datetype=datetype
        )
    except ReplyError:  # retstart beyond the cap: treat as too large
        first = None
    if first is not None and first.count <= cap and len(first.ids) >= first.count:
        whole = SearchSlice(mindate, maxdate, first.count, first.ids, first.webenv, first.query_key)
        return SearchPlan(
            first.count,
            first.translation,
            [whole],
            _unique(first.ids),
            first.not_found,
            first.warnings,
        )
    lo = parse_bound(mindate, end=False) if mindate else EARLIEST
    hi = parse_bound(maxdate, end=True) if maxdate else LATEST
    total = first.count if first is not None else 0
    say(f"{total:,} records: more than PubMed serves at once; splitting by {datetype}")
    slices: list[SearchSlice] = []
    # the whole range is known to be over the cap: start from its two halves
    stack = _halves(lo, hi, first)
    translation = first.translation if first is not None else ""
    while stack:
        a, b = stack.pop()
        try:
            part: SearchResult | None = client.esearch(
                term, mindate=fmt_day(a), maxdate=fmt_day(b), datetype=datetype
            )
        except ReplyError:
            part = None
        if part is not None and part.count <= cap and len(part.ids) >= part.count:
            if part.count:
                slices.append(
                    SearchSlice(
                        fmt_day(a), fmt_day(b), part.count, part.ids, part.webenv, part.query_key
                    )
                )
                say(f"{fmt_day(a)}–{fmt_day(b)}: {part.count:,} records")
            translation = translation or part.translation
            continue
        stack.extend(_halves(a, b, part))
    slices.sort(key=lambda s: s.mindate)
    pmids = _unique(p for s in slices for p in s.ids)
    plan = SearchPlan(total, translation, slices, pmids)
    if first is not None:
        plan.not_found, plan.warnings = first.not_found, list(first.warnings)
    if total and len(pmids) < total:
        plan.warnings.append(
            f"the date slices hold {len(pmids):,} distinct PMIDs, PubMed counts {total:,} "
            f"for the whole query: {total - len(pmids):,} records have a {datetype} outside "
            f"{fmt_day(lo)}–{fmt_day(hi)} or changed during the search"
        )
    return plan


def _halves(a: date, b: date, found: SearchResult | None) -> list[tuple[date, date]]:
    """The two halves of a range that is over the cap, later half first (a stack pops the
    earlier half first, so slices come out in date order); one day cannot be split."""
    if a >= b:
        n = f"{found.count:,}" if found is not None else "more than 9,999"
        raise InputError(
            f"PubMed finds {n} records published on {fmt_day(a)} alone, more than it serves "
            "for one search: narrow the query"
        )
    mid = a + timedelta(days=(b - a).days // 2)
    return [(mid + timedelta(days=1), b), (a, mid)]


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out
