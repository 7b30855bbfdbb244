"""Who is signed in: by passphrase, by a served session, or by a PostgreSQL team role.

A review is *protected* once any reviewer has a passphrase (or when it is opened through a
PostgreSQL team role). Until then reviewflow is used as a one-person tool and nobody signs in.
The signed-in :class:`Identity` lives on the :class:`~reviewflow.store.Store` handle
(``store.identity``), where the guard in :mod:`reviewflow.access.guard` reads it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from reviewflow.access.passphrase import (
    burn_time,
    check_strength,
    hash_passphrase,
    verify_passphrase,
)
from reviewflow.errors import AccessError, WorkspaceError
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import Reviewer, ReviewerSecret, ReviewSession, utcnow

ADJUDICATOR = "adjudicator"
SIGN_IN_FAILED = "unknown reviewer name or wrong passphrase"
SESSION_HOURS = 12


@dataclass(frozen=True)
class Identity:
    name: str
    role: str  # reviewer | adjudicator
    how: str  # passphrase | session | database-role

    @property
    def is_lead(self) -> bool:
        return self.role == ADJUDICATOR


@dataclass(frozen=True)
class ReviewerInfo:
    name: str
    role: str
    has_passphrase: bool
    passphrase_set_at: datetime | None
    db_role: str


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def database_identity(store: Store) -> Identity | None:
    """The reviewer whose PostgreSQL team role this connection logged in as, if any."""
    if store.is_sqlite:
        return None
    with store.read() as s:
        row = s.execute(
            text("SELECT name, role FROM reviewer WHERE db_role <> '' AND db_role = current_user")
        ).first()
    return Identity(row[0], row[1], "database-role") if row else None


def is_protected(store: Store) -> bool:
    """True once a reviewer has a passphrase, or on a PostgreSQL team-role connection."""
    if store.protected is None:
        if database_identity(store) is not None:
            store.protected = True
        else:
            with store.read() as s:
                n = s.scalar(select(func.count()).select_from(ReviewerSecret))
            store.protected = bool(n)
    return bool(store.protected)


def has_passphrase(store: Store, name: str | None = None, role: str | None = None) -> bool:
    """Whether reviewer ``name`` (or anyone of ``role``) has a passphrase."""
    query = (
        select(func.count())
        .select_from(ReviewerSecret)
        .join(Reviewer, col(Reviewer.id) == col(ReviewerSecret.reviewer_id))
    )
    if name is not None:
        query = query.where(Reviewer.name == name)
    if role is not None:
        query = query.where(Reviewer.role == role)
    with store.read() as s:
        return bool(s.scalar(query))


def _reviewer(s: Session, name: str) -> Reviewer | None:
    return s.exec(select(Reviewer).where(Reviewer.name == name)).first()


def reviewers(store: Store) -> list[ReviewerInfo]:
    with store.read() as s:
        rows = s.exec(select(Reviewer).order_by(col(Reviewer.id))).all()
        hashes = {x.reviewer_id: x for x in s.exec(select(ReviewerSecret)).all()}
    return [
        ReviewerInfo(
            r.name,
            r.role,
            r.id in hashes,
            hashes[r.id].set_at if r.id in hashes else None,
            r.db_role,
        )
        for r in rows
    ]


def set_passphrase(store: Store, name: str, passphrase: str, by: str) -> None:
    """Store ``name``'s new passphrase as a scrypt hash (audited; the hash is not)."""
    check_strength(passphrase)
    digest = hash_passphrase(passphrase)  # slow: outside the write transaction
    with store.write() as s:
        row = _reviewer(s, name)
        if row is None or row.id is None:
            raise WorkspaceError(f"review.toml: no reviewer named {name!r}")
        secret = s.exec(select(ReviewerSecret).where(ReviewerSecret.reviewer_id == row.id)).first()
        action = "auth.passphrase_change" if secret else "auth.passphrase_set"
        if secret is None:
            secret = ReviewerSecret(reviewer_id=row.id, passphrase_hash=digest, set_by=by)
        else:
            secret.passphrase_hash, secret.set_at, secret.set_by = digest, utcnow(), by
        s.add(secret)
        # a new passphrase ends the sessions signed in with the old one
        for old in s.exec(
            select(ReviewSession).where(
                ReviewSession.reviewer_id == row.id, col(ReviewSession.revoked_at).is_(None)
            )
        ).all():
            old.revoked_at = utcnow()
            s.add(old)
        s.flush()
        audit(s, by, action, "reviewer_secret", secret.id, None, {"reviewer": name})
    store.protected = True


