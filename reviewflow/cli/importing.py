"""``reviewflow import FILE…``: bibliographic files into the review, one transaction per file."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import click
from sqlmodel import Session, col, select

from reviewflow.acquire.importer import file_sha256, start_run, store_records
from reviewflow.acquire.readers import FORMATS, detect_format, read_file
from reviewflow.acquire.readers.worker import PubmedXmlInWorker
from reviewflow.cli.common import AppContext, echo_json, pass_app, print_error
from reviewflow.errors import InputError, ReviewflowError
from reviewflow.store import Store
from reviewflow.store.models import SearchRun, utcnow

_PUBMED_FORMATS = ("pubmed-xml", "medline")
# From this size on (bytes on disk), PubMed XML is parsed in a worker process while the records
# are stored. Below it, starting the worker costs more than the overlap saves: measured on 2
# cores, 7 MB (500 records) 0.17 s plain vs 0.26 s with the worker; 22 MB 0.50 s vs 0.47 s.
PARALLEL_FROM_BYTES = 24 * 1024 * 1024


@dataclass(frozen=True)
class FileImport:
    """What importing one file did."""

    file: str
    format: str
    source: str
    records: int
    added: int
    run_id: int


def parse_mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("title=Article Title", "year=PY")`` → ``{"title": "Article Title", "year": "PY"}``."""
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InputError(f"--map {pair!r}: expected FIELD=COLUMN, e.g. --map title=TI")
        mapping[field.strip()] = column.strip()
    return mapping


def import_file(
    store: Store,
    path: Path,
    *,
    source: str | None = None,
    format: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str = "utf-8-sig",
    method: str = "database",
    again: bool = False,
) -> FileImport:
    """Store all the records of ``path`` in one transaction (or none of them).

    A small file is read completely, then stored. A PubMed XML file of
    :data:`PARALLEL_FROM_BYTES` or more is parsed in a worker process while this process stores
    the chunks it sends, all in the one write transaction, which an error in the file rolls back.
    """
    kind = format or detect_format(path)
    name = source or ("PubMed" if kind in _PUBMED_FORMATS else path.stem)
    if kind == "pubmed-xml" and not mapping and _size(path) >= PARALLEL_FROM_BYTES:
        return _import_in_chunks(store, path, name, method=method, again=again)
    records = read_file(path, kind, mapping=mapping, encoding=encoding)
    digest = file_sha256(path)
    with store.write() as session:
        if not again:
            _refuse_reimport(session, path, digest)
        run_id = _start(session, path, name, kind, method, digest, len(records))
        summary = store_records(session, run_id, records)
        _finish(session, run_id, len(records))
    return FileImport(str(path), kind, name, len(records), summary.added, run_id)


def _import_in_chunks(
    store: Store, path: Path, name: str, *, method: str, again: bool
) -> FileImport:
    """A big PubMed XML file: parse in a worker, store chunk by chunk in ONE transaction.

    The write transaction opens when the first chunk has arrived (so the database is locked for
    less of the parse) and stays open until the last one is stored; a parse error at any record
    rolls back everything this file stored.
    """
    with PubmedXmlInWorker(path) as worker:
        digest = file_sha256(path)  # while the worker parses
        chunks = iter(worker)
        first = next(chunks, [])
        with store.write() as session:
            if not again:
                _refuse_reimport(session, path, digest)
            run_id = _start(session, path, name, "pubmed-xml", method, digest, 0)
            count = added = 0
            for chunk in itertools.chain([first], chunks):
                added += store_records(session, run_id, chunk).added
                count += len(chunk)
            _finish(session, run_id, count)
    return FileImport(str(path), "pubmed-xml", name, count, added, run_id)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the reader names the problem


def _start(
    session: Session, path: Path, name: str, kind: str, method: str, digest: str, count: int
) -> int:
    return start_run(
        session,
        kind="import",
        method=method,
        source=name,
        file_name=path.name,
        file_sha256=digest,
        count=count,
        status="complete",
        notes=f"format {kind}",
    )


def _finish(session: Session, run_id: int, count: int) -> None:
    run = session.get(SearchRun, run_id)
    assert run is not None
    run.count = count
    run.finished_at = utcnow()
    session.add(run)


def _refuse_reimport(session: Session, path: Path, digest: str) -> None:
    earlier = session.exec(
        select(SearchRun)
        .where(SearchRun.kind == "import", SearchRun.file_sha256 == digest)
        .order_by(col(SearchRun.id))
    ).first()
    if earlier is not None:
        when = f"{earlier.started_at:%Y-%m-%d %H:%M}" if earlier.started_at else "earlier"
        raise InputError(
            f"{path.name}: already imported (run {earlier.id}, {earlier.file_name}, {when}); "
            "pass --again to import it a second time"
        )


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
    again: bool,
    as_json: bool,
) -> None:
    """Import PubMed XML, MEDLINE/.nbib, RIS, CSV or TSV FILES into the review.

    Each file is one transaction: a file with an error imports nothing and is named in a
    one-line message; the other files still import. Exit status 1 if any file failed.
    """
    mapping = parse_mapping(mappings)
    store = app.store()
    done: list[FileImport] = []
    failed: list[dict[str, str]] = []
    for path in files:
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
            )
        except ReviewflowError as exc:
            print_error(exc.message)
            failed.append({"file": str(path), "error": exc.message})
            continue
        done.append(result)
        if not as_json:
            click.echo(
                f"{path}: {result.records} records ({result.format}), {result.added} added "
                f"from {result.source} (run {result.run_id})"
            )
    if as_json:
        echo_json({"imported": [vars(d) for d in done], "failed": failed})
    elif len(files) > 1:
        total = sum(d.added for d in done)
        click.echo(f"{len(done)} of {len(files)} files imported, {total} records added")
    if failed:
        click.get_current_context().exit(1)


COMMANDS = [import_]
