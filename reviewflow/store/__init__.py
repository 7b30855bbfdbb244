"""The review database: tables, connections, migrations, audit log."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from reviewflow.errors import DatabaseError
from reviewflow.store.engine import Store

# The newest migration in store/migrations/versions (a test keeps the two in step). Checking it
# with one SELECT keeps alembic out of every command's start-up; alembic loads only to upgrade.
SCHEMA_HEAD = "0011"


def _schema_version(store: Store) -> str | None:
    try:
        with store.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return None  # a new, empty database


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
    version = _schema_version(store)
    if version != SCHEMA_HEAD:
        from reviewflow.store.migrate import known_revisions, upgrade

        if version is not None and version not in known_revisions():
            raise DatabaseError(
                f"{store.display_url}: schema version {version} is newer than this reviewflow "
                f"(which knows up to {SCHEMA_HEAD}); upgrade reviewflow"
            )
        upgrade(store)
    return store


__all__ = ["Store", "open_store"]
