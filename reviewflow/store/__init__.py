"""The review database: tables, connections, migrations, audit log."""

from __future__ import annotations

from reviewflow.errors import DatabaseError
from reviewflow.store.engine import Store
from reviewflow.store.migrate import current_revision, head_revision, upgrade


def open_store(url: str, *, create: bool = False) -> Store:
    """Open a review database, upgrading its schema in place when it is older than this code.

    A SQLite file that does not exist is created only with ``create=True`` (``reviewflow
    init``); otherwise that is an error naming the file.
    """
    store = Store(url)
    if store.is_sqlite and not create:
        path = store.engine.url.database
        if path and path != ":memory:":
            from pathlib import Path

            if not Path(path).exists():
                raise DatabaseError(
                    f"no database at {path}: run 'reviewflow init' in the workspace, or pass --db"
                )
    store.check_connection()
    if current_revision(store) != head_revision():
        upgrade(store)
    return store


__all__ = ["Store", "open_store"]
