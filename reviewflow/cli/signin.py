"""Signing in on the command line, for a review protected by passphrases.

Who: ``--user NAME`` (or ``$REVIEWFLOW_USER``), or the name a command is given (``screen
--reviewer NAME``), or, for the adjudicator's commands, the review's one adjudicator. How, in
order: the session of ``reviewflow serve`` that started this process (``$REVIEWFLOW_SESSION``),
the PostgreSQL team role the database URL logs in as, or the passphrase
(``$REVIEWFLOW_PASSPHRASE``, else asked on the terminal).
"""

from __future__ import annotations

import os
import sys

import click

from reviewflow.access.identity import (
    Identity,
    check_passphrase,
    database_identity,
    has_passphrase,
    is_protected,
    session_identity,
    sign_in,
)
from reviewflow.errors import AccessError
from reviewflow.store.engine import Store
from reviewflow.workspace import ReviewConfig

SESSION_ENV = "REVIEWFLOW_SESSION"
PASSPHRASE_ENV = "REVIEWFLOW_PASSPHRASE"


def read_passphrase(name: str) -> str:
    """The passphrase from ``$REVIEWFLOW_PASSPHRASE``, else asked (hidden) on the terminal."""
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if not sys.stdin.isatty():
        raise AccessError(
            f"{name}'s passphrase is needed and there is no terminal to ask it on: "
            f"set {PASSPHRASE_ENV}"
        )
    text: str = click.prompt(f"Passphrase for {name}", hide_input=True, err=True)
    return text


def identify(store: Store, name: str | None) -> Identity:
    """Who is at the keyboard: checked, never taken on trust."""
    token = os.environ.get(SESSION_ENV)
    if token:
        who = session_identity(store, token)
    else:
        found = database_identity(store)
        if found is not None:
            who = found
        elif name is not None and not has_passphrase(store, name):
            raise AccessError(
                f"{name} has no passphrase yet: set one with 'reviewflow reviewer passphrase {name}'"
            )
        elif name is None:
            raise AccessError(
                "this review is protected by passphrases: say who you are with "
                "'reviewflow --user NAME …'"
            )
        else:
            who = check_passphrase(store, name, read_passphrase(name))
    if name is not None and who.name != name:
        raise AccessError(f"signed in as {who.name}: you cannot work as {name}")
    return who


def sign_in_for(store: Store, config: ReviewConfig, name: str | None, *, lead: bool) -> None:
    """Sign ``store`` in before a command that needs someone: ``name``, or for the adjudicator's
    commands the one adjudicator. Nothing to do in an unprotected review."""
    if store.identity is not None or not is_protected(store):
        return
    if name is None and lead and not os.environ.get(SESSION_ENV):
        leads = [r.name for r in config.reviewers if r.role == "adjudicator"]
        if len(leads) == 1 and database_identity(store) is None:
            name = leads[0]
    sign_in(store, identify(store, name))
