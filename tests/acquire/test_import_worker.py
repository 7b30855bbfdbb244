"""Big PubMed XML files: parsed in worker processes while the records are stored.

The threshold is lowered so that the real fixtures take the worker path; the records, the error
messages and the all-or-nothing transaction must be those of the plain path, whether the file is
read by one worker or cut in two at a record start and read by two.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from sqlmodel import col, select

import reviewflow.acquire.readers.worker as worker
from reviewflow.acquire.importer import RECORD_COLUMNS
from reviewflow.acquire.readers import read_file, read_pubmed_xml
from reviewflow.acquire.readers.worker import PubmedXmlInWorker, split_file
from reviewflow.errors import InputError, ReviewflowError
from reviewflow.store import open_store
from reviewflow.store.models import Record, RecordSource, SearchRun
from reviewflow.workspace import Workspace
from tests.acquire.test_import_cli import BASELINE, PUBMED4, counts
from tests.acquire.test_readers_pubmed import EFETCH
from tests.conftest import run_cli

HEADER = (
    b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    b'1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)


@pytest.fixture(scope="module")
def efetch_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every real efetch record of the fixtures in one PubmedArticleSet (40 records, 660 kB)."""
    parts = [HEADER, b"<PubmedArticleSet>\n"]
    for path in EFETCH:
        root = etree.parse(str(path)).getroot()
        if root.tag == "PubmedArticleSet":
            for record in root.iterchildren("PubmedArticle", "PubmedBookArticle"):
                record.tail = "\n"
                parts.append(etree.tostring(record, encoding="utf-8"))
    parts.append(b"</PubmedArticleSet>\n")
    path = tmp_path_factory.mktemp("efetch") / "efetch_set.xml"
    path.write_bytes(b"".join(parts))
    return path


def outcome(path: Path, processes: int) -> object:
    """The records read through workers, or the message of the error they raise."""
    try:
        with PubmedXmlInWorker(path, chunk_records=7, processes=processes) as chunks:
            return [r for chunk in chunks for r in chunk]
    except InputError as exc:
        return exc.message


def plain_outcome(path: Path) -> object:
    """The same from the plain PubMed XML reader (what the workers run, on the whole file)."""
    try:
        return read_pubmed_xml(path)
    except InputError as exc:
        return exc.message


@pytest.fixture
def worker_from_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(worker, "PARSE_PROCESSES", 2)
    monkeypatch.setattr(worker, "CHUNK_RECORDS", 100)


@pytest.mark.parametrize("path", [BASELINE, PUBMED4], ids=["baseline-gz", "efetch"])
def test_the_worker_gives_the_plain_readers_records_in_chunks(path: Path) -> None:
    with PubmedXmlInWorker(path, chunk_records=100) as chunks:
        got = list(chunks)
    expected = read_file(path)
    assert [len(c) for c in got][:-1] == [100] * (len(got) - 1)
    assert [r for chunk in got for r in chunk] == expected


def test_a_big_file_imports_through_the_worker(
    workspace: Workspace, worker_from_any_size: None
) -> None:
    code, out, err = run_cli("import", str(BASELINE), cwd=workspace.root)
    assert code == 0, err
    assert f"{BASELINE}: 604 records (pubmed-xml), 604 added from PubMed (run 1)" in out
    assert counts(workspace) == (604, 1, 604)
    expected = read_file(BASELINE)
    store = open_store(workspace.database_url())
    try:
        with store.read() as s:
            run = s.exec(select(SearchRun)).one()
            assert (run.count, run.records_added, run.file_name) == (604, 604, BASELINE.name)
            assert run.finished_at is not None and len(run.file_sha256) == 64
            rows = s.exec(select(Record).order_by(col(Record.id))).all()
            assert [(r.pmid, r.title, r.authors) for r in rows] == [
                (e.pmid, e.title, e.authors) for e in expected
            ]
        code, _out, err = run_cli("import", str(BASELINE), cwd=workspace.root)
        assert code == 1 and "already imported (run 1" in err
    finally:
        store.dispose()


def test_an_error_at_the_last_record_leaves_the_database_unchanged(
    workspace: Workspace, worker_from_any_size: None, tmp_path: Path
) -> None:
    data = gzip.decompress(BASELINE.read_bytes())
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: data.rindex(b"<MedlineCitation ") + 200])  # inside record 604
    with pytest.raises(InputError) as plain:
        read_file(cut)
    assert plain.value.message.startswith("cut.xml: line ")
    assert run_cli("import", str(PUBMED4), cwd=workspace.root)[0] == 0
    before = counts(workspace)
    code, out, err = run_cli("import", str(cut), cwd=workspace.root)
    assert code == 1 and out == ""
    assert err.strip() == f"reviewflow: error: {plain.value.message}"
    assert counts(workspace) == before == (1, 1, 1)


