"""The audit log: one append-only row for every change to a decision, merge or value."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from reviewflow.store.models import AuditEntry


def audit(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    record_id: int | None = None,
) -> None:
    """Add an audit row in the caller's transaction (so it commits with the change itself)."""
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            record_id=record_id,
            before=before,
            after=after,
        )
    )
