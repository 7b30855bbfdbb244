"""``reviewflow export …``: the review's data as files.

One click group shared by the stages: each adds its subcommand here with
``@export.command("NAME")`` (records here; decisions and extraction by their stages).
"""

from __future__ import annotations

from pathlib import Path

import click

from reviewflow.cli.common import AppContext, pass_app
from reviewflow.text import plural


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

    per = app.workspace().config.reviewers_per_record
    store = app.as_user()  # the adjudicator (--user) gets the screening_status column
    count = export_records(store, out, fmt, without_duplicates=without_duplicates,
                           reviewers_per_record=per)  # fmt: skip
    click.echo(f"{out}: {plural(count, 'record')} ({fmt})")


@export.command("decisions")
@click.option(
    "--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True,
    help="CSV, one row per reviewer and record and stage.",
)  # fmt: skip
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write.",
)  # fmt: skip
@pass_app
def export_decisions_command(app: AppContext, fmt: str, out: Path) -> None:
    """Every reviewer's screening decisions: record_id, reviewer, stage, decision, reason,
    note, decided_at (everyone's: a report for the review lead, not for blinded screening)."""
    from reviewflow.screening.export import export_decisions

    count = export_decisions(app.as_lead(), out, app.workspace().config.reviewers_per_record)
    click.echo(f"{out}: {plural(count, 'decision')} ({fmt})")


COMMANDS = [export]