def test_a_worker_that_dies_is_one_clear_error(tmp_path: Path) -> None:
    with PubmedXmlInWorker(BASELINE) as chunks:
        os.kill(chunks._workers[0].process.pid, 9)
        with pytest.raises(ReviewflowError) as died:
            list(chunks)
    assert str(died.value).startswith(f"{BASELINE.name}: the reading process stopped unexpectedly")
    assert "exit code -9" in str(died.value)


def test_a_plain_efetch_file_is_cut_at_a_record_start(efetch_set: Path) -> None:
    data = efetch_set.read_bytes()
    ranges = split_file(efetch_set, 2)
    assert ranges is not None and len(ranges) == 2
    (start, cut), (cut_again, stop) = ranges
    assert (start, cut_again, stop) == (0, cut, len(data))
    assert data[cut:].startswith((b"<PubmedArticle>", b"<PubmedBookArticle>"))
    target = len(data) // 2
    assert target <= cut  # the first record start from the target on
    assert (
        b"<PubmedArticle>" not in data[target:cut]
        and b"<PubmedBookArticle>" not in data[target:cut]
    )
    assert split_file(BASELINE, 2) is None  # gzip: no seeking into it


@pytest.mark.parametrize(
    "change",
    [
        (b"<PubmedArticleSet>", b'<PubmedArticleSet xmlns:x="urn:x">'),  # attributes on the root
        (b'<?xml version="1.0" ?>', b'<?xml version="1.0" encoding="ISO-8859-1"?>'),
        (b"<PubmedArticleSet>", b"<!-- a comment --><PubmedArticleSet>"),
    ],
    ids=["root-attributes", "latin-1", "comment-before-root"],
)
def test_files_that_cannot_be_cut_safely_are_read_whole(
    efetch_set: Path, tmp_path: Path, change: tuple[bytes, bytes]
) -> None:
    path = tmp_path / "odd.xml"
    path.write_bytes(efetch_set.read_bytes().replace(*change, 1))
    assert split_file(path, 2) is None
    with PubmedXmlInWorker(path, processes=2) as chunks:
        assert not chunks.split
        assert [r for chunk in chunks for r in chunk] == read_file(path)


def test_two_workers_give_the_plain_readers_records_in_file_order(efetch_set: Path) -> None:
    import hashlib

    with PubmedXmlInWorker(efetch_set, chunk_records=7, processes=2) as chunks:
        assert chunks.split and len(chunks._workers) == 2
        got = [r for chunk in chunks for r in chunk]
        # the file's digest, hashed in a thread while the workers start
        assert chunks.sha256() == hashlib.sha256(efetch_set.read_bytes()).hexdigest()
    expected = read_file(efetch_set)
    assert len(expected) == 40
    assert got == expected


@pytest.mark.parametrize("where", [0.25, 0.75], ids=["first-part", "second-part"])
def test_an_error_in_either_part_is_the_plain_readers_error_with_the_files_line(
    efetch_set: Path, tmp_path: Path, where: float
) -> None:
    data = efetch_set.read_bytes()
    at = data.index(b"</PubmedData>", int(len(data) * where))
    path = tmp_path / "broken.xml"
    path.write_bytes(data[:at] + b"</PubmedDat>" + data[at + len(b"</PubmedData>") :])
    line = data[:at].count(b"\n") + 1
    got = outcome(path, 2)
    assert isinstance(got, str) and got.startswith(f"broken.xml: line {line}: malformed")
    assert got == plain_outcome(path)


