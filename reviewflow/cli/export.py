"""``reviewflow export …``: the review's data as files.

One click group shared by the stages: each adds its subcommand here with
``@export.command("NAME")`` (records here; decisions and extraction by their stages).
"""

from __future__ import annotations

from pathlib import Path

import click

from reviewflow.cli.common import AppContext, pass_app


@click.group()
def export() -> None:
    """Write the review's records, decisions or extraction to a file."""


@export.command("records")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "ris"]),
    default="csv",
    show_default=True,
    help="CSV (one row per record) or RIS.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write.",
)
@click.option(
    "--without-duplicates",
    is_flag=True,
    help="Leave out records that dedup linked to a kept record.",
)
@pass_app
def export_records_command(app: AppContext, fmt: str, out: Path, without_duplicates: bool) -> None:
    """Every record in the review: record_id, pmid, doi, title, abstract, authors, year,
    journal, volume, issue, pages, source, … (CSV), or the same as RIS."""
    from reviewflow.acquire.record_export import export_records

    count = export_records(app.store(), out, fmt, without_duplicates=without_duplicates)
    click.echo(f"{out}: {count} records ({fmt})")


COMMANDS = [export]
