"""Schema migrations: the database records its schema version (alembic's ``alembic_version``)
and is upgraded in place, in one transaction per migration."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from reviewflow.store.engine import Store

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(store: Store, connection: object | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config_for_scripts()).get_current_head()
    assert head is not None
    return head


def _config_for_scripts() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def known_revisions() -> set[str]:
    return {
        rev.revision for rev in ScriptDirectory.from_config(_config_for_scripts()).walk_revisions()
    }


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: Store, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the database to ``revision``; returns (before, after)."""
    before = current_revision(store)
    with store.engine.begin() as conn:
        command.upgrade(_config(store, conn), revision)
    return before, current_revision(store)


def is_current(store: Store) -> bool:
    return current_revision(store) == head_revision()
