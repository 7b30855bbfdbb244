"""Big PubMed XML files: parsed in a worker process while the records are stored.

The threshold is lowered so that the real fixtures take the worker path; the records, the error
messages and the all-or-nothing transaction must be those of the plain path.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from sqlmodel import col, select

import reviewflow.acquire.readers.worker as worker
import reviewflow.cli.importing as importing
from reviewflow.acquire.readers import read_file
from reviewflow.acquire.readers.worker import PubmedXmlInWorker
from reviewflow.errors import InputError, ReviewflowError
from reviewflow.store import open_store
from reviewflow.store.models import Record, SearchRun
from reviewflow.workspace import Workspace
from tests.acquire.test_import_cli import BASELINE, PUBMED4, counts
from tests.conftest import run_cli


@pytest.fixture
def worker_from_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "PARALLEL_FROM_BYTES", 0)
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
        os.kill(chunks._process.pid, 9)
        with pytest.raises(ReviewflowError) as died:
            list(chunks)
    assert str(died.value).startswith(f"{BASELINE.name}: the reading process stopped unexpectedly")
    assert "exit code -9" in str(died.value)
