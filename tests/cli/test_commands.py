"""Every command has --help text, and the README documents every command (the names are a
contract in DESIGN.md)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from reviewflow.cli import main
from tests.conftest import run_cli

README = Path(__file__).parents[2] / "README.md"
CONTRACT = [
    "init", "search", "import", "dedup", "screen", "reconcile", "agreement", "extract", "pool",
    "prisma", "report", "export", "status", "demo",
]  # fmt: skip


def all_commands() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []

    ctx = click.Context(main)

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            assert cmd is not None, name
            found.append((*prefix, name))
            if isinstance(cmd, click.Group):
                walk(cmd, (*prefix, name))

    walk(main, ())
    return found


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    code, out, err = run_cli(*path, "--help")
    assert code == 0, err
    assert (
        f"Usage: reviewflow {' '.join(path)}" in out.replace("main ", "reviewflow ", 1)
        or "Usage:" in out
    )
    body = out.split("\n\n", 2)
    assert len(body) >= 2 and body[1].strip(), f"reviewflow {' '.join(path)} has no help text"


def test_the_contract_commands_exist() -> None:
    assert set(CONTRACT) <= {path[0] for path in all_commands()}


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_the_readme_documents_every_command(path: tuple[str, ...]) -> None:
    readme = README.read_text(encoding="utf-8")
    assert re.search(rf"reviewflow {re.escape(' '.join(path))}\b", readme), (
        f"README.md does not document 'reviewflow {' '.join(path)}'"
    )
