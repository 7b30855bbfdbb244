"""What every command shares: finding the workspace, opening the database, printing errors."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewflow.errors import ReviewflowError
from reviewflow.workspace import Workspace, find_workspace

if TYPE_CHECKING:  # the store (SQLAlchemy, alembic) loads when a command first needs it
    from reviewflow.store import Store


@dataclass
class AppContext:
    """The global options, resolved lazily: a command asks only for what it needs."""

    db_url: str | None = None
    workspace_dir: Path | None = None
    user: str | None = None  # --user NAME: who signs in, in a review protected by passphrases
    _workspace: Workspace | None = None
    _store: Store | None = None

    def workspace(self, *, adding_reviewer: bool = False) -> Workspace:
        """The workspace; ``adding_reviewer`` reads a review.toml that lists fewer reviewers
        than reviewers_per_record (``reviewer add`` mends it)."""
        if self._workspace is None:
            self._workspace = find_workspace(self.workspace_dir, adding_reviewer=adding_reviewer)
        return self._workspace

    def store(self) -> Store:
        """The review's database, schema upgraded; reviewers synced from review.toml."""
        if self._store is None:
            from reviewflow.store import open_store

            ws = self.workspace()
            self._store = open_store(ws.database_url(self.db_url))
            from reviewflow.store.reviewers import sync_reviewers

            sync_reviewers(self._store, ws.config)
        return self._store

    def as_reviewer(self, name: str) -> Store:
        """The store, signed in as reviewer ``name`` when the review is protected."""
        if self.user is not None and self.user != name:
            raise ReviewflowError(f"--user {self.user} cannot work as {name}")
        from reviewflow.cli.signin import sign_in_for

        store = self.store()
        sign_in_for(store, self.workspace().config, name, lead=False)
        return store

    def as_lead(self, name: str | None = None) -> Store:
        """The store, signed in for an adjudicator's command (the core's guard checks the role):
        as ``name``, ``--user``, or the review's one adjudicator."""
        from reviewflow.cli.signin import sign_in_for

        if self.user is not None and name is not None and self.user != name:
            raise ReviewflowError(f"--user {self.user} cannot work as {name}")
        store = self.store()
        sign_in_for(store, self.workspace().config, name or self.user, lead=True)
        return store

    def as_user(self) -> Store:
        """The store, signed in as ``--user`` when one is given (else as nobody)."""
        return self.as_reviewer(self.user) if self.user else self.store()

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()


pass_app = click.make_pass_decorator(AppContext)


def echo_json(data: Any) -> None:
    """Machine-readable output: one JSON document on stdout, stable key order."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str, ensure_ascii=False))


def fail(message: str) -> None:
    raise ReviewflowError(message)


def print_error(message: str) -> None:
    click.echo(f"reviewflow: error: {message}", err=True)


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()
