"""Migrations: they build exactly the models' schema, and upgrade old databases in place."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from reviewflow.store import Store, open_store
from reviewflow.store import models as _models
from reviewflow.store.migrate import _config_for_scripts, current_revision, head_revision, upgrade

assert _models


def test_migrations_build_exactly_the_models_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []
    assert current_revision(store) == head_revision()


def test_every_revision_upgrades_to_head_keeping_the_data(db_url: str) -> None:
    """Start from the first schema ever released, put a review in it, upgrade, lose nothing."""
    revisions = list(ScriptDirectory.from_config(_config_for_scripts()).walk_revisions())
    first = revisions[-1].revision
    store = Store(db_url)
    upgrade(store, first)
    assert current_revision(store) == first
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO reviewer (id, name, role, created_at) VALUES (1, 'ana', 'reviewer', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO record (id, title, abstract, authors, journal, journal_abbrev, volume, issue, pages, doi, pmid,"
                " pmcid, issn, language, publication_types, mesh_terms, keywords, vernacular_title,"
                " comments_corrections, record_type, url, extra, created_at) VALUES (1, 'Stenting after failed thrombectomy',"
                " 'abstract', '[\"Chang Y\"]', 'J Neurointerv Surg', '', '10', '2', '120-4', '10.1/x', '29000001', '', '',"
                " '[]', '[]', '[]', '[]', '', '[]', 'article', '', '{}', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO decision (record_id, reviewer_id, stage, decision, reason, note, decided_at)"
                " VALUES (1, 1, 'title-abstract', 'include', '', 'rescue stenting', CURRENT_TIMESTAMP)"
            )
        )
    store.dispose()
    upgraded = open_store(db_url)  # opening an old database upgrades it in place
    assert current_revision(upgraded) == head_revision()
    with upgraded.engine.connect() as conn:
        assert conn.execute(text("SELECT title, pmid FROM record")).one() == (
            "Stenting after failed thrombectomy",
            "29000001",
        )
        assert conn.execute(text("SELECT decision, note FROM decision")).one() == (
            "include",
            "rescue stenting",
        )
        assert conn.execute(text("SELECT name FROM reviewer")).scalar() == "ana"
    upgraded.dispose()


def test_there_is_an_old_schema_to_upgrade_from() -> None:
    revisions = list(ScriptDirectory.from_config(_config_for_scripts()).walk_revisions())
    assert len(revisions) >= 2, "the upgrade test needs a released schema older than head"


def test_the_schema_version_is_recorded_in_the_database(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'r.sqlite'}", create=True)
    with store.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            == head_revision()
        )


def test_the_fast_schema_check_knows_the_newest_migration() -> None:
    from reviewflow.store import SCHEMA_HEAD

    assert head_revision() == SCHEMA_HEAD


def test_a_database_from_a_newer_reviewflow_is_refused(tmp_path: Path) -> None:
    import pytest

    from reviewflow.errors import DatabaseError

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    open_store(url, create=True).dispose()
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    store.dispose()
    with pytest.raises(DatabaseError, match="schema version 0099 is newer than this reviewflow"):
        open_store(url)
