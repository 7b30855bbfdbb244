"""``reviewflow reviewer …`` (who is on the team, their passphrases), ``reviewflow home``
(the signed-in home screen) and ``reviewflow team setup-postgres`` (row-level security)."""

from __future__ import annotations

import sys

import click

from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.errors import AccessError, InputError


@click.group()
def reviewer() -> None:
    """The review team: add reviewers, set passphrases, list them."""


@reviewer.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(["reviewer", "adjudicator"]), default="reviewer",
    show_default=True, help="A reviewer screens and extracts blinded; the adjudicator (the "
    "review's lead) also reconciles and sees agreement, PRISMA and the report.",
)  # fmt: skip
@pass_app
def reviewer_add(app: AppContext, name: str, role: str) -> None:
    """Add NAME to review.toml's reviewers (and the database). In a review protected by
    passphrases only the adjudicator may add people."""
    from reviewflow.access.guard import require_lead
    from reviewflow.access.identity import ADJUDICATOR, has_passphrase
    from reviewflow.store.reviewers import sync_reviewers
    from reviewflow.workspace import add_reviewer

    root = app.workspace(adding_reviewer=True).root
    store = app.store()
    if has_passphrase(store, role=ADJUDICATOR):  # else the team is still being set up
        require_lead(app.as_lead(), "adding a reviewer", "it changes who is on the team")
    config = add_reviewer(root, name, role)
    sync_reviewers(store, config)
    click.echo(f"Added {name.strip()} ({role}) to review.toml.")
    click.echo(f"Next: 'reviewflow reviewer passphrase {name.strip()}' to let them sign in.")


def read_new_passphrase(name: str) -> str:
    """The new passphrase: asked twice on a terminal; one line of standard input otherwise."""
    if sys.stdin.isatty():
        text: str = click.prompt(
            f"New passphrase for {name}", hide_input=True, confirmation_prompt=True, err=True
        )
        return text
    line = sys.stdin.readline()
    if not line:
        raise InputError("no passphrase on standard input (one line was expected)")
    return line.rstrip("\r\n")


@reviewer.command("passphrase")
@click.argument("name")
@pass_app
def reviewer_passphrase(app: AppContext, name: str) -> None:
    """Set NAME's passphrase (asked twice on a terminal; one line from standard input when
    not a terminal, for scripts). Stored only as a salted scrypt hash. Once anyone has a
    passphrase the review is protected: people sign in, and unblinded views need the
    adjudicator. Set the adjudicator's first: from then on only the adjudicator, or NAME
    themselves, may set NAME's passphrase."""
    from reviewflow.access.identity import ADJUDICATOR, has_passphrase, set_passphrase

    app.workspace().config.reviewer(name)
    store = app.store()
    by = "cli"
    if has_passphrase(store, role=ADJUDICATOR):  # else the team is still being set up
        store = app.as_reviewer(app.user) if app.user else app.as_reviewer(name)
        who = store.identity
        assert who is not None
        if who.name != name and not who.is_lead:
            raise AccessError(f"{who.name} may set only their own passphrase, not {name}'s")
        by = who.name
    set_passphrase(store, name, read_new_passphrase(name), by)
    click.echo(f"Passphrase set for {name}; their earlier sessions are signed out.")
    if not has_passphrase(store, role=ADJUDICATOR):
        click.echo(
            "No adjudicator has a passphrase yet: until one does, anyone at this computer may "
            "set passphrases. Set the adjudicator's next."
        )


@reviewer.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print [{name, role, passphrase}] as JSON.")
@pass_app
def reviewer_list(app: AppContext, as_json: bool) -> None:
    """The team: each reviewer's role and whether they have a passphrase (never the hash)."""
    from reviewflow.access.identity import reviewers

    rows = reviewers(app.store())
    listed = {r.name for r in app.workspace().config.reviewers}
    data = [
        {
            "name": r.name,
            "role": r.role,
            "passphrase": r.has_passphrase,
            "passphrase_set_at": r.passphrase_set_at.isoformat() if r.passphrase_set_at else None,
            "in_review_toml": r.name in listed,
            "postgres_role": r.db_role or None,
        }
        for r in rows
    ]
    if as_json:
        echo_json(data)
        return
    for d in data:
        flags = ["passphrase set" if d["passphrase"] else "no passphrase"]
        if d["postgres_role"]:
            flags.append(f"PostgreSQL role {d['postgres_role']}")
        if not d["in_review_toml"]:
            flags.append("no longer in review.toml")
        click.echo(f"{d['name']:<20} {d['role']:<12} {', '.join(flags)}")
    protected = any(d["passphrase"] for d in data)
    click.echo(
        "The review is protected: people sign in; unblinded views need the adjudicator."
        if protected
        else "No passphrases yet: anyone at this computer can work as anyone (one-machine use)."
    )


