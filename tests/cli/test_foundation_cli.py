"""init and status, and how every command fails: one line on stderr, non-zero exit, no traceback."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.store import open_store
from reviewflow.store.models import Decision, DuplicateLink, Reviewer
from reviewflow.workspace import Workspace
from tests.conftest import run_cli
from tests.real_data import nsaids_records


def assert_one_line_error(code: int, stderr: str, *fragments: str) -> None:
    assert code != 0
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("reviewflow: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_init_creates_a_workspace_with_a_migrated_database(tmp_path: Path) -> None:
    code, out, err = run_cli("init", str(tmp_path / "rev"), "--title", "Rescue stenting")
    assert code == 0, err
    root = tmp_path / "rev"
    assert {p.name for p in root.iterdir()} >= {"review.toml", "queries", "forms", "db"}
    assert (root / "db" / "reviewflow.sqlite").is_file()
    assert 'title = "Rescue stenting"' in (root / "review.toml").read_text()
    with sqlite3.connect(root / "db" / "reviewflow.sqlite") as conn:
        names = {n for (n,) in conn.execute("SELECT name FROM reviewer")}
    assert names == {"reviewer1", "reviewer2", "adjudicator"}
    assert "Created review workspace" in out


def test_init_refuses_an_existing_workspace(sqlite_workspace: Workspace) -> None:
    code, _, err = run_cli("init", str(sqlite_workspace.root))
    assert_one_line_error(code, err, "already a workspace")


def test_status_counts_every_stage(workspace: Workspace) -> None:
    store = open_store(workspace.database_url())
    with store.write() as s:
        store_records(s, start_run(s, kind="search", source="PubMed"), nsaids_records(10))
        store_records(s, start_run(s, kind="import", source="Embase"), nsaids_records(2))
    code, out, err = run_cli("status", "--json", cwd=workspace.root)
    assert code == 0, err
    data = json.loads(out)
    assert data["identification"]["records"] == 12
    assert data["identification"]["by_source"] == {"Embase": 2, "PubMed": 10}
    with store.write() as s:
        # the Embase copies are duplicates of records 1 and 2; two reviewers screen records 1-3
        s.add(DuplicateLink(group_id=1, record_id=11, kept_record_id=1, method="pmid"))
        s.add(DuplicateLink(group_id=2, record_id=12, kept_record_id=2, method="pmid"))
        ids = {r.name: r.id for r in s.exec(__import__("sqlmodel").select(Reviewer)).all()}
        for rid, (a, b) in {
            1: ("include", "include"),
            2: ("exclude", "exclude"),
            3: ("include", "maybe"),
        }.items():
            s.add(
                Decision(
                    record_id=rid, reviewer_id=ids["reviewer1"], stage="title-abstract", decision=a
                )
            )
            s.add(
                Decision(
                    record_id=rid, reviewer_id=ids["reviewer2"], stage="title-abstract", decision=b
                )
            )
    store.dispose()
    data = json.loads(run_cli("status", "--json", cwd=workspace.root)[1])
    assert data["identification"]["duplicates_removed"] == 2
    assert data["title_abstract"] == {
        "records": 10, "pending": 7, "conflicts": 1, "resolved": 0, "included": 1, "excluded": 1,
    }  # fmt: skip
    assert data["full_text"]["sought"] == 1
    code, out, _ = run_cli("status", cwd=workspace.root)
    assert "Title/abstract: 10 records; 1 included, 1 excluded, 1 conflict, 7 awaiting" in out
    assert "Identification: 12 records from 2 searches/imports" in out


def test_status_gives_each_reviewers_screening_speed(workspace: Workspace) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlmodel import col, select

    from reviewflow.screening.decisions import decide
    from reviewflow.store.models import AuditEntry

    store = open_store(workspace.database_url())
    with store.write() as s:
        store_records(s, start_run(s, kind="search", source="PubMed"), nsaids_records(8))
    # reviewer1: 5 decisions 30 s apart, a two-hour break, then 2 more 60 s apart
    # -> 5 working gaps (4 x 30 s + 60 s = 180 s) -> 5 / 180 s = 100 per hour
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    seconds = [0, 30, 60, 90, 120, 7320, 7380]
    for rid in range(1, 8):
        decide(store, "reviewer1", rid, "title-abstract", "exclude")
    for rid in range(1, 4):  # reviewer2: 3 decisions within a second (as a program makes
        decide(store, "reviewer2", rid, "title-abstract", "include")  # them): no rate
    with store.write() as s:
        rows = s.exec(select(AuditEntry).where(AuditEntry.actor == "reviewer1")
                      .order_by(col(AuditEntry.id))).all()  # fmt: skip
        for row, sec in zip(rows, seconds, strict=True):
            row.at = start + timedelta(seconds=sec)
            s.add(row)
    store.dispose()
    code, out, err = run_cli("status", "--json", cwd=workspace.root)
    assert code == 0, err
    assert json.loads(out)["screening_speed"] == {
        "title-abstract": {
            "reviewer1": {"decisions": 7, "per_hour": 100.0},
            "reviewer2": {"decisions": 3, "per_hour": None},
        }
    }
    out = run_cli("status", cwd=workspace.root)[1]
    assert (
        "Screening speed, title-abstract: reviewer1 7 decisions (100/hour), "
        "reviewer2 3 decisions (under a minute of screening: no rate)" in out
    )


def test_no_workspace_is_one_clear_line(tmp_path: Path) -> None:
    code, _, err = run_cli("status", cwd=tmp_path)
    assert_one_line_error(code, err, "no review workspace here", "reviewflow init")


@pytest.mark.parametrize(
    "broken, fragment",
    [
        (
            '[review]\ntitle = "x"\nquestion = \n',
            "review.toml: invalid TOML: Invalid value (at line 3, column 12)",
        ),
        ("[review]\nquestion = 'no title'\n", "[review] needs a 'title' string"),
        (
            '[review]\ntitle = "x"\n[[reviewers]]\nname = "a"\nrole = "boss"\n',
            "[[reviewers]] entry 1: role must be",
        ),
        (
            '[review]\ntitle = "x"\n[screening]\nreviewers_per_record = 0\n',
            "reviewers_per_record must be",
        ),
        (
            '[review]\ntitle = "x"\n[highlights]\ninclude = ["stent"]\n',
            "review.toml: unknown section [highlights]; did you mean 'highlight'?",
        ),
        (
            '[review]\ntitle = "x"\n[screening]\nfulltext_exclusion_reason = ["a"]\n',
            "[screening] unknown key 'fulltext_exclusion_reason'; "
            "did you mean 'fulltext_exclusion_reasons'?",
        ),
        (
            '[review]\ntitle = "x"\n[[reviewer]]\nname = "a"\n',
            "unknown section [reviewer]; did you mean 'reviewers'?",
        ),
        (
            '[review]\ntitle = "x"\n[[reviewers]]\nname = "a"\nrloe = "reviewer"\n',
            "[reviewers] unknown key 'rloe'; did you mean 'role'?",
        ),
        (
            '[review]\ntitle = "x"\n[screening]\nreviewers_per_record = 3\n'
            '[[reviewers]]\nname = "a"\n[[reviewers]]\nname = "b"\n',
            "reviewers_per_record = 3 but only 2 reviewers listed",
        ),
    ],
)
def test_an_unreadable_review_toml_names_the_file_and_place(
    tmp_path: Path, broken: str, fragment: str
) -> None:
    (tmp_path / "review.toml").write_text(broken)
    code, _, err = run_cli("status", cwd=tmp_path)
    assert_one_line_error(code, err, fragment)


def test_reviewer_add_mends_a_team_smaller_than_reviewers_per_record(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path))[0] == 0
    toml = tmp_path / "review.toml"
    toml.write_text(toml.read_text().split("[[reviewers]]")[0] + '[[reviewers]]\nname = "a"\n')
    code, _, err = run_cli("status", cwd=tmp_path)
    assert_one_line_error(code, err, "reviewers_per_record = 2 but only 1 reviewer listed")
    code, out, err = run_cli("reviewer", "add", "b", cwd=tmp_path)
    assert code == 0, err
    assert run_cli("status", cwd=tmp_path)[0] == 0


def test_review_toml_in_a_wrong_encoding(tmp_path: Path) -> None:
    (tmp_path / "review.toml").write_bytes('[review]\ntitle = "Études"\n'.encode("latin-1"))
    code, _, err = run_cli("status", cwd=tmp_path)
    assert_one_line_error(code, err, "review.toml: not UTF-8 text")


def test_unknown_database_url(sqlite_workspace: Workspace) -> None:
    code, _, err = run_cli("--db", "oracle://scott@db/prod", "status", cwd=sqlite_workspace.root)
    assert_one_line_error(code, err, "unknown database URL 'oracle://scott@db/prod'")


def test_a_database_locked_by_another_writer(sqlite_workspace: Workspace) -> None:
    toml = sqlite_workspace.root / "review.toml"
    toml.write_text(toml.read_text() + '\n[[reviewers]]\nname = "newcomer"\n')  # status must write
    other = sqlite3.connect(
        sqlite_workspace.root / "db" / "reviewflow.sqlite", isolation_level=None
    )
    other.execute("BEGIN IMMEDIATE")
    try:
        code, _, err = run_cli(
            "status", cwd=sqlite_workspace.root, env={"REVIEWFLOW_BUSY_TIMEOUT_MS": "200"}
        )
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert_one_line_error(code, err, "locked by another writer")
    code, _, err = run_cli("status", cwd=sqlite_workspace.root)
    assert code == 0, err


def test_the_database_url_comes_from_the_environment(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    code, _, err = run_cli(
        "status",
        cwd=sqlite_workspace.root,
        env={"REVIEWFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/none.sqlite"},
    )
    assert_one_line_error(code, err, "no database at", "none.sqlite")
