"""``reviewflow init`` and ``reviewflow status``."""

from __future__ import annotations

from pathlib import Path

import click

from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.text import plural
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
    click.echo(
        f"Identification: {plural(ident['records'], 'record')} from "
        f"{plural(ident['runs'], 'search/import', 'searches/imports')}"
    )
    for source, n in ident["by_source"].items():
        click.echo(f"  {source}: {n}")
    click.echo(
        f"  duplicates removed: {ident['duplicates_removed']}"
        f" (pairs to check by hand: {ident['duplicate_pairs_to_check']});"
        f" removed before screening: {ident['removed_before_screening']}"
    )
    click.echo(
        f"Title/abstract: {plural(ta['records'], 'record')}; {ta['included']} included, "
        f"{ta['excluded']} excluded, {_conflicts(ta)}, {ta['pending']} awaiting reviewers "
        f"({ta['resolved']} resolved)"
    )
    click.echo(
        f"Full text: {ft['sought']} sought ({ft['with_pdf']} with a PDF attached), "
        f"{ft['not_retrieved']} not retrieved; "
        f"{ft['included']} included, {ft['excluded']} excluded, {_conflicts(ft)}, "
        f"{ft['pending']} awaiting reviewers"
    )
    click.echo(
        f"Included: {plural(inc['studies'], 'study', 'studies')} from "
        f"{plural(inc['reports'], 'report')} ({inc['reports_without_study']} not yet linked to "
        f"a study); {inc['studies_with_consensus_extraction']} with consensus extraction, "
        f"{inc['studies_with_consensus_risk_of_bias']} with consensus risk of bias"
    )
    for stage, people in data["screening_speed"].items():
        speeds = ", ".join(
            f"{name} {plural(v['decisions'], 'decision')} ({_rate(v['per_hour'])})"
            for name, v in people.items()
        )
        click.echo(f"Screening speed, {stage}: {speeds}")


def _rate(per_hour: float | None) -> str:
    if per_hour is None:
        return "under a minute of screening: no rate"
    return f"{per_hour:,.0f}/hour"


def _conflicts(stage: dict[str, int | None]) -> str:
    n = stage["conflicts"]
    return "conflicts shown to the adjudicator only" if n is None else plural(n, "conflict")


COMMANDS = [init, status]
