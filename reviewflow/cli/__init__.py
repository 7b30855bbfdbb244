"""The ``reviewflow`` command: one group, one module per stage.

Errors a person can act on (:class:`ReviewflowError`) print one line on stderr and exit 1.
Anything else is a bug: one line too, and the traceback only with ``REVIEWFLOW_DEBUG=1``.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import click

from reviewflow import __version__
from reviewflow.cli.common import AppContext, print_error
from reviewflow.errors import ReviewflowError, user_message

# Each command lives in a module of this package, which lists it in ``COMMANDS``. Modules are
# imported only when their command runs, so `reviewflow screen` does not pay for numpy, pandas
# or matplotlib. Add a command here under its name.
COMMAND_MODULES: dict[str, str] = {
    "init": "reviewflow.cli.workspace",
    "status": "reviewflow.cli.workspace",
    "search": "reviewflow.cli.search",
    "import": "reviewflow.cli.importing",
    "dedup": "reviewflow.cli.dedup",
    "simulate": "reviewflow.cli.simulate",
    "screen": "reviewflow.cli.screening",
    "fulltext": "reviewflow.cli.fulltext",
    "reconcile": "reviewflow.cli.screening",
    "agreement": "reviewflow.cli.screening",
    "extract": "reviewflow.cli.extraction",
    "studies": "reviewflow.cli.extraction",
    "extraction": "reviewflow.cli.extraction",
    "pool": "reviewflow.cli.pool",
    "rob": "reviewflow.cli.rob",
    "grade": "reviewflow.cli.grade",
    "prisma": "reviewflow.cli.report",
    "report": "reviewflow.cli.report",
    "export": "reviewflow.cli.export",
    "demo": "reviewflow.cli.demo",
    "reviewer": "reviewflow.cli.team",
    "home": "reviewflow.cli.team",
    "serve": "reviewflow.cli.serve",
    "team": "reviewflow.cli.team",
}
# modules that add subcommands to `reviewflow export` when imported
EXPORT_CONTRIBUTORS = ("reviewflow.cli.extraction",)


class ReviewflowGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMAND_MODULES:
            return None
        module = importlib.import_module(COMMAND_MODULES[cmd_name])
        if cmd_name == "export":
            for name in EXPORT_CONTRIBUTORS:
                importlib.import_module(name)
        for command in module.COMMANDS:
            if command.name == cmd_name:
                return command  # type: ignore[no-any-return]
        raise LookupError(f"{COMMAND_MODULES[cmd_name]} does not define {cmd_name!r}")

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ReviewflowError as exc:
            print_error(exc.message)
            sys.exit(exc.exit_code)
        except BrokenPipeError:  # `reviewflow status | head`: the reader left, not an error
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            print_error("interrupted; everything confirmed before this was saved")
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so in one line
            if os.environ.get("REVIEWFLOW_DEBUG"):
                raise
            print_error(
                f"{user_message(exc)}; rerun with REVIEWFLOW_DEBUG=1 for the traceback and report it"
            )
            sys.exit(70)


@click.group(cls=ReviewflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reviewflow")
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    help="Database URL (sqlite:///PATH or postgresql://USER@HOST/DB). "
    "Default: $REVIEWFLOW_DATABASE_URL, then review.toml, then db/reviewflow.sqlite.",
)
@click.option(
    "-w",
    "--workspace",
    "workspace_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The review folder (default: found from the current folder upward).",
)
@click.option(
    "--user",
    metavar="NAME",
    envvar="REVIEWFLOW_USER",
    help="Who you are, in a review protected by passphrases (the passphrase is asked, or read "
    "from $REVIEWFLOW_PASSPHRASE). Default: $REVIEWFLOW_USER.",
)
@click.pass_context
def main(
    ctx: click.Context, db_url: str | None, workspace_dir: Path | None, user: str | None
) -> None:
    """reviewflow: a systematic review from a PubMed search to pooled results."""
    app = AppContext(db_url=db_url, workspace_dir=workspace_dir, user=user)
    ctx.obj = app
    ctx.call_on_close(app.close)