def test_a_wrong_cut_is_noticed_and_the_file_read_whole(efetch_set: Path, tmp_path: Path) -> None:
    """A record-start tag inside a comment just past the cut: the cut lands in the comment, the
    first part fails, and the whole file, read again, gives every record once."""
    data = efetch_set.read_bytes()
    at = data.index(b"<PubmedArticle>", len(data) // 2)
    path = tmp_path / "comment.xml"
    path.write_bytes(data[:at] + b"<!-- <PubmedArticle> was here -->\n" + data[at:])
    ranges = split_file(path, 2)
    assert ranges is not None and path.read_bytes()[ranges[0][1] - 5 : ranges[0][1]] == b"<!-- "
    assert outcome(path, 2) == read_file(path) == read_file(efetch_set)


def test_an_entity_declared_at_the_top_is_read_as_the_plain_reader_reads_it(
    efetch_set: Path, tmp_path: Path
) -> None:
    """The second part does not see the DOCTYPE's internal subset; its failure sends the file
    to one worker, which reads what the plain reader reads."""
    data = efetch_set.read_bytes()
    data = data.replace(b'pubmed_250101.dtd">', b'pubmed_250101.dtd" [<!ENTITY rf "reviewflow">]>')
    at = data.index(b"</ArticleTitle>", int(len(data) * 0.75))
    path = tmp_path / "entity.xml"
    path.write_bytes(data[:at] + b" &rf;" + data[at:])
    assert split_file(path, 2) is not None
    assert outcome(path, 2) == plain_outcome(path)


def test_an_error_in_the_second_part_leaves_the_database_unchanged(
    workspace: Workspace, worker_from_any_size: None, efetch_set: Path, tmp_path: Path
) -> None:
    data = efetch_set.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: int(len(data) * 0.9)])  # truncated inside a record of the second half
    plain = plain_outcome(cut)
    assert isinstance(plain, str) and plain.startswith("cut.xml: line ")
    assert run_cli("import", str(PUBMED4), cwd=workspace.root)[0] == 0
    before = counts(workspace)
    code, out, err = run_cli("import", str(cut), cwd=workspace.root)
    assert (code, out, err.strip()) == (1, "", f"reviewflow: error: {plain}")
    assert counts(workspace) == before == (1, 1, 1)
    code, out, err = run_cli("import", str(efetch_set), cwd=workspace.root)
    assert code == 0, err
    assert counts(workspace) == (41, 2, 41)


def test_what_is_stored_is_what_was_read(
    workspace: Workspace, worker_from_any_size: None, efetch_set: Path
) -> None:
    """Every column of every record, through the workers and the bulk insert, on both backends;
    the times as the ORM writes them (read back as the same instant as the run's start)."""
    assert run_cli("import", str(efetch_set), cwd=workspace.root)[0] == 0
    store = open_store(workspace.database_url())
    try:
        with store.read() as s:
            rows = s.exec(select(Record).order_by(col(Record.id))).all()
            stored = [[getattr(r, c) for c in RECORD_COLUMNS] for r in rows]
            run = s.exec(select(SearchRun)).one()
            sources = s.exec(select(RecordSource).order_by(col(RecordSource.id))).all()
            assert [x.record_id for x in sources] == [r.id for r in rows]
            assert {x.source_key for x in sources} == {r.pmid for r in rows}
            for when in {r.created_at for r in rows} | {x.found_at for x in sources}:
                assert abs((when - run.started_at).total_seconds()) < 60
    finally:
        store.dispose()
    assert stored == [[getattr(r, c) for c in RECORD_COLUMNS] for r in read_file(efetch_set)]


def _children() -> set[int]:
    """This process's live child processes (Linux)."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    return {int(pid) for t in tasks.iterdir() for pid in (t / "children").read_text().split()}


def test_the_first_files_early_parse_is_used_or_stopped(
    workspace: Workspace, worker_from_any_size: None, efetch_set: Path, tmp_path: Path
) -> None:
    """``import`` starts parsing the first big file before it opens the database."""
    before = _children()
    missing = tmp_path / "missing.xml"
    code, out, err = run_cli("import", str(missing), str(efetch_set), cwd=workspace.root)
    assert code == 1 and err.startswith("reviewflow: error: missing.xml: cannot read the file")
    assert "1 of 2 files imported, 40 records added" in out
    # the early parse is stopped when the database cannot be opened (here: no workspace)
    code, _out, err = run_cli("import", str(efetch_set), cwd=tmp_path)
    assert code == 1 and "no review workspace here" in err
    assert _children() == before


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    where=st.floats(min_value=0.0, max_value=1.0),
    damage=st.sampled_from(["truncate", "drop-byte", "stray-lt", "stray-amp", "bad-utf8"]),
)
def test_two_workers_give_what_the_plain_reader_gives_whatever_the_damage(
    efetch_set: Path, tmp_path_factory: pytest.TempPathFactory, where: float, damage: str
) -> None:
    """The same records, or the same one-line error naming the file's line, for a file
    damaged anywhere: in either part, at the cut, in the header."""
    data = efetch_set.read_bytes()
    at = min(int(len(data) * where), len(data) - 1)
    damaged = {
        "truncate": data[:at],
        "drop-byte": data[:at] + data[at + 1 :],
        "stray-lt": data[:at] + b"<" + data[at:],
        "stray-amp": data[:at] + b"&" + data[at:],
        "bad-utf8": data[:at] + b"\xff" + data[at:],
    }[damage]
    path = tmp_path_factory.mktemp("damaged") / "damaged.xml"
    path.write_bytes(damaged)
    assert outcome(path, 2) == plain_outcome(path)
