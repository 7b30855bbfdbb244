"""``reviewflow search``: a replayed session end to end into a SQLite workspace, recordings
without the API key, and the one-line errors (offline, no e-mail, bad strategy).

tests/data/entrez/session_small holds a replayable session: its EFetch body is a recorded real
reply; its ESearch reply is BUILT to list that reply's two PMIDs (see its session.json notes).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

import pytest
from sqlmodel import select

from reviewflow.store import open_store
from reviewflow.store.models import Record, SearchRun
from reviewflow.workspace import Workspace
from tests.acquire.entrez_support import API_KEY, DATA, EMAIL, PUBMED1
from tests.conftest import run_cli

SESSION = DATA / "session_small" / "session.json"
NO_ENV = {"REVIEWFLOW_EMAIL": None, "NCBI_API_KEY": None, "REVIEWFLOW_EUTILS_URL": None}


def _query(ws: Workspace, text: str = 'name = "small"\nquery = "session test"\n') -> str:
    (ws.root / "queries" / "small.toml").write_text(text, encoding="utf-8")
    return "queries/small.toml"


def _one_line_error(code: int, stderr: str, *fragments: str) -> str:
    assert code == 1
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("reviewflow: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_search_replayed_end_to_end(sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    query = _query(ws)
    code, out, err = run_cli(
        "search",
        query,
        "--replay",
        str(SESSION),
        "--email",
        EMAIL,
        "--json",
        cwd=ws.root,
        env=NO_ENV,
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["query_name"] == "small" and report["count"] == 2
    assert (report["records_added"], report["new_hits"], report["missing"]) == (2, 2, [])
    assert report["translation"] == '"session test"[All Fields]'
    assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", report["started_at"])
    store = open_store(ws.database_url())
    with store.read() as s:
        assert sorted(r.pmid for r in s.exec(select(Record)).all()) == sorted(PUBMED1)
        run = s.exec(select(SearchRun)).one()
        assert run.status == "complete" and run.query == "session test"
    store.dispose()

    # run again (a living-review update): the summary reports the delta
    code, out, err = run_cli("search", query, "--replay", str(SESSION), cwd=ws.root,
                             env={**NO_ENV, "REVIEWFLOW_EMAIL": EMAIL})  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert re.fullmatch(
        r"small: PubMed counts 2 records, 2 PMIDs retrieved \(run 2 of 20\d\d-\d\d-\d\d \d\d:\d\d UTC\)",
        lines[0],
    ), lines[0]
    assert lines[1] == "  since run 1: 0 new PMIDs, 0 no longer found"
    assert (
        lines[2] == "  records added to the review: 0; already in the review (provenance only): 2"
    )


def test_recording_leaves_out_the_key_and_the_email(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    folder = tmp_path / "recorded"
    code, _out, err = run_cli(
        "search", _query(ws), "--replay", str(SESSION), "--record", str(folder), cwd=ws.root,
        env={**NO_ENV, "REVIEWFLOW_EMAIL": EMAIL, "NCBI_API_KEY": API_KEY},
    )  # fmt: skip
    assert code == 0, err
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["001-esearch.xml", "002-efetch.xml", "session.json"]
    for path in folder.iterdir():
        data = path.read_bytes()
        assert API_KEY.encode() not in data and EMAIL.encode() not in data, path
    exchanges = json.loads((folder / "session.json").read_text())["exchanges"]
    assert [e["endpoint"] for e in exchanges] == ["esearch", "efetch"]
    assert (folder / "002-efetch.xml").read_bytes() == (DATA / "efetch_pubmed1.xml").read_bytes()

    # the recording replays into a fresh workspace
    other = tmp_path / "other"
    assert run_cli("init", str(other))[0] == 0
    shutil.copy(ws.root / "queries" / "small.toml", other / "queries" / "small.toml")
    code, out, err = run_cli("search", "queries/small.toml", "--replay", str(folder / "session.json"),
                             "--email", EMAIL, cwd=other, env=NO_ENV)  # fmt: skip
    assert code == 0, err
    assert "records added to the review: 2" in out


def test_offline_is_one_line(sqlite_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a local port nothing listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr("reviewflow.cli.search._sleep", lambda _s: None)
    code, _out, err = run_cli(
        "search", _query(sqlite_workspace), "--email", EMAIL, cwd=sqlite_workspace.root,
        env={**NO_ENV, "REVIEWFLOW_EUTILS_URL": f"http://127.0.0.1:{port}/"},
    )  # fmt: skip
    _one_line_error(
        code, err, f"cannot reach PubMed at http://127.0.0.1:{port}/ (connection refused)"
    )


def test_no_email_is_one_line(sqlite_workspace: Workspace) -> None:
    code, _out, err = run_cli("search", _query(sqlite_workspace), "--replay", str(SESSION),
                              cwd=sqlite_workspace.root, env=NO_ENV)  # fmt: skip
    _one_line_error(code, err, "no contact e-mail for NCBI")


def test_a_bad_strategy_is_one_line(sqlite_workspace: Workspace) -> None:
    query = _query(sqlite_workspace, 'name = "x"\nquery = ""\n')
    code, _out, err = run_cli(
        "search", query, "--email", EMAIL, cwd=sqlite_workspace.root, env=NO_ENV
    )
    _one_line_error(code, err, "queries/small.toml: 'query' is missing or empty")


def test_a_recording_that_does_not_match_is_one_line(sqlite_workspace: Workspace) -> None:
    query = _query(sqlite_workspace, 'name = "x"\nquery = "another query"\n')
    code, _out, err = run_cli("search", query, "--replay", str(SESSION), "--email", EMAIL,
                              cwd=sqlite_workspace.root, env=NO_ENV)  # fmt: skip
    _one_line_error(code, err, "the recording does not match", "term='another query'")
