"""Alembic environment: runs on the connection that reviewflow hands it (see store/migrate.py)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from reviewflow.store import models

assert models  # the tables register themselves on SQLModel.metadata
target_metadata = SQLModel.metadata
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
