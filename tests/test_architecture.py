"""The core is headless: importing it (and the CLI) never loads textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import reviewflow


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(reviewflow.__path__, "reviewflow."):
        if info.name.startswith(("reviewflow.tui", "reviewflow.store.migrations")):
            continue
        names.append(info.name)
    return names


def test_there_is_a_core_to_check() -> None:
    mods = core_modules()
    assert {"reviewflow.store.models", "reviewflow.screening.flow", "reviewflow.cli"} <= set(mods)


def test_core_and_cli_never_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(len(loaded))\n"
        "assert not loaded, loaded[:5]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"
