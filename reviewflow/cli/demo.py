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
    Entrez client, import, dedup, two-reviewer screening, extraction, pooling, report); the
    reviewers' decisions are simulated, and the report says so.
    """
    from reviewflow.demo.build import build_demo

    started = time.perf_counter()
    summary = build_demo(directory, say=lambda line: click.echo(f"  {line}"))
    click.echo(f"Built the demo review in {summary.root} ({time.perf_counter() - started:.1f} s)")


COMMANDS = [demo]
