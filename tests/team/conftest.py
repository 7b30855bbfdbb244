"""A protected review: real NSAIDs records, passphrases for reviewer1, reviewer2 and the
adjudicator (set through the CLI, as a lead would), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from reviewflow.access import passphrase
from reviewflow.store import Store, open_store
from reviewflow.workspace import Workspace
from tests.conftest import run_cli
from tests.screening.helpers import add_records, nsaids_records

PASSPHRASES = {
    "adjudicator": "lead passphrase 1",
    "reviewer1": "first reviewer's words",
    "reviewer2": "second reviewer's words",
}


@pytest.fixture(autouse=True)
def quick_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash at a low cost so the suite stays fast (test_passphrases checks the real cost)."""
    monkeypatch.setattr(passphrase, "N", 2**10)


def set_passphrase(ws: Workspace, name: str, secret: str, *, as_: str | None = None) -> int:
    """``reviewflow reviewer passphrase NAME`` with the new passphrase on stdin (not a tty);
    signed in as ``as_`` (its passphrase from the environment) when given."""
    args = ["-w", str(ws.root)] + (["--user", as_] if as_ else [])
    env = {"REVIEWFLOW_PASSPHRASE": PASSPHRASES[as_]} if as_ else {}
    from click.testing import CliRunner

    from reviewflow.cli import main

    result = CliRunner().invoke(main, [*args, "reviewer", "passphrase", name],
                                input=secret + "\n", env=env)  # fmt: skip
    return result.exit_code


def cli_as(ws: Workspace, who: str | None, *args: str) -> tuple[int, str, str]:
    """Run a command signed in as ``who`` (passphrase from the environment)."""
    env = {"REVIEWFLOW_PASSPHRASE": PASSPHRASES[who]} if who else {}
    head = ["-w", str(ws.root)] + (["--user", who] if who else [])
    return run_cli(*head, *args, env=env)


@dataclass
class Team:
    ws: Workspace
    store: Store
    ids: list[int]


def protect(ws: Workspace) -> None:
    assert set_passphrase(ws, "adjudicator", PASSPHRASES["adjudicator"]) == 0
    for name in ("reviewer1", "reviewer2"):
        assert set_passphrase(ws, name, PASSPHRASES[name], as_="adjudicator") == 0


def _team(ws: Workspace) -> Iterator[Team]:
    store = open_store(ws.database_url())
    ids = add_records(store, nsaids_records(12))
    protect(ws)
    yield Team(ws, store, ids)
    store.dispose()


@pytest.fixture
def team(workspace: Workspace) -> Iterator[Team]:
    """On both backends."""
    yield from _team(workspace)


@pytest.fixture
def sqlite_team(sqlite_workspace: Workspace) -> Iterator[Team]:
    """On the review's own SQLite file only (for the slower browser tests)."""
    yield from _team(sqlite_workspace)
