"""The E-utilities client: replies, politeness, faults and retries, the API key kept private.

Recorded replies come from tests/data/entrez (real E-utilities responses, see SOURCES.md).
Fault replies (HTTP 429 JSON, 5xx, timeouts, the esearch retstart cap, the efetch history
error, short batches) are BUILT from NCBI's documented formats in entrez_support.py, because
no real recording of them exists offline; epost2.xml / epost3.xml are real `<ERROR>` replies.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewflow.acquire.entrez.polite import Backoff, RateLimiter
from reviewflow.acquire.entrez.responses import (
    ReplyError,
    body_errors,
    efetch_pmids,
    parse_esearch,
    raise_for_body,
)
from reviewflow.acquire.pubmed import Contact, contact_from
from reviewflow.errors import InputError, NetworkError
from tests.acquire.entrez_support import (
    API_KEY,
    DATA,
    EFETCH_HISTORY_ERROR,
    EMAIL,
    EMPTY_PMID,
    PUBMED1,
    PUBMED2,
    RATE_LIMIT_429,
    SERVER_ERROR_502,
    FakeClock,
    esearch_xml,
    make_client,
    records_xml,
    replay,
)


# -- reading recorded replies -------------------------------------------------------------------
def test_esearch_with_history_recorded() -> None:
    result = parse_esearch((DATA / "esearch2.xml").read_bytes())
    assert result.count == 42249
    assert len(result.ids) == 100
    assert result.ids[0] == "41297076" and result.ids[-1] == "41296368"
    assert result.query_key == "1"
    assert result.webenv == "MCID_6927d6e7fee3e90f880ec190"
    assert result.translation.startswith('("cancer s"[All Fields] OR "cancerated"[All Fields]')
    assert result.translation.endswith("AND 2025/09/27:2025/11/26[Date - Entry]")


def test_esearch_zero_hits_reports_the_phrase_not_found() -> None:
    result = parse_esearch((DATA / "esearch8.xml").read_bytes())
    assert (result.count, result.ids) == (0, [])
    assert result.not_found == ["abcXYZ"]
    assert result.warnings == []  # "No items found." is the zero count itself, not a warning
    assert result.translation == "(abcXYZ[All Fields])"


def test_error_elements_inside_a_200_reply_are_found() -> None:
    assert body_errors((DATA / "epost2.xml").read_bytes()) == ["Invalid db name specified: nothing"]
    assert body_errors((DATA / "epost3.xml").read_bytes()) == [
        "Empty ID list; Nothing to store",
        "Some IDs have invalid value and were omitted. Maximum ID value 18446744073709551615",
    ]
    assert body_errors((DATA / "epost1.xml").read_bytes()) == []
    with pytest.raises(ReplyError) as caught:
        raise_for_body((DATA / "epost3.xml").read_bytes())
    assert caught.value.permanent  # an empty ID list does not get better by asking again


def test_efetch_pmids_of_recorded_replies() -> None:
    assert efetch_pmids((DATA / "efetch_pubmed1.xml").read_bytes()) == PUBMED1
    assert efetch_pmids((DATA / "efetch_pubmed2.xml").read_bytes()) == PUBMED2
    assert efetch_pmids((DATA / "efetch_empty_37909814.xml").read_bytes()) == []
    with pytest.raises(ReplyError) as caught:
        efetch_pmids(EFETCH_HISTORY_ERROR)
    assert caught.value.history_lost and caught.value.permanent
    with pytest.raises(ReplyError, match="unreadable EFetch reply"):
        efetch_pmids((DATA / "efetch_pubmed1.xml").read_bytes()[:3000])  # cut mid-record


def test_json_error_message_never_echoes_the_key() -> None:
    body = (RATE_LIMIT_429 % API_KEY).encode()
    assert body_errors(body) == ["API rate limit exceeded"]


# -- politeness ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("api_key", "rate"), [("", 3), (API_KEY, 10)])
def test_rate_limit_holds_in_every_one_second_window(
    tmp_path: Path, api_key: str, rate: int
) -> None:
    n = 25
    steps = [{"endpoint": "esearch", "body": "esearch1.xml"} for _ in range(n)]
    transport = replay(tmp_path, steps)
    client, clock = make_client(transport, api_key=api_key)
    sent_at: list[float] = []
    real_request = transport.request

    def stamped(*args: object, **kwargs: object) -> object:
        sent_at.append(clock.now)
        return real_request(*args, **kwargs)  # type: ignore[arg-type]

    transport.request = stamped  # type: ignore[method-assign]
    for _ in range(n):
        client.esearch("biopython")
    assert len(sent_at) == n
    for i, t in enumerate(sent_at):
        in_window = [u for u in sent_at[i:] if u < t + 1.0]
        assert len(in_window) <= rate, (t, in_window)
    # and no slower than needed: n requests take about (n - 1) / rate seconds
    assert sent_at[-1] - sent_at[0] == pytest.approx((n - 1) / rate, rel=0.01)


def test_rate_limiter_does_not_sleep_when_requests_are_already_spaced() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock.clock, sleep=clock.sleep)
    limiter.wait()
    clock.now += 5
    limiter.wait()
    assert clock.sleeps == []


def test_tool_and_email_go_with_every_request(tmp_path: Path) -> None:
    steps = [
        {"endpoint": "esearch", "body": esearch_xml(PUBMED1)},
        {"endpoint": "efetch", "params": {"retstart": "0", "retmax": "2"}, "body": "efetch_pubmed1.xml"},
        {"method": "POST", "endpoint": "efetch", "params": {"id": ",".join(PUBMED2)}, "body": "efetch_pubmed2.xml"},
    ]  # fmt: skip
    transport = replay(tmp_path, steps)
    client, _ = make_client(transport)
    found = client.esearch("test")
    client.efetch(found.ids, history=(found.webenv, found.query_key, 0))
    client.efetch(PUBMED2)
    assert transport.exhausted
    for sent in transport.raw_params:
        assert sent["tool"] == "reviewflow" and sent["email"] == EMAIL
        assert "api_key" not in sent  # no key configured, none sent


def test_contact_comes_from_option_then_environment_then_review_toml() -> None:
    env = {"REVIEWFLOW_EMAIL": "env@example.org", "NCBI_API_KEY": API_KEY}
    assert contact_from("cli@example.org", "toml@example.org", env).email == "cli@example.org"
    assert contact_from(None, "toml@example.org", env).email == "env@example.org"
    assert contact_from(None, "toml@example.org", {}).email == "toml@example.org"
    assert contact_from(None, None, env).api_key == API_KEY
    assert API_KEY not in repr(contact_from(None, None, env))
    with pytest.raises(InputError, match="no contact e-mail for NCBI"):
        contact_from(None, "", {})
    with pytest.raises(InputError, match="not an e-mail address"):
        Contact("nobody")


# -- faults and retries -------------------------------------------------------------------------
def test_429_5xx_timeout_and_error_in_200_are_retried_with_backoff(tmp_path: Path) -> None:
    steps = [
        {"endpoint": "esearch", "status": 429, "body": (RATE_LIMIT_429 % API_KEY).encode(),
         "headers": {"Content-Type": "application/json"}},
        {"endpoint": "esearch", "status": 502, "body": SERVER_ERROR_502},
        {"endpoint": "esearch", "raises": "timeout"},
        # a transient backend error inside HTTP 200 (built in the documented shape)
        {"endpoint": "esearch", "body": b"<eSearchResult><ERROR>Search Backend failed: "
         b"Database is not available</ERROR></eSearchResult>"},
        {"endpoint": "esearch", "body": "esearch1.xml"},
    ]  # fmt: skip
    transport = replay(tmp_path, steps)
    client, clock = make_client(transport, api_key=API_KEY, attempts=5)
    result = client.esearch("biopython")
    assert result.count == 63
    assert transport.exhausted
    assert client.retries == 4
    # back-off doubles (jitter fixed at 1.0×); rate-limit spacing sleeps are separate and short
    backoffs = [s for s in clock.sleeps if s >= 0.5]
    assert backoffs == [1.0, 2.0, 4.0, 8.0]


def test_retry_after_header_is_respected(tmp_path: Path) -> None:
    steps = [
        {"endpoint": "esearch", "status": 429, "headers": {"Retry-After": "7"},
         "body": (RATE_LIMIT_429 % API_KEY).encode()},
        {"endpoint": "esearch", "body": "esearch1.xml"},
    ]  # fmt: skip
    client, clock = make_client(replay(tmp_path, steps))
    client.esearch("biopython")
    assert max(clock.sleeps) == 7.0


def test_persistent_faults_end_in_one_clear_line_without_the_key(tmp_path: Path) -> None:
    body = (RATE_LIMIT_429 % API_KEY).encode()
    steps = [{"endpoint": "esearch", "status": 429, "body": body} for _ in range(3)]
    client, _ = make_client(replay(tmp_path, steps), api_key=API_KEY, attempts=3)
    with pytest.raises(NetworkError) as caught:
        client.esearch("biopython")
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        "PubMed esearch (query) failed after 3 attempts: HTTP 429 (API rate limit exceeded)"
    )
    assert API_KEY not in message


def test_permanent_error_in_200_is_not_retried(tmp_path: Path) -> None:
    steps = [{"endpoint": "esearch", "body": "epost2.xml"}]  # the real "Invalid db name" reply
    transport = replay(tmp_path, steps)
    client, clock = make_client(transport)
    with pytest.raises(NetworkError, match="Invalid db name specified: nothing"):
        client.esearch("x")
    assert transport.exhausted and clock.sleeps == []


def test_http_400_fails_at_once(tmp_path: Path) -> None:
    steps = [{"endpoint": "esearch", "status": 400, "body": b'{"error":"Invalid query"}'}]
    client, _ = make_client(replay(tmp_path, steps))
    with pytest.raises(NetworkError, match=r"HTTP 400 \(Invalid query\)"):
        client.esearch("x")


def test_connection_refused_fails_fast_with_one_line(tmp_path: Path) -> None:
    steps = [{"endpoint": "esearch", "raises": "connection"} for _ in range(2)]
    transport = replay(tmp_path, steps)
    client, _ = make_client(transport, attempts=5)
    with pytest.raises(NetworkError) as caught:
        client.esearch("x")
    assert transport.exhausted  # two tries, not five: an offline machine is told quickly
    assert str(caught.value).startswith("cannot reach PubMed at https://eutils.ncbi.nlm.nih.gov")
    assert "(connection refused)" in str(caught.value)


def test_short_batch_asks_again_for_the_missing_pmids_only(tmp_path: Path) -> None:
    asked = [*PUBMED1, *PUBMED2]
    steps = [
        # the history server sends back 3 of the 4 records (a short batch, built)
        {"endpoint": "efetch", "params": {"retstart": "0", "retmax": "4"},
         "body": records_xml([*PUBMED1, PUBMED2[0]])},
        {"method": "POST", "endpoint": "efetch", "params": {"id": PUBMED2[1]},
         "body": records_xml([PUBMED2[1]])},
    ]  # fmt: skip
    transport = replay(tmp_path, steps)
    client, clock = make_client(transport)
    batch = client.efetch(asked, history=("MCID_x", "1", 0))
    assert batch.received == asked and batch.missing == []
    assert len(batch.bodies) == 2
    assert [s for s in clock.sleeps if s >= 0.5] == [1.0]


def test_a_pmid_pubmed_never_returns_is_reported_missing(tmp_path: Path) -> None:
    steps = [
        {"method": "POST", "endpoint": "efetch", "params": {"id": f"9997,{EMPTY_PMID}"},
         "body": records_xml(["9997"])},
        # the real empty reply recorded for this PMID, twice more
        {"method": "POST", "endpoint": "efetch", "params": {"id": EMPTY_PMID},
         "body": "efetch_empty_37909814.xml"},
        {"method": "POST", "endpoint": "efetch", "params": {"id": EMPTY_PMID},
         "body": "efetch_empty_37909814.xml"},
    ]  # fmt: skip
    client, _ = make_client(replay(tmp_path, steps), attempts=3)
    batch = client.efetch(["9997", EMPTY_PMID])
    assert batch.received == ["9997"]
    assert batch.missing == [EMPTY_PMID]


def test_lost_history_falls_back_to_posting_the_pmids(tmp_path: Path) -> None:
    steps = [
        {"endpoint": "efetch", "params": {"WebEnv": "MCID_x", "retstart": "0"},
         "body": EFETCH_HISTORY_ERROR},
        {"method": "POST", "endpoint": "efetch", "params": {"id": ",".join(PUBMED1)},
         "body": "efetch_pubmed1.xml"},
    ]  # fmt: skip
    transport = replay(tmp_path, steps)
    client, clock = make_client(transport)
    batch = client.efetch(PUBMED1, history=("MCID_x", "1", 0))
    assert batch.received == PUBMED1
    assert transport.exhausted
    assert [s for s in clock.sleeps if s >= 0.5] == []  # no back-off: nothing to wait for


def test_efetch_refuses_more_than_500_pmids() -> None:
    client, _ = make_client(replay(Path("/nonexistent"), []))
    with pytest.raises(ValueError, match="at most 500"):
        client.efetch([str(i) for i in range(501)])


# -- the API key stays private ------------------------------------------------------------------
def test_api_key_is_sent_but_never_logged_or_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    steps = [
        {"endpoint": "esearch", "status": 503, "body": b"<html>Service Unavailable</html>"},
        {"endpoint": "esearch", "raises": "timeout"},
        {"endpoint": "esearch", "status": 429, "body": (RATE_LIMIT_429 % API_KEY).encode()},
    ]
    transport = replay(tmp_path, steps)
    client, _ = make_client(transport, api_key=API_KEY, attempts=3)
    caplog.set_level(logging.DEBUG, logger="reviewflow")
    with pytest.raises(NetworkError) as caught:
        client.esearch("biopython")
    assert all(sent["api_key"] == API_KEY for sent in transport.raw_params)  # NCBI gets it
    assert API_KEY not in str(caught.value)
    assert caplog.records, "the retries were logged"
    assert API_KEY not in caplog.text
    assert all(API_KEY not in str(s.params) for s in transport.sent)


def test_backoff_is_capped_and_jittered() -> None:
    low = Backoff(base=1.0, cap=10.0, random=lambda: 0.0)
    high = Backoff(base=1.0, cap=10.0, random=lambda: 0.999)
    assert [low.delay(n) for n in (1, 2, 3, 4, 5, 6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert high.delay(6) == pytest.approx(14.99)
    assert low.delay(1, retry_after=3.0) == 3.0


def test_a_long_strategy_is_sent_by_post(tmp_path: Path) -> None:
    from reviewflow.acquire.strategy import load_query

    saved = load_query(Path(__file__).resolve().parents[2] / "queries" / "rescue_stenting.toml")
    steps = [
        {"method": "POST", "endpoint": "esearch", "params": {"term": saved.query}, "body": "esearch8.xml"},
        {"method": "GET", "endpoint": "esearch", "params": {"term": "abcXYZ"}, "body": "esearch8.xml"},
    ]  # fmt: skip
    transport = replay(tmp_path, steps)
    client, _ = make_client(transport)
    client.esearch(saved.query)
    client.esearch("abcXYZ")
    assert transport.exhausted


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=400),
        st.sampled_from(
            [(DATA / n).read_bytes() for n in ("esearch2.xml", "epost3.xml", "efetch_pubmed1.xml")]
        ).flatmap(lambda b: st.integers(0, len(b)).map(lambda k: b[:k])),
    )
)
def test_any_reply_body_reads_or_is_a_reply_error(body: bytes) -> None:
    for read in (parse_esearch, efetch_pmids, raise_for_body):
        with contextlib.suppress(ReplyError):
            read(body)