@click.command()
@pass_app
def home(app: AppContext) -> None:
    """The home screen (a terminal app; what 'reviewflow serve' shows in the browser): sign in,
    then what you may do by role. A reviewer screens, extracts and sees their own progress;
    the adjudicator also reconciles, sees agreement and the PRISMA flow, and builds the report."""
    import os

    from reviewflow.access.identity import (
        Identity,
        database_identity,
        is_protected,
        session_identity,
        sign_in,
    )
    from reviewflow.cli.signin import SESSION_ENV
    from reviewflow.tui.home_app import HomeApp, HomeSetup

    ws = app.workspace()
    store = app.store()
    token = os.environ.get(SESSION_ENV) or None
    if token == "-":  # started ahead by `reviewflow serve`: the session comes on stdin
        token = _session_from_server()
    if token:  # started by `reviewflow serve` for a signed-in session
        sign_in(store, session_identity(store, token))
    elif (found := database_identity(store)) is not None:
        sign_in(store, found)
    elif app.user:
        person = ws.config.reviewer(app.user)
        if is_protected(store):
            app.as_reviewer(app.user)
        else:
            store.identity = Identity(person.name, person.role, "open")
    HomeApp(HomeSetup(store, ws, token)).run()


def _session_from_server() -> str:
    """Wait for ``TOKEN WIDTH HEIGHT`` on standard input, read a byte at a time so that what
    follows (the terminal stream) stays for the app's input reader."""
    import os

    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(0, 1)
        if not byte:
            raise click.exceptions.Exit(0)  # the server stopped before anyone signed in
        line += byte
    token, width, height = line.decode("ascii").split()
    os.environ["COLUMNS"], os.environ["ROWS"] = width, height
    return token


@click.group()
def team() -> None:
    """Team mode on a shared PostgreSQL server."""


@team.command("setup-postgres")
@click.option(
    "--print-sql",
    is_flag=True,
    help="Print the grants, policies and function instead of running them.",
)
@click.option(
    "--reset-passwords",
    is_flag=True,
    help="Give every reviewer's role a new password (the old ones stop working).",
)
@pass_app  # fmt: skip
def team_setup_postgres(app: AppContext, print_sql: bool, reset_passwords: bool) -> None:
    """Create a PostgreSQL role per reviewer in review.toml and row-level security, so that a
    reviewer connected with their own role can read and write only their own decisions and
    extraction values, even with psql. Run it as the database's owner (with CREATEROLE),
    again whenever reviewers are added. New roles get a generated password, printed once:
    hand each reviewer their own connection URL privately."""
    from sqlalchemy.engine import make_url

    from reviewflow.access.guard import require_lead
    from reviewflow.access.identity import is_protected
    from reviewflow.access.postgres import policy_sql, setup_team

    store = app.store()
    if print_sql:
        database = make_url(store.url).database or "DBNAME"
        for statement in policy_sql(database):
            click.echo(statement.rstrip(";") + ";")
        return
    if is_protected(store):
        require_lead(app.as_lead(), "the team setup", "it decides who may read what")
    roles = setup_team(store, app.workspace().config, reset_passwords=reset_passwords)
    url = make_url(store.url)
    for r in roles:
        if r.password:
            login = url.set(drivername="postgresql", username=r.db_role, password=r.password)
            shown = login.render_as_string(hide_password=False)
            click.echo(f"{r.reviewer} ({r.role}): {shown}")
        else:
            click.echo(f"{r.reviewer} ({r.role}): role {r.db_role} (password unchanged)")
    click.echo(
        "Row-level security is on. Give each person only their own URL; they use it as "
        "'reviewflow --db URL …' (or REVIEWFLOW_DATABASE_URL)."
    )


COMMANDS = [reviewer, home, team]
