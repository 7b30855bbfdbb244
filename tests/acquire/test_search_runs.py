"""Running saved searches into the review: the run log, resume after an interruption, the
living-review delta, and the API key kept out of the database.

Sessions are replayed through the transport seam (no network). EFetch bodies are recorded real
replies from tests/data/entrez; the ESearch replies listing those PMIDs are BUILT in the layout
of the recorded esearch2.xml (no recorded search returns exactly these PMIDs), and so are the
fault replies (see entrez_support.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from sqlmodel import col, select

from reviewflow.acquire.search import SearchProgress, run_search
from reviewflow.acquire.strategy import SavedQuery
from reviewflow.errors import NetworkError
from reviewflow.store import Store, open_store
from reviewflow.store.models import Record, RecordSource, SearchHit, SearchRun
from tests.acquire.entrez_support import (
    API_KEY,
    DATA,
    EMPTY_PMID,
    ERRATUM,
    PUBMED1,
    PUBMED2,
    RATE_LIMIT_429,
    esearch_xml,
    make_client,
    records_xml,
    replay,
)

QUERY = SavedQuery(name="rescue_test", query="rescue[tiab] AND stent*[tiab]", notes="test")
ALL4 = [*PUBMED1, *PUBMED2]
WEBENV = "MCID_6927d6e7fee3e90f880ec190"


def _history(retstart: int, retmax: int, body: str | bytes) -> dict[str, object]:
    return {
        "endpoint": "efetch",
        "params": {"WebEnv": WEBENV, "query_key": "1", "retstart": str(retstart), "retmax": str(retmax)},
        "body": body,
    }  # fmt: skip


def _first_run_steps() -> list[dict[str, object]]:
    return [
        {"endpoint": "esearch", "params": {"term": QUERY.query, "usehistory": "y"},
         "body": esearch_xml(ALL4, translation='rescue[tiab] AND stent*[tiab]')},
        _history(0, 2, "efetch_pubmed1.xml"),
        _history(2, 2, "efetch_pubmed2.xml"),
    ]  # fmt: skip


def _titles_by_pmid() -> dict[str, str]:
    """An independent reading of the recorded replies: PMID → ArticleTitle text."""
    out: dict[str, str] = {}
    for name in ("efetch_pubmed1.xml", "efetch_pubmed2.xml", "efetch_38833988.xml"):
        root = etree.parse(str(DATA / name)).getroot()
        for article in root.iter("PubmedArticle"):
            title = article.find("MedlineCitation/Article/ArticleTitle")
            assert title is not None
            out[article.findtext("MedlineCitation/PMID") or ""] = " ".join(
                "".join(title.itertext()).split()
            )
    return out


class Recorder(SearchProgress):
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.total = self.done = 0

    def note(self, message: str) -> None:
        self.notes.append(message)

    def start_fetch(self, total: int, done: int) -> None:
        self.total, self.done = total, done

    def advance(self, n: int) -> None:
        self.done += n


def test_a_replayed_search_is_stored_with_its_run_log(store: Store, tmp_path: Path) -> None:
    transport = replay(tmp_path, _first_run_steps())
    client, _ = make_client(transport)
    progress = Recorder()
    report = run_search(store, QUERY, client, progress=progress, batch_size=2)
    assert transport.exhausted
    assert (progress.total, progress.done) == (4, 4)
    assert (report.count, report.hits, report.records_added, report.already_in_review) == (
        4,
        4,
        4,
        0,
    )
    assert (report.new_hits, report.previous_run_id, report.resumed) == (4, None, False)
    assert report.fetched_requests == 2 and report.complete
    with store.read() as s:
        run = s.exec(select(SearchRun)).one()
        assert (run.kind, run.method, run.source, run.query_name) == (
            "search",
            "database",
            "PubMed",
            "rescue_test",
        )
        assert run.query == QUERY.query and run.translation == "rescue[tiab] AND stent*[tiab]"
        assert run.count == 4 and run.status == "complete" and run.finished_at is not None
        assert run.records_added == 4 and run.started_at <= run.finished_at
        hits = s.exec(select(SearchHit).order_by(col(SearchHit.position))).all()
        assert [h.pmid for h in hits] == ALL4
        assert all(h.fetched_at is not None for h in hits)
        records = {r.pmid: r for r in s.exec(select(Record)).all()}
        links = s.exec(select(RecordSource)).all()
    assert sorted(records) == sorted(ALL4)
    titles = _titles_by_pmid()
    for pmid, record in records.items():
        assert record.title == titles[pmid]
    assert sorted(link.source_key for link in links) == sorted(ALL4)
    assert {link.run_id for link in links} == {run.id}


def test_an_interrupted_search_resumes_without_refetching(store: Store, tmp_path: Path) -> None:
    # the third request times out, and so do both retries: the connection is gone
    steps = _first_run_steps()[:2] + [{**_history(2, 2, b""), "raises": "timeout"}] * 3
    client, _ = make_client(replay(tmp_path / "a", steps), attempts=3)
    with pytest.raises(NetworkError) as caught:
        run_search(store, QUERY, client, batch_size=2)
    assert str(caught.value) == (
        "PubMed efetch (records 3–4) failed after 3 attempts: no reply in time (timeout) "
        "(2 of 4 records stored; run the same search again to resume)"
    )
    with store.read() as s:
        run = s.exec(select(SearchRun)).one()
        assert run.status == "running" and run.finished_at is None
        stored = sorted(r.pmid for r in s.exec(select(Record)).all())
    assert stored == sorted(PUBMED1)

    # the rerun asks only for the two records it lacks: no new search, nothing fetched twice
    again = replay(
        tmp_path / "b",
        [{"method": "POST", "endpoint": "efetch", "params": {"id": ",".join(PUBMED2)},
          "body": "efetch_pubmed2.xml"}],
    )  # fmt: skip
    client, _ = make_client(again)
    progress = Recorder()
    report = run_search(store, QUERY, client, progress=progress, batch_size=2)
    assert [(r.method, r.endpoint, r.params.get("id")) for r in again.sent] == [
        ("POST", "efetch", "11748933,11700088")
    ]
    assert report.resumed and report.run_id == run.id and report.complete
    assert (progress.total, progress.done) == (4, 4)
    assert progress.notes[0].startswith("resuming run")
    with store.read() as s:
        assert s.exec(select(SearchRun)).one().status == "complete"
        assert sorted(r.pmid for r in s.exec(select(Record)).all()) == sorted(ALL4)
        assert len(s.exec(select(RecordSource)).all()) == 4


def test_a_later_run_adds_only_new_records_and_reports_the_delta(
    store: Store, tmp_path: Path
) -> None:
    client, _ = make_client(replay(tmp_path / "1", _first_run_steps()))
    first = run_search(store, QUERY, client, batch_size=2)

    # months later PubMed has one more record (newest first), the erratum 38833988
    later = replay(
        tmp_path / "2",
        [
            {"endpoint": "esearch", "body": esearch_xml([ERRATUM, *ALL4])},
            _history(0, 1, "efetch_38833988.xml"),
        ],
    )
    client, _ = make_client(later)
    second = run_search(store, QUERY, client, batch_size=2)
    assert later.exhausted and len(later.sent) == 2  # the four known PMIDs were not fetched
    assert (second.previous_run_id, second.new_hits, second.dropped_hits) == (first.run_id, 1, 0)
    assert (second.records_added, second.already_in_review, second.hits) == (1, 4, 5)

    # and later still, two records no longer match (e.g. re-indexed): nothing to fetch at all
    third_t = replay(
        tmp_path / "3", [{"endpoint": "esearch", "body": esearch_xml([ERRATUM, *PUBMED1])}]
    )
    client, _ = make_client(third_t)
    third = run_search(store, QUERY, client)
    assert len(third_t.sent) == 1
    assert (third.previous_run_id, third.new_hits, third.dropped_hits) == (second.run_id, 0, 2)
    assert (third.records_added, third.already_in_review) == (0, 3)

    with store.read() as s:
        assert len(s.exec(select(Record)).all()) == 5  # never a second copy
        per_run = {
            run_id: len(s.exec(select(RecordSource).where(RecordSource.run_id == run_id)).all())
            for run_id in (first.run_id, second.run_id, third.run_id)
        }
    assert per_run == {first.run_id: 4, second.run_id: 5, third.run_id: 3}


def test_a_pmid_pubmed_never_returns_leaves_the_run_resumable(store: Store, tmp_path: Path) -> None:
    steps = [
        {"endpoint": "esearch", "body": esearch_xml(["9997", EMPTY_PMID])},
        _history(0, 2, records_xml(["9997"])),
        {"method": "POST", "endpoint": "efetch", "params": {"id": EMPTY_PMID}, "body": "efetch_empty_37909814.xml"},
    ]  # fmt: skip
    client, _ = make_client(replay(tmp_path, steps), attempts=2)
    report = run_search(store, QUERY, client)
    assert report.missing == [EMPTY_PMID] and not report.complete
    assert report.records_added == 1
    with store.read() as s:
        run = s.exec(select(SearchRun)).one()
        assert run.status == "running" and run.state["missing"] == [EMPTY_PMID]


def test_a_changed_strategy_starts_a_new_run(store: Store, tmp_path: Path) -> None:
    steps = _first_run_steps()[:2] + [{**_history(2, 2, b""), "raises": "timeout"}]
    client, _ = make_client(replay(tmp_path / "a", steps), attempts=1)
    with pytest.raises(NetworkError):
        run_search(store, QUERY, client, batch_size=2)
    edited = SavedQuery(name=QUERY.name, query=QUERY.query + " AND humans[mh]")
    fresh = replay(
        tmp_path / "b",
        [{"endpoint": "esearch", "params": {"term": edited.query}, "body": esearch_xml(PUBMED2)},
         _history(0, 2, "efetch_pubmed2.xml")],
    )  # fmt: skip
    client, _ = make_client(fresh)
    report = run_search(store, edited, client)
    assert not report.resumed and report.records_added == 2
    with store.read() as s:
        runs = s.exec(select(SearchRun).order_by(col(SearchRun.id))).all()
    assert [r.status for r in runs] == ["failed", "complete"]
    assert "the saved strategy changed" in runs[0].notes


def test_the_api_key_is_never_written_to_the_database(tmp_path: Path) -> None:
    db = tmp_path / "review.sqlite"
    store = open_store(f"sqlite:///{db}", create=True)
    steps = [
        {"endpoint": "esearch", "status": 429, "body": (RATE_LIMIT_429 % API_KEY).encode()},
        *_first_run_steps(),
    ]
    transport = replay(tmp_path / "t", steps)
    client, _ = make_client(transport, api_key=API_KEY)
    run_search(store, QUERY, client, batch_size=2)
    assert all(sent.get("api_key") == API_KEY for sent in transport.raw_params)
    with store.read() as s:
        dumped = repr(s.exec(select(SearchRun)).all()) + repr(s.exec(select(SearchHit)).all())
        dumped += repr(s.exec(select(Record)).all()) + repr(s.exec(select(RecordSource)).all())
    assert API_KEY not in dumped
    store.dispose()
    for path in tmp_path.glob("review.sqlite*"):  # the file, its WAL and shared memory
        assert API_KEY.encode() not in path.read_bytes(), path


def test_a_search_with_no_hits_is_logged_with_what_pubmed_did_not_find(
    store: Store, tmp_path: Path
) -> None:
    transport = replay(tmp_path, [{"endpoint": "esearch", "body": "esearch8.xml"}])  # recorded
    client, _ = make_client(transport)
    report = run_search(store, SavedQuery(name="typo", query="abcXYZ"), client)
    assert (report.count, report.hits, report.records_added) == (0, 0, 0)
    assert report.warnings == ["PubMed found nothing for: abcXYZ"]
    with store.read() as s:
        run = s.exec(select(SearchRun)).one()
    assert (run.count, run.status, run.translation) == (0, "complete", "(abcXYZ[All Fields])")
    assert "PubMed found nothing for: abcXYZ" in run.notes


def test_progress_is_shown_as_a_bar_on_a_terminal_and_as_a_line_otherwise(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from reviewflow.cli.search import _Bar

    outputs = []
    for n, terminal in enumerate((True, False)):
        buffer = io.StringIO()
        bar = _Bar(Console(file=buffer, force_terminal=terminal, width=100), quiet=False)
        store = open_store(f"sqlite:///{tmp_path / f'{n}.sqlite'}", create=True)
        client, _ = make_client(replay(tmp_path / str(n), _first_run_steps()))
        try:
            run_search(store, QUERY, client, progress=bar, batch_size=2)
        finally:
            bar.stop()
            store.dispose()
        outputs.append(buffer.getvalue())
    assert "fetching records" in outputs[0] and "4/4" in outputs[0]
    assert outputs[1].splitlines() == ["fetching 4 records"]
