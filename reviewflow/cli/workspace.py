"""``reviewflow init`` and ``reviewflow status``."""

from __future__ import annotations

from pathlib import Path

import click

from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.workspace import DEFAULT_DB, REVIEW_FILE, create_workspace


@click.command()
@click.argument(
    "directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--title", default="Untitled systematic review", show_default=True, help="The review's title."
)
@pass_app
def init(app: AppContext, directory: Path, title: str) -> None:
    """Create a review workspace in DIRECTORY (default: here).

    Writes review.toml, queries/, forms/ and db/ with an empty database.
    """
    root = directory.resolve()
    existing = (root / REVIEW_FILE).exists()
    ws, store = create_workspace(root, title, db_url=app.db_url)
    where = store.display_url
    store.dispose()
    click.echo(f"{'Opened existing' if existing else 'Created'} review workspace {root}")
    click.echo(f"  settings:  {root / REVIEW_FILE}  (title, criteria, reviewers)")
    click.echo(f"  searches:  {root / 'queries'}/")
    click.echo(f"  forms:     {root / 'forms'}/")
    click.echo(f"  database:  {where}" + ("" if app.db_url else f"  ({DEFAULT_DB})"))
    click.echo(
        "Next: edit review.toml, then 'reviewflow search queries/NAME.toml' or 'reviewflow import FILE'."
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Counts per stage: identified, deduplicated, screened, assessed, included."""
    from reviewflow.status import review_status

    data = review_status(app.as_user(), app.workspace().config)
    if as_json:
        echo_json(data)
        return
    ident, ta, ft, inc = (
        data["identification"],
        data["title_abstract"],
        data["full_text"],
        data["included"],
    )
    click.echo(f"{data['title']}  [{data['database']}]")
    click.echo(f"Identification: {ident['records']} records from {ident['runs']} searches/imports")
    for source, n in ident["by_source"].items():
        click.echo(f"  {source}: {n}")
    click.echo(
        f"  duplicates removed: {ident['duplicates_removed']}"
        f" (pairs to check by hand: {ident['duplicate_pairs_to_check']});"
        f" removed before screening: {ident['removed_before_screening']}"
    )
    click.echo(
        f"Title/abstract: {ta['records']} records; {ta['included']} included, {ta['excluded']} excluded, "
        f"{_conflicts(ta)}, {ta['pending']} awaiting reviewers ({ta['resolved']} resolved)"
    )
    click.echo(
        f"Full text: {ft['sought']} sought, {ft['not_retrieved']} not retrieved; {ft['included']} included, "
        f"{ft['excluded']} excluded, {_conflicts(ft)}, {ft['pending']} awaiting reviewers"
    )
    click.echo(
        f"Included: {inc['studies']} studies from {inc['reports']} reports"
        f" ({inc['reports_without_study']} reports not yet linked to a study);"
        f" {inc['studies_with_consensus_extraction']} studies with consensus extraction,"
        f" {inc['studies_with_consensus_risk_of_bias']} with consensus risk of bias"
    )


def _conflicts(stage: dict[str, int | None]) -> str:
    n = stage["conflicts"]
    return "conflicts shown to the adjudicator only" if n is None else f"{n} conflicts"


COMMANDS = [init, status]
