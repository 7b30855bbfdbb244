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
    _workspace: Workspace | None = None
    _store: Store | None = None

    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = find_workspace(self.workspace_dir)
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
