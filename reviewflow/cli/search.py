"""``reviewflow search queries/NAME.toml``: run a saved PubMed search into the review."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from reviewflow.acquire.entrez.transport import RecordingTransport, ReplayTransport, Transport
from reviewflow.acquire.pubmed import EUTILS_URL, PubMedClient, contact_from
from reviewflow.acquire.search import SearchProgress, SearchReport, run_search
from reviewflow.acquire.strategy import load_query
from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.errors import InputError, NetworkError


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _no_sleep(seconds: float) -> None:
    del seconds


class _Bar(SearchProgress):
    """A rich progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, console: Console, quiet: bool) -> None:
        self.console = console
        self.quiet = quiet
        self.progress: Progress | None = None
        self.task: object = None

    def note(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, highlight=False, markup=False)

    def start_fetch(self, total: int, done: int) -> None:
        if self.quiet or total == done or not self.console.is_terminal:
            if not self.quiet and total > done:
                self.console.print(
                    f"fetching {total - done:,} records", highlight=False, markup=False
                )
            return
        self.progress = Progress(
            TextColumn("fetching records"), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=self.console, transient=True,
        )  # fmt: skip
        self.task = self.progress.add_task("fetch", total=total, completed=done)
        self.progress.start()

    def advance(self, n: int) -> None:
        if self.progress is not None:
            self.progress.advance(self.task, n)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class _ToConsole(logging.Handler):
    """Retries and warnings from the client, shown as they happen (never the API key: the
    client scrubs its messages)."""

    def __init__(self, bar: _Bar) -> None:
        super().__init__(logging.WARNING)
        self.bar = bar

    def emit(self, record: logging.LogRecord) -> None:
        self.bar.note(f"[retry] {record.getMessage()}")


def _summary(report: SearchReport) -> list[str]:
    lines = [
        f"{report.query_name}: PubMed counts {report.count:,} records, {report.hits:,} PMIDs "
        f"retrieved (run {report.run_id} of {report.started_at[:16].replace('T', ' ')} UTC"
        f"{', resumed' if report.resumed else ''}"
        f"{f', {report.slices} date slices' if report.slices > 1 else ''})",
    ]
    if report.previous_run_id is not None:
        lines.append(
            f"  since run {report.previous_run_id}: {report.new_hits:,} new PMIDs, "
            f"{report.dropped_hits:,} no longer found"
        )
    lines.append(
        f"  records added to the review: {report.records_added:,}; "
        f"already in the review (provenance only): {report.already_in_review:,}"
    )
    lines.append(f"  PubMed's translation: {report.translation}")
    lines.extend(f"  warning: {w}" for w in report.warnings)
    return lines


@click.command()
@click.argument("query_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--email", metavar="ADDRESS",
    help="Contact e-mail sent to NCBI (default: $REVIEWFLOW_EMAIL, then [contact] email in "
    "review.toml). An API key is read from $NCBI_API_KEY only.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the run's report as JSON.")
@click.option(
    "--record", "record_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
    help="Also write every E-utilities exchange to DIR (session.json + bodies), without the "
    "API key or the e-mail: for a bug report or a test.",
)  # fmt: skip
@click.option(
    "--replay", "replay_file", metavar="SESSION", type=click.Path(dir_okay=False, path_type=Path),
    help="Replay a recorded session.json instead of contacting NCBI (offline demos and tests).",
)  # fmt: skip
@pass_app
def search(
    app: AppContext,
    query_file: Path,
    email: str | None,
    as_json: bool,
    record_dir: Path | None,
    replay_file: Path | None,
) -> None:
    """Run the saved PubMed search QUERY_FILE (queries/NAME.toml) and store its records.

    Every run is logged (query, PubMed's translation, date, count, PMIDs). An interrupted run
    resumes where it stopped; a later run adds only new records and reports the difference.
    """
    saved = load_query(query_file)
    ws = app.workspace()
    contact = contact_from(email, ws.config.email)
    transport: Transport | None = None
    sleep: Callable[[float], None] = _sleep
    if replay_file is not None:
        if not replay_file.is_file():
            raise InputError(f"{replay_file}: no such recorded session")
        transport = ReplayTransport.load(replay_file)
        sleep = _no_sleep  # a recording needs no politeness
    if record_dir is not None:
        from reviewflow.acquire.entrez.transport import default_transport

        transport = RecordingTransport(transport or default_transport(), record_dir)
    base_url = os.environ.get("REVIEWFLOW_EUTILS_URL", EUTILS_URL)
    client = PubMedClient(contact, transport, sleep=sleep, base_url=base_url)
    store = app.store()
    console = Console(stderr=True)
    bar = _Bar(console, quiet=as_json)
    handler = _ToConsole(bar)
    logger = logging.getLogger("reviewflow.acquire.pubmed")
    logger.addHandler(handler)
    try:
        report = run_search(store, saved, client, progress=bar)
    except AssertionError as exc:  # a replayed session that does not match the requests
        raise NetworkError(f"{replay_file}: the recording does not match ({exc})") from None
    finally:
        bar.stop()
        logger.removeHandler(handler)
    if as_json:
        echo_json(asdict(report))
    else:
        for line in _summary(report):
            click.echo(line)
    if report.missing:
        shown = ", ".join(report.missing[:10]) + (" …" if len(report.missing) > 10 else "")
        raise NetworkError(
            f"PubMed returned no record for {len(report.missing):,} PMIDs after every retry "
            f"({shown}); run the same search again to retry only those"
        )


COMMANDS = [search]
