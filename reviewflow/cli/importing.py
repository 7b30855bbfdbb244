"""``reviewflow import FILE…``: bibliographic files into the review, one transaction per file."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import click

from reviewflow.acquire.readers import FORMATS, detect_format
from reviewflow.acquire.readers.worker import PubmedXmlInWorker, start_workers
from reviewflow.acquire.strategy import load_strategy
from reviewflow.cli.common import AppContext, echo_json, pass_app, print_error
from reviewflow.errors import InputError, ReviewflowError
from reviewflow.text import plural


def parse_day(text: str, option: str) -> str:
    """A past or present day as YYYY-MM-DD, or a one-line error naming ``option``."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option} {text!r}: not a date (YYYY-MM-DD)") from None
    if day > date.today():
        raise InputError(f"{option} {text}: in the future")
    return day.isoformat()


def parse_mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("title=Article Title", "year=PY")`` → ``{"title": "Article Title", "year": "PY"}``."""
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InputError(f"--map {pair!r}: expected FIELD=COLUMN, e.g. --map title=TI")
        mapping[field.strip()] = column.strip()
    return mapping


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--source",
    metavar="NAME",
    help="The database the file came from (Embase, Scopus…). "
    "Default: PubMed for PubMed XML and MEDLINE files, else the file name.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    help="The file format (default: detected from the content and the name).",
)
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="CSV/TSV: read FIELD (title, abstract, authors, year, journal, doi, pmid, …) "
    "from COLUMN. Repeatable.",
)
@click.option(
    "--encoding", default="utf-8-sig", show_default=True, help="Text encoding (not for XML)."
)
@click.option(
    "--method",
    type=click.Choice(["database", "register", "other"]),
    default="database",
    show_default=True,
    help="PRISMA identification column: databases, registers, or other methods.",
)
@click.option(
    "--strategy",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="QUERY.toml",
    help="The search as it was run on the database the files came from (a saved strategy; "
    'database = "Embase"…), kept in the search log for PRISMA-S. Its database names the '
    "source unless --source is given.",
)
@click.option(
    "--searched",
    metavar="YYYY-MM-DD",
    help="The day that database was searched, for the search log (PRISMA-S).",
)
@click.option("--again", is_flag=True, help="Import a file even if it was imported before.")
@click.option("--json", "as_json", is_flag=True, help="Print what each file did as JSON.")
@pass_app
def import_(
    app: AppContext,
    files: tuple[Path, ...],
    source: str | None,
    format_: str | None,
    mappings: tuple[str, ...],
    encoding: str,
    method: str,
    strategy: Path | None,
    searched: str | None,
    again: bool,
    as_json: bool,
) -> None:
    """Import PubMed XML, MEDLINE/.nbib, RIS, CSV or TSV FILES into the review.

    Each file is one transaction: a file with an error imports nothing and is named in a
    one-line message; the other files still import. Exit status 1 if any file failed.
    """
    mapping = parse_mapping(mappings)
    saved = load_strategy(strategy) if strategy else None
    searched_on = parse_day(searched, "--searched") if searched else ""
    # A big PubMed XML file starts parsing before the database opens: loading SQLAlchemy and
    # the models takes about 0.4 s, parsing a 20,000-record file about 3 s.
    early = None if mapping else _start_early(files[0], format_)
    with early or contextlib.nullcontext():
        from reviewflow.acquire.importer import import_file

        store = app.store()
        done, failed = [], []
        for i, path in enumerate(files):
            try:
                result = import_file(
                    store,
                    path,
                    source=source,
                    format=format_,
                    mapping=mapping or None,
                    encoding=encoding,
                    method=method,
                    again=again,
                    strategy=saved,
                    searched_on=searched_on,
                    workers=early if i == 0 else None,
                )
            except ReviewflowError as exc:
                print_error(exc.message)
                failed.append({"file": str(path), "error": exc.message})
                continue
            done.append(result)
            for warning in result.warnings:
                click.echo(f"reviewflow: warning: {warning}", err=True)
            if not as_json:
                click.echo(
                    f"{path}: {plural(result.records, 'record')} ({result.format}), {result.added} added "
                    f"from {result.source} (run {result.run_id})"
                )
    if as_json:
        echo_json({"imported": [vars(d) for d in done], "failed": failed})
    elif len(files) > 1:
        total = sum(d.added for d in done)
        click.echo(
            f"{len(done)} of {plural(len(files), 'file')} imported, {plural(total, 'record')} added"
        )
    if failed:
        click.get_current_context().exit(1)


def _start_early(path: Path, format_: str | None) -> PubmedXmlInWorker | None:
    """Workers parsing ``path`` if it is to be parsed in them; errors wait for its import."""
    try:
        return start_workers(path, format_ or detect_format(path))
    except ReviewflowError:
        return None


COMMANDS = [import_]
