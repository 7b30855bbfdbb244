"""Keeping the reviewer table in step with review.toml, and finding reviewers by name."""

from __future__ import annotations

from sqlmodel import select

from reviewflow.errors import WorkspaceError
from reviewflow.store.engine import Store
from reviewflow.store.models import Reviewer
from reviewflow.workspace import ReviewConfig


def sync_reviewers(store: Store, config: ReviewConfig) -> None:
    """Add reviewers named in review.toml and update their roles. Reviewers who left the file
    stay in the database: their decisions remain part of the record. Writes only on change."""
    with store.read() as s:
        current = {r.name: r.role for r in s.exec(select(Reviewer)).all()}
    wanted = {r.name: r.role for r in config.reviewers}
    if all(current.get(name) == role for name, role in wanted.items()):
        return
    with store.write() as s:
        for name, role in wanted.items():
            row = s.exec(select(Reviewer).where(Reviewer.name == name)).first()
            if row is None:
                s.add(Reviewer(name=name, role=role))
            elif row.role != role:
                row.role = role
                s.add(row)


def reviewer_id(store: Store, name: str) -> int:
    with store.read() as s:
        row = s.exec(select(Reviewer).where(Reviewer.name == name)).first()
    if row is None or row.id is None:
        raise WorkspaceError(f"review.toml: no reviewer named {name!r}; add a [[reviewers]] entry")
    return row.id
