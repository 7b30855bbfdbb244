"""Shared fixtures: temporary workspaces, and the two databases every store test runs on.

The PostgreSQL half starts a throw-away server: ``initdb`` into a temporary folder (as the
``postgres`` user when run as root), on a free loopback port, stopped when the session ends.
Set ``REVIEWFLOW_TEST_PG_URL`` to use an existing server instead. Only where no PostgreSQL
binaries exist does that half skip, and it says why.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewflow.cli import main
from reviewflow.store import Store, open_store
from reviewflow.workspace import Workspace, find_workspace

DATA = Path(__file__).parent / "data"


# -- PostgreSQL ---------------------------------------------------------------------------------
def _pg_bindir() -> Path | None:
    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(initdb).parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="reviewflow-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        proc = subprocess.run(
            [*self.as_postgres, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}")

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            opts,
            "-w",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL server for this test session (its ``postgres`` database)."""
    if os.environ.get("REVIEWFLOW_TEST_PG_URL"):
        yield os.environ["REVIEWFLOW_TEST_PG_URL"]
        return
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL binaries not found (Debian package postgresql): PostgreSQL half skipped"
        )
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _fresh_pg_database(server_url: str) -> str:
    import psycopg

    name = f"rf_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        server_url.replace("postgresql://", "postgresql://", 1), autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'review.sqlite'}"
    return _fresh_pg_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated, empty review database on each backend."""
    s = open_store(db_url, create=True)
    yield s
    s.dispose()


# -- workspaces ---------------------------------------------------------------------------------
def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run the ``reviewflow`` command in-process; returns (exit code, stdout, stderr)."""
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workspace(tmp_path: Path, db_url: str) -> Workspace:
    """A new review workspace (reviewers reviewer1, reviewer2, adjudicator) on each backend."""
    root = tmp_path / "review"
    code, _out, err = run_cli("--db", db_url, "init", str(root), "--title", "Test review")
    assert code == 0, err
    toml = root / "review.toml"
    toml.write_text(toml.read_text().replace('url = ""', f'url = "{db_url}"'))
    return find_workspace(root)


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Workspace:
    """A new review workspace on its default SQLite file (db/reviewflow.sqlite)."""
    root = tmp_path / "review"
    code, _out, err = run_cli("init", str(root), "--title", "Test review")
    assert code == 0, err
    return find_workspace(root)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran on PostgreSQL, so a skipped half cannot go unnoticed."""
    counts = {"ran": 0, "skipped": 0}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            on_postgres = "[postgresql" in getattr(report, "nodeid", "")
            counted_phase = getattr(report, "when", "call") == "call" or outcome == "skipped"
            if on_postgres and counted_phase:
                counts["skipped" if outcome == "skipped" else "ran"] += 1
    terminalreporter.write_line(
        f"PostgreSQL half: {counts['ran']} tests ran on a throw-away server, "
        f"{counts['skipped']} skipped"
    )
