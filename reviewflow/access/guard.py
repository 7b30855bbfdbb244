"""The role guard: the one place that decides who may see what, for every path (CLI, TUI,
served). Core functions call it before they read other reviewers' rows.

- An unprotected review (no passphrases yet) is a one-person tool: everything is allowed.
- In a protected review, unblinded views (agreement, conflicts and reconciliation, exported
  decisions, extraction discrepancies and consensus, PRISMA, the report) need a signed-in
  adjudicator, and a reviewer's own views (screening, extraction) need that reviewer signed in.
"""

from __future__ import annotations

from reviewflow.access.identity import Identity, is_protected
from reviewflow.errors import AccessError
from reviewflow.store.engine import Store

SIGN_IN_HINT = "sign in with 'reviewflow --user NAME …' (the passphrase is asked)"


def signed_in(store: Store) -> Identity | None:
    identity: Identity | None = store.identity
    return identity


def behind_rls(store: Store) -> bool:
    """Connected through a PostgreSQL team role: row-level security hides others' rows."""
    who = signed_in(store)
    return who is not None and who.how == "database-role"


def may_see_unblinded(store: Store) -> bool:
    if not is_protected(store):
        return True
    who = signed_in(store)
    return who is not None and who.is_lead


def require_lead(store: Store, what: str, why: str = "it shows every reviewer's decisions") -> None:
    """Refuse ``what`` (an unblinded view, or managing the team) unless the adjudicator is
    signed in."""
    if may_see_unblinded(store):
        return
    who = signed_in(store)
    if who is None:
        raise AccessError(
            f"{what} is for the adjudicator ({why}) and this review is protected by "
            f"passphrases: {SIGN_IN_HINT} as the adjudicator"
        )
    raise AccessError(
        f"{what} is for the adjudicator only ({why}); {who.name} is signed in as a reviewer"
    )


def require_self(store: Store, name: str, what: str = "this") -> None:
    """Refuse to act as reviewer ``name`` unless ``name`` is the one signed in."""
    if not is_protected(store):
        return
    who = signed_in(store)
    if who is None:
        raise AccessError(
            f"this review is protected by passphrases: sign in as {name} to do {what} "
            f"({SIGN_IN_HINT})"
        )
    if who.name != name:
        raise AccessError(f"signed in as {who.name}: you cannot do {what} as {name}")
