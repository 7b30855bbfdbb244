"""``reviewflow fulltext attach|list``: the PDFs of the reports at the full-text stage."""

from __future__ import annotations

from pathlib import Path

import click

from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.errors import InputError
from reviewflow.text import plural


@click.group()
def fulltext() -> None:
    """Full texts (PDFs): attach them to records, list the reports sought and their PDFs."""


@fulltext.command("attach")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--record", "record_id", type=int, metavar="N",
              help="Attach the one PDF given to record N, whatever its file name.")  # fmt: skip
@click.option("--reviewer", metavar="NAME",
              help="Who attaches (review.toml; for the audit log). Default: --user.")  # fmt: skip
@pass_app
def fulltext_attach(
    app: AppContext, paths: tuple[Path, ...], record_id: int | None, reviewer: str | None
) -> None:
    """Attach PDFs: each file (or each .pdf in a folder) to the record its name names, a PMID
    (12345678.pdf, PMID12345678.pdf) or a DOI with / written as _ or %2F
    (10.1000_xyz123.pdf); with --record N, one file to record N. Each PDF is copied to the
    review's fulltext/ folder as <record id>.pdf. Any reviewer may attach; a report marked
    not retrieved becomes retrieved. Nothing is attached if any file is not a readable PDF."""
    from reviewflow.screening.fulltext import attach

    name = reviewer or app.user
    if not name:
        raise InputError("say who attaches: --reviewer NAME (or --user NAME)")
    app.workspace().config.reviewer(name)
    store = app.as_reviewer(name)
    root = app.workspace().root
    r = attach(store, root, name, list(paths), record_id)
    for done in r.attached:
        again = " (was marked not retrieved: now retrieved)" if done.was == "not_retrieved" else ""
        click.echo(f"attached {done.file} to record {done.record_id} as {done.location}{again}")
    for done in r.unchanged:
        click.echo(f"already attached: {done.file} to record {done.record_id}")
    for file, why in r.ambiguous:
        click.echo(f"ambiguous: {file} ({why}; attach it with --record N)")
    for file in r.unmatched:
        click.echo(f"no record matches {file} (name it by PMID or DOI, or use --record N)")
    parts = [f"{plural(len(r.attached), 'PDF')} attached"]
    if r.unchanged:
        parts.append(f"{len(r.unchanged)} already attached")
    if r.ambiguous:
        parts.append(f"{plural(len(r.ambiguous), 'ambiguous file')}")
    if r.unmatched:
        parts.append(f"{plural(len(r.unmatched), 'file')} matching no record")
    click.echo(", ".join(parts))


@fulltext.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def fulltext_list(app: AppContext, as_json: bool) -> None:
    """The reports sought for retrieval (the title/abstract includes) and their full texts."""
    from reviewflow.screening.fulltext import sought_fulltexts

    ws = app.workspace()
    rows = sought_fulltexts(app.as_user(), ws.root, ws.config.reviewers_per_record)
    if as_json:
        echo_json([row.__dict__ for row in rows])
        return
    for row in rows:
        ident = f"PMID {row.pmid}" if row.pmid else (f"DOI {row.doi}" if row.doi else "")
        if row.not_retrieved:
            state = "not retrieved"
        elif not row.location:
            state = "no PDF"
        else:
            state = row.location + ("" if row.present else " (MISSING from the review folder)")
        click.echo(f"record {row.record_id:>6}  {ident:<22}  {state}")
    attached = sum(1 for row in rows if row.location)
    missing = sum(1 for row in rows if row.location and not row.present)
    lost = sum(1 for row in rows if row.not_retrieved)
    line = (
        f"{plural(len(rows), 'report')} sought: {attached} with a PDF attached, "
        f"{len(rows) - attached - lost} without, {lost} not retrieved"
    )
    click.echo(line + (f"; {plural(missing, 'attached file')} missing" if missing else ""))


COMMANDS = [fulltext]
