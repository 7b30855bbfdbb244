"""Opening the review's database: SQLite (embedded, default) or PostgreSQL, one code path.

SQLite connections get WAL, ``busy_timeout`` and ``foreign_keys=ON``; write units of work start
with ``BEGIN IMMEDIATE`` so two processes queue for the write lock instead of failing half-way.
Use :meth:`Store.write` for a short write transaction and :meth:`Store.read` for reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlmodel import Session, create_engine

from reviewflow.errors import DatabaseError, hide_passwords

DEFAULT_BUSY_TIMEOUT_MS = 5000


def busy_timeout_ms() -> int:
    """How long a writer waits for another writer's lock (``REVIEWFLOW_BUSY_TIMEOUT_MS``)."""
    return int(os.environ.get("REVIEWFLOW_BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS))


def redact(url: str) -> str:
    """The URL without its password (in the address or a ``password=`` parameter), for messages."""
    return hide_passwords(url)


def normalise_url(url: str) -> str:
    """Accept ``sqlite:///path`` and ``postgresql://…``; refuse anything else with a clear line."""
    usage = "use sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseError(f"cannot read database URL {redact(url)!r}: {usage}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return url
    if "@" in (parsed.host or ""):  # the password holds an "@": the rest would be taken as host
        raise DatabaseError(
            f"cannot read database URL {redact(url)!r}: write an '@' in the password as %40"
        )
    if backend in ("postgresql", "postgres"):
        return str(parsed.set(drivername="postgresql+psycopg").render_as_string(False))
    raise DatabaseError(
        f"unknown database URL {redact(url)!r}: reviewflow supports sqlite:///PATH and "
        "postgresql://USER@HOST:PORT/DBNAME"
    )


def _sqlite_pragmas(timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {timeout_ms}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    return on_connect


def _sqlite_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get("reviewflow_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """A handle on one review database. Cheap to keep; sessions are per unit of work."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        # a file path is shown as the path (not percent-encoded), a server URL without password
        self.display_url = (
            f"sqlite:///{make_url(self.url).database or ''}" if self.is_sqlite else redact(url)
        )
        self.busy_timeout_ms = busy_timeout_ms()
        # who is signed in on this handle (reviewflow.access sets both; None: nobody yet)
        self.identity: Any = None
        self.protected: bool | None = None
        if self.is_sqlite:
            db_path = make_url(self.url).database
            if db_path and db_path != ":memory:":
                parent = Path(db_path).parent
                if not parent.is_dir():
                    raise DatabaseError(f"cannot open {db_path}: folder {parent} does not exist")
            self.engine: Engine = create_engine(
                self.url, connect_args={"timeout": self.busy_timeout_ms / 1000}
            )
            event.listen(self.engine, "connect", _sqlite_pragmas(self.busy_timeout_ms))
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(
                self.url,
                pool_pre_ping=True,
                connect_args={"options": f"-c lock_timeout={self.busy_timeout_ms}"},
            )

    # -- units of work ---------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed. Objects read stay usable (detached)
        after the block."""
        with self._translate_errors(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A short write transaction: committed on leaving the block, rolled back on error."""
        with self._translate_errors(), Session(self.engine, expire_on_commit=False) as session:
            if self.is_sqlite:
                session.connection(execution_options={"reviewflow_begin": "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise self._database_error(exc) from None

    def _database_error(self, exc: DBAPIError) -> DatabaseError:
        message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "locked" in message or "busy" in message:
            return DatabaseError(
                f"{self.display_url}: the database is locked by another writer "
                f"(waited {self.busy_timeout_ms / 1000:g} s); try again when it has finished"
            )
        return DatabaseError(f"{self.display_url}: {message}")

    def check_connection(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DBAPIError as exc:  # also a connection option the driver refuses
            raise self._database_error(exc) from None

    def dispose(self) -> None:
        self.engine.dispose()
