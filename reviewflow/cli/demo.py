"""``reviewflow demo [DIR]``: the offline demonstration review."""

from __future__ import annotations

import time
from pathlib import Path

import click


@click.command()
@click.argument(
    "directory",
    required=False,
    default="demo-review",
    type=click.Path(file_okay=False, path_type=Path),
)
def demo(directory: Path) -> None:
    """Build a complete review offline in DIRECTORY (default: ./demo-review).

    Real data shipped with reviewflow goes through every stage (search replayed through the
    Entrez client, import, dedup, two-reviewer screening, studies, report); the reviewers'
    decisions are simulated, and the report says so. A published dataset is pooled on its own
    in DIRECTORY/pooling-example (not the same review).
    """
    from reviewflow.demo.build import build_demo

    started = time.perf_counter()
    summary = build_demo(directory, say=lambda line: click.echo(f"  {line}"))
    click.echo(f"Built the demo review in {summary.root} ({time.perf_counter() - started:.1f} s)")
    click.echo(f"Open the report: {summary.report_dir / 'index.html'}")
    click.echo(f"Try next:  cd {summary.root}")
    for line in (
        "reviewflow status                          counts per stage",
        "reviewflow prisma                          the PRISMA 2020 flow as text",
        "reviewflow screen --reviewer you           screen the records yourself (? for keys)",
        "reviewflow reconcile                       the resolved conflicts, side by side",
        "reviewflow agreement                       Cohen's kappa per stage",
        "reviewflow studies list                    the included studies",
        "reviewflow rob summary                     their risk of bias (RoB 2, simulated)",
        "reviewflow rob assess --reviewer you       assess them yourself",
        "reviewflow pool pooling-example/hannum2020.csv --events events --total total",
    ):
        click.echo(f"  {line}")


COMMANDS = [demo]
