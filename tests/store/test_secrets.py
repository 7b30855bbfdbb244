"""A PostgreSQL password in the database URL never shows: not in an error, a log record, the
report, the exports, the audit table or any other table.

The error cases need no server (they fail before or at the connection); the rest runs a small
review on the test PostgreSQL server with a password in its URL (the server trusts local
connections, so the password is carried everywhere the URL goes, which is what is checked).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from reviewflow.errors import DatabaseError, hide_passwords, user_message
from reviewflow.screening.decisions import decide
from reviewflow.store import open_store
from reviewflow.workspace import Workspace, find_workspace
from tests.conftest import _fresh_pg_database, run_cli

SECRET = "Pw-s3cr3t-q7"
PUBMED = Path(__file__).parents[1] / "data" / "entrez" / "efetch_pubmed2.xml"
RIS = Path(__file__).parents[1] / "data" / "ris" / "example_full.ris"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://ana:{SECRET}@127.0.0.1:1/review",  # nothing listens on port 1
        f"postgresql://ana:x@{SECRET}@127.0.0.1:1/review",  # an "@" in the password
        f"postgresql://ana:x/{SECRET}@127.0.0.1:1/review",  # a "/" in the password
        f"postgresql://ana:{SECRET}@127.0.0.1:port/review",  # a port that is not a number
        f"postgresql://ana:{SECRET}@[::1/review",  # a broken IPv6 address
        f"postgresql://ana@127.0.0.1:1/review?password={SECRET}",  # libpq's query parameter
        f"postgresql://ana:{SECRET}@127.0.0.1:1/review?nonsense=1",  # refused by the driver
        f"postgresql://ana:{SECRET}@/review?host=/nonexistent",  # a socket folder
        f"mysql://ana:{SECRET}@127.0.0.1/review",  # not a supported database
    ],
)
def test_errors_never_show_the_password(sqlite_workspace: Workspace, url: str) -> None:
    for args in (("status",), ("status", "--json"), ("report", "--out", "r")):
        code, out, err = run_cli("--db", url, *args, cwd=sqlite_workspace.root)
        assert code == 1, (url, out, err)
        assert SECRET not in out + err, err
        assert "internal error" not in err and err.count("\n") == 1, err
        assert "***" in err or "?password" not in url, err


def test_hide_passwords_in_any_message() -> None:
    text = (
        f"a postgresql://ana:{SECRET}@db.example/r b 'postgres://u:{SECRET}@h:5/x': "
        f"host=h password={SECRET} user=u, https://x.example/?password={SECRET}&y=1"
    )
    shown = hide_passwords(text)
    assert SECRET not in shown and shown.count("***") == 4
    for untouched in ("sqlite:///data/a@b.sqlite", "postgresql://ana@db/r", "x@example.org"):
        assert hide_passwords(untouched) == untouched
    # the last line of defence: whatever an exception says, the one line a user sees hides it
    for exc in (RuntimeError(f"bug near postgresql://u:{SECRET}@h/db"), DatabaseError(text)):
        assert SECRET not in user_message(exc)


@pytest.mark.postgres
def test_nothing_keeps_the_password(
    postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = _fresh_pg_database(postgres_url).replace("postgres@", f"postgres:{SECRET}@", 1)
    assert SECRET in url
    root = tmp_path / "review"
    said: list[str] = []

    def cli(*args: str) -> str:
        code, out, err = run_cli("--db", url, *args, cwd=root if root.exists() else tmp_path)
        said.extend([out, err])
        assert code == 0, err
        return out

    cli("init", str(root), "--title", "Secrets")
    (root / "review.toml").write_text(
        (root / "review.toml").read_text().replace('url = ""', f'url = "{url}"')
    )
    cli("import", str(PUBMED), "--source", "PubMed")
    cli("import", str(RIS), "--source", "Embase")
    cli("dedup")
    ws = find_workspace(root)
    store = open_store(url)
    try:
        decide(store, "reviewer1", 1, "title-abstract", "include", note="looks relevant")
    finally:
        store.dispose()
    status = cli("status", "--json")
    assert "postgresql://postgres:***@" in status
    cli("export", "records", "--format", "csv", "--out", str(tmp_path / "records.csv"))
    cli("report", "--out", str(tmp_path / "report"))
    # a server error on the same password: a database that does not exist
    code, out, err = run_cli("--db", url.rsplit("/", 1)[0] + "/absent", "status", cwd=root)
    assert code == 1 and "absent" in err
    said += [out, err]

    assert all(SECRET not in text for text in said)
    assert SECRET not in caplog.text
    for path in [tmp_path / "records.csv", *(tmp_path / "report").iterdir()]:
        assert SECRET.encode() not in path.read_bytes(), path.name
    store = open_store(ws.database_url())
    try:
        with store.read() as s:
            for table in SQLModel.metadata.sorted_tables:  # the audit table and every other
                rows = s.execute(select(table)).all()
                assert all(SECRET not in repr(tuple(row)) for row in rows), table.name
    finally:
        store.dispose()
