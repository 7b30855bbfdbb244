"""Searches larger than PubMed's 9,999-record limit are split by publication date and merged.

The fake PubMed here answers ESearch from a table of PMIDs and dates the way PubMed does (the
Count covers the whole range; IDs are served only up to retmax). The first test starts from
the real recorded esearch2.xml (Count 42,249), the shape that triggers the split.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from reviewflow.acquire.entrez.transport import Reply
from reviewflow.acquire.pubmed import PUBMED_CAP, parse_bound, run_query
from reviewflow.errors import InputError
from tests.acquire.entrez_support import DATA, ESEARCH_CAP_ERROR, FakePubMed, make_client


def _spread(first: int, n: int, start: date, days: int) -> dict[str, list[date]]:
    """``n`` PMIDs from ``first`` on, one every few days across ``days`` days from ``start``."""
    return {str(first + i): [start + timedelta(days=(i * days) // n)] for i in range(n)}


def _check_partition(searches: list[tuple[str, str]], slices: list[Any]) -> None:
    """The leaf slices are disjoint and in date order."""
    bounds = [(parse_bound(s.mindate, end=False), parse_bound(s.maxdate, end=True)) for s in slices]
    for (a_lo, a_hi), (b_lo, b_hi) in zip(bounds, bounds[1:], strict=False):
        assert a_lo <= a_hi < b_lo <= b_hi


class FirstRecordedThenFake:
    """The first ESearch gets the real recorded reply (Count 42,249); the rest the fake."""

    def __init__(self, fake: FakePubMed) -> None:
        self.fake = fake
        self.first = True

    def request(self, method: str, url: str, **kwargs: Any) -> Reply:
        if self.first:
            self.first = False
            return Reply(200, (DATA / "esearch2.xml").read_bytes())
        return self.fake.request(method, url, **kwargs)


def test_a_search_over_the_cap_is_halved_until_every_slice_fits() -> None:
    published = _spread(1_000_000, 42_249, date(2015, 1, 1), 3650)
    fake = FakePubMed(published)
    client, _ = make_client(FirstRecordedThenFake(fake))
    plan = run_query(client, "cancer")
    assert plan.count == 42249  # PubMed's count, from the recorded reply
    assert all(0 < s.count <= PUBMED_CAP for s in plan.slices)
    assert all(len(s.ids) == s.count for s in plan.slices)
    assert sorted(plan.pmids) == sorted(published)  # every PMID, each once
    assert len(plan.slices) >= 5  # 42,249 / 9,999 → at least 5 slices
    _check_partition(fake.searches, plan.slices)
    assert plan.warnings == []
    # every slice carries its own history (WebEnv, query_key) for EFetch
    assert all(s.webenv.startswith("MCID_fake") and s.query_key == "1" for s in plan.slices)


def test_halving_starts_from_the_saved_date_range() -> None:
    published = _spread(1, 25_000, date(2010, 1, 1), 3 * 365)
    published.update(_spread(90_000, 5, date(2009, 6, 1), 30))  # outside the range
    fake = FakePubMed(published)
    client, _ = make_client(fake)
    plan = run_query(client, "q", mindate="2010", maxdate="2012")
    assert len(plan.pmids) == 25_000 == plan.count
    # the first request asked for the saved range as written, then for halves of it
    assert fake.searches[0] == ("2010", "2012")
    assert fake.searches[1] == ("2010/01/01", "2011/07/02")
    assert fake.searches[2] == ("2010/01/01", "2010/10/01")
    assert ("2010/01/01", "2012/12/31") not in fake.searches  # the whole range only once
    assert plan.slices[0].mindate == "2010/01/01" and plan.slices[-1].maxdate <= "2012/12/31"
    _check_partition(fake.searches, plan.slices)


def test_a_record_in_two_slices_is_kept_once() -> None:
    published = _spread(1, 12_000, date(2020, 1, 1), 366)
    # an article with an electronic date in January and a print date in December
    published["77777777"] = [date(2020, 1, 15), date(2020, 12, 15)]
    fake = FakePubMed(published)
    client, _ = make_client(fake)
    plan = run_query(client, "q", mindate="2020", maxdate="2020")
    in_slices = sum(s.ids.count("77777777") for s in plan.slices)
    assert in_slices == 2
    assert plan.pmids.count("77777777") == 1
    assert len(plan.pmids) == 12_001


def test_a_search_under_the_cap_is_one_request() -> None:
    fake = FakePubMed(_spread(1, 9_999, date(2020, 1, 1), 300))
    client, _ = make_client(fake)
    plan = run_query(client, "q")
    assert len(fake.searches) == 1 and len(plan.slices) == 1 and len(plan.pmids) == 9_999


def test_more_than_the_cap_on_one_day_is_a_clear_error() -> None:
    published = {str(i): [date(2021, 3, 4)] for i in range(10_050)}
    client, _ = make_client(FakePubMed(published))
    with pytest.raises(InputError) as caught:
        run_query(client, "q", mindate="2021/03", maxdate="2021/03")
    assert str(caught.value) == (
        "PubMed finds 10,050 records published on 2021/03/04 alone, more than it serves for "
        "one search: narrow the query"
    )


def test_the_esearch_retstart_cap_error_also_splits(tmp_path: Path) -> None:
    fake = FakePubMed(_spread(1, 3_000, date(2018, 1, 1), 700))

    class CapErrorFirst:
        calls = 0

        def request(self, method: str, url: str, **kwargs: Any) -> Reply:
            self.calls += 1
            if self.calls == 1:  # BUILT: the documented "'retstart' cannot be larger than 9998"
                return Reply(200, ESEARCH_CAP_ERROR)
            return fake.request(method, url, **kwargs)

    client, clock = make_client(CapErrorFirst())
    plan = run_query(client, "q", mindate="2018", maxdate="2019")
    assert len(plan.pmids) == 3_000
    assert [s for s in clock.sleeps if s >= 0.5] == []  # a permanent error: not retried


def test_records_outside_the_default_bounds_are_reported() -> None:
    published = _spread(1, 10_500, date(2001, 1, 1), 4000)

    class UndatedExtra(FakePubMed):
        def request(self, method: str, url: str, **kwargs: Any) -> Reply:
            sent = dict(kwargs.get("params") or kwargs.get("data") or {})
            if "mindate" not in sent:  # the whole query also counts 7 records with no date
                self.searches.append(("", ""))
                from tests.acquire.entrez_support import esearch_xml

                return Reply(200, esearch_xml([], count=10_507))
            return super().request(method, url, **kwargs)

    client, _ = make_client(UndatedExtra(published))
    plan = run_query(client, "q")
    assert len(plan.pmids) == 10_500
    assert plan.warnings == [
        "the date slices hold 10,500 distinct PMIDs, PubMed counts 10,507 for the whole query: "
        "7 records have a pdat outside 1000/01/01–3000/12/31 or changed during the search"
    ]
