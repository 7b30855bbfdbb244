"""``reviewflow serve``: the review in the browser, for a team on several computers."""

from __future__ import annotations

from pathlib import Path

import click

from reviewflow.cli.common import AppContext, pass_app
from reviewflow.errors import ReviewflowError

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: every network; loopback by default).",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option("--certfile", type=_FILE, help="TLS certificate (PEM): serve HTTPS.")
@click.option("--keyfile", type=_FILE, help="TLS private key (PEM), with --certfile.")
@click.option(
    "--session-hours",
    default=12.0,
    show_default=True,
    type=click.FloatRange(0.1, 24 * 14),
    help="How long a sign-in lasts.",
)
@pass_app  # fmt: skip
def serve(
    app: AppContext,
    host: str,
    port: int,
    certfile: Path | None,
    keyfile: Path | None,
    session_hours: float,
) -> None:
    """Serve this review's apps in the browser: each person signs in with their reviewer name
    and passphrase, then gets the home screen of their role (the same apps as in a terminal).
    Works on the review's SQLite file (this computer is the only one that writes it) and on
    PostgreSQL. Prints the address to share."""
    from reviewflow.access.identity import ADJUDICATOR, has_passphrase
    from reviewflow.serve.server import ReviewServer, is_loopback, tls_context

    if bool(certfile) != bool(keyfile):
        raise ReviewflowError("--certfile and --keyfile go together")
    store = app.store()
    if not has_passphrase(store):
        raise ReviewflowError(
            "nobody can sign in yet: set passphrases first, the adjudicator's first "
            "('reviewflow reviewer passphrase NAME')"
        )
    if not has_passphrase(store, role=ADJUDICATOR):
        click.echo("warning: no adjudicator has a passphrase: nobody can reconcile from the "
                   "browser ('reviewflow reviewer passphrase NAME')", err=True)  # fmt: skip
    context = tls_context(certfile, keyfile) if certfile and keyfile else None
    if context is None and not is_loopback(host):
        click.echo(
            f"warning: plain HTTP on {host}: passphrases and screening cross the network "
            "unencrypted; use --certfile and --keyfile (TLS) on a network you do not trust",
            err=True,
        )
    server = ReviewServer(app.workspace(), store, host=host, port=port, ssl_context=context,
                          session_hours=session_hours)  # fmt: skip
    try:
        server.serve()
    except OSError as exc:
        raise ReviewflowError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


COMMANDS = [serve]
