"""Sessions: a random token the database keeps only as a SHA-256; they end on sign-out, on a new
passphrase and when they expire."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import select

from reviewflow.access.identity import (
    check_passphrase,
    close_session,
    open_session,
    session_identity,
    set_passphrase,
)
from reviewflow.errors import AccessError
from reviewflow.store.models import ReviewSession, utcnow
from tests.team.conftest import PASSPHRASES, Team


def test_a_session_says_who_and_keeps_only_the_tokens_hash(team: Team) -> None:
    who = check_passphrase(team.store, "reviewer1", PASSPHRASES["reviewer1"])
    token = open_session(team.store, who, client="127.0.0.1", hours=1)
    assert len(token) >= 40
    assert session_identity(team.store, token).name == "reviewer1"
    with team.store.read() as s:
        row = s.exec(select(ReviewSession)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in str(row)
    with pytest.raises(AccessError, match="not signed in"):
        session_identity(team.store, token + "x")


def test_sign_out_ends_the_session(team: Team) -> None:
    who = check_passphrase(team.store, "reviewer2", PASSPHRASES["reviewer2"])
    token = open_session(team.store, who)
    close_session(team.store, token)
    with pytest.raises(AccessError, match="signed out"):
        session_identity(team.store, token)


def test_a_new_passphrase_ends_the_old_sessions(team: Team) -> None:
    who = check_passphrase(team.store, "reviewer1", PASSPHRASES["reviewer1"])
    token = open_session(team.store, who)
    set_passphrase(team.store, "reviewer1", "a brand new passphrase", by="adjudicator")
    with pytest.raises(AccessError, match="signed out"):
        session_identity(team.store, token)


def test_sessions_expire(team: Team) -> None:
    who = check_passphrase(team.store, "reviewer1", PASSPHRASES["reviewer1"])
    token = open_session(team.store, who, hours=1)
    with team.store.write() as s:
        row = s.exec(select(ReviewSession)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
    with pytest.raises(AccessError, match="expired"):
        session_identity(team.store, token)
