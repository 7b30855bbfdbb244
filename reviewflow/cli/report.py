"""``reviewflow prisma`` (the PRISMA 2020 flow) and ``reviewflow report`` (the report folder)."""

from __future__ import annotations

from pathlib import Path

import click

from reviewflow.cli.common import AppContext, echo_json, pass_app

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Every box with its count, and the checks.")
@click.option("--svg", type=_FILE, help="Write the flow diagram as SVG.")
@click.option("--png", type=_FILE, help="Write the flow diagram as PNG (200 dpi).")
@click.option("--pdf", type=_FILE, help="Write the flow diagram as PDF.")
@click.option("--csv", "csv_out", type=_FILE, help="Write the PRISMA2020 app's CSV template.")
@pass_app
def prisma(
    app: AppContext,
    as_json: bool,
    svg: Path | None,
    png: Path | None,
    pdf: Path | None,
    csv_out: Path | None,
) -> None:
    """The PRISMA 2020 flow of the review, counted from the database.

    Prints the counts (or JSON with --json) and any check that says the flow is not final
    (records awaiting a decision, conflicts, reports without a study…).
    """
    from reviewflow.report.prisma import review_prisma
    from reviewflow.report.prisma_files import write_flow_files

    ws = app.workspace()
    counts = review_prisma(app.as_lead(), ws.config)
    written = write_flow_files(counts, svg=svg, png=png, pdf=pdf, csv=csv_out)
    if as_json:
        echo_json(counts.to_dict())
        return
    from reviewflow.report.prisma_files import flow_summary

    for line in flow_summary(counts):
        click.echo(line)
    for path in written:
        click.echo(f"wrote {path}")


@click.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="The folder to write (created; files in it are replaced).",
)
@click.option("--form", "form_name", help="The extraction form (default: the one in forms/).")
@click.option("--json", "as_json", is_flag=True, help="Print the files written and notes as JSON.")
@pass_app
def report(app: AppContext, out: Path, form_name: str | None, as_json: bool) -> None:
    """Write the review report folder: index.html, the PRISMA diagram, forest plots, the pooled
    results, the extraction table, the search log, screening agreement, the included studies."""
    from reviewflow.report.folder import build_report, report_summary

    result = build_report(app.as_lead(), app.workspace(), out, form_name=form_name)
    if as_json:
        echo_json(report_summary(result))
        return
    click.echo(f"report written to {result.index}")
    for note in result.notes:
        click.echo(f"  note: {note}")


COMMANDS = [prisma, report]
