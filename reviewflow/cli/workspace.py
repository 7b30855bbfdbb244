"""``reviewflow init`` and ``reviewflow status``."""

from __future__ import annotations

from pathlib import Path

import click

from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.errors import WorkspaceError
from reviewflow.store import open_store
from reviewflow.store.reviewers import sync_reviewers
from reviewflow.workspace import (
    DEFAULT_DB,
    REVIEW_FILE,
    Workspace,
    load_config,
    review_toml_template,
)

DB_GITIGNORE = "# the review database is not committed; the migrations live in reviewflow/store\n*.sqlite\n*.sqlite-*\n"


def _copy_example_forms(target: Path) -> None:
    """The extraction forms shipped with reviewflow, as a starting point."""
    from importlib.resources import files

    shipped = files("reviewflow.extraction").joinpath("forms")
    if not shipped.is_dir():
        return
    for form in shipped.iterdir():
        if form.name.endswith(".toml") and not (target / form.name).exists():
            (target / form.name).write_text(form.read_text(encoding="utf-8"), encoding="utf-8")


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
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root} exists and is not a folder")
    existing = (root / REVIEW_FILE).exists()
    if existing:
        # a review folder cloned without its database: keep review.toml, create the rest
        ws = Workspace(root, load_config(root / REVIEW_FILE))
        url = ws.database_url(app.db_url)
        if not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).exists():
            raise WorkspaceError(
                f"{root / REVIEW_FILE} already exists: {root} is already a workspace"
            )
    for sub in ("queries", "forms", "db"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    if not (root / "db" / ".gitignore").exists():
        (root / "db" / ".gitignore").write_text(DB_GITIGNORE, encoding="utf-8")
    if not existing:
        (root / REVIEW_FILE).write_text(review_toml_template(title), encoding="utf-8")
        _copy_example_forms(root / "forms")
    ws = Workspace(root, load_config(root / REVIEW_FILE))
    store = open_store(ws.database_url(app.db_url), create=True)
    try:
        sync_reviewers(store, ws.config)
        where = store.display_url
    finally:
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

    data = review_status(app.store(), app.workspace().config)
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
        f"{ta['conflicts']} conflicts, {ta['pending']} awaiting reviewers ({ta['resolved']} resolved)"
    )
    click.echo(
        f"Full text: {ft['sought']} sought, {ft['not_retrieved']} not retrieved; {ft['included']} included, "
        f"{ft['excluded']} excluded, {ft['conflicts']} conflicts, {ft['pending']} awaiting reviewers"
    )
    click.echo(
        f"Included: {inc['studies']} studies from {inc['reports']} reports"
        f" ({inc['reports_without_study']} reports not yet linked to a study);"
        f" {inc['studies_with_consensus_extraction']} studies with consensus extraction"
    )


COMMANDS = [init, status]
