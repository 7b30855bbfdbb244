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
from reviewflow.errors import ReviewflowError

# Each module defines click commands and a ``COMMANDS`` list; add yours here.
COMMAND_MODULES = [
    "reviewflow.cli.workspace",
    "reviewflow.cli.search",
    "reviewflow.cli.importing",
    "reviewflow.cli.export",
    "reviewflow.cli.dedup",
    "reviewflow.cli.report",
    "reviewflow.cli.screening",
    "reviewflow.cli.extraction",
    "reviewflow.cli.pool",
    "reviewflow.cli.demo",
]


class ReviewflowGroup(click.Group):
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
                f"internal error ({type(exc).__name__}: {exc}); "
                "rerun with REVIEWFLOW_DEBUG=1 for the traceback and report it"
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
@click.pass_context
def main(ctx: click.Context, db_url: str | None, workspace_dir: Path | None) -> None:
    """reviewflow: a systematic review from a PubMed search to pooled results."""
    app = AppContext(db_url=db_url, workspace_dir=workspace_dir)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.COMMANDS:
            main.add_command(command)


_register()