def check_passphrase(store: Store, name: str, passphrase: str) -> Identity:
    """The identity of ``name`` when ``passphrase`` is theirs. A wrong name and a wrong
    passphrase give the same error and take the same time."""
    with store.read() as s:
        row = _reviewer(s, name)
        secret = (
            s.exec(select(ReviewerSecret).where(ReviewerSecret.reviewer_id == row.id)).first()
            if row is not None
            else None
        )
    if row is None or secret is None:
        burn_time(passphrase)
        raise AccessError(SIGN_IN_FAILED)
    if not verify_passphrase(passphrase, secret.passphrase_hash):
        raise AccessError(SIGN_IN_FAILED)
    return Identity(row.name, row.role, "passphrase")


def record_failed_sign_in(store: Store, name: str, client: str, count: int) -> None:
    """Log a failed sign-in in the audit table (the name as typed, cut short; never the
    passphrase)."""
    with store.write() as s:
        audit(s, "(sign-in)", "auth.failed", "review_session", None, None,
              {"name": name[:100], "client": client[:100], "failures": count})  # fmt: skip


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(
    store: Store, who: Identity, client: str = "", hours: float = SESSION_HOURS
) -> str:
    """A new signed-in session for ``who``; returns its token (kept only by the caller)."""
    token = secrets.token_urlsafe(32)
    with store.write() as s:
        row = _reviewer(s, who.name)
        assert row is not None and row.id is not None
        session = ReviewSession(
            token_hash=_token_hash(token),
            reviewer_id=row.id,
            expires_at=utcnow() + timedelta(hours=hours),
            client=client[:100],
        )
        s.add(session)
        s.flush()
        audit(s, who.name, "auth.signin", "review_session", session.id, None, {"client": client})
    return token


def session_identity(store: Store, token: str) -> Identity:
    """Whose session ``token`` is, while it is open; otherwise a clear error."""
    with store.read() as s:
        found = s.exec(
            select(ReviewSession, Reviewer)
            .join(Reviewer, col(Reviewer.id) == col(ReviewSession.reviewer_id))
            .where(ReviewSession.token_hash == _token_hash(token))
        ).first()
    if found is None:
        raise AccessError("not signed in: sign in again")
    session, reviewer = found
    if session.revoked_at is not None:
        raise AccessError("this session was signed out: sign in again")
    if _aware(session.expires_at) <= datetime.now(UTC):
        raise AccessError("this session has expired: sign in again")
    return Identity(reviewer.name, reviewer.role, "session")


def close_session(store: Store, token: str) -> None:
    """Sign out: the session's token is no longer accepted (audited)."""
    with store.write() as s:
        session = s.exec(
            select(ReviewSession).where(ReviewSession.token_hash == _token_hash(token))
        ).first()
        if session is None or session.revoked_at is not None:
            return
        session.revoked_at = utcnow()
        s.add(session)
        reviewer = s.get(Reviewer, session.reviewer_id)
        audit(s, reviewer.name if reviewer else "?", "auth.signout", "review_session",
              session.id, None, None)  # fmt: skip


def sign_in(store: Store, who: Identity) -> None:
    """From now on, this store handle acts as ``who``."""
    store.identity = who
    store.protected = True
