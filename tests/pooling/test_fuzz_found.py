"""Inputs ``benchmarks/fuzz_inputs.py`` found that reached the user as "internal error": each is
now one line naming the file. Built from the real tables (dat.bcg, dat.pritz1997)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.pooling.golden_data import DATA

PRITZ = Path(__file__).parents[1] / "data" / "extraction" / "pritz1997.csv"
BCG = ["--events1", "events1", "--total1", "total1", "--events2", "events2", "--total2", "total2"]
PROPORTIONS = ["--events", "outcome.improvement.events", "--total", "outcome.improvement.total"]


@pytest.mark.parametrize(
    "source, rows, args",
    [
        # a study entered twice: leave-one-out by label leaves one study for Mantel-Haenszel
        (DATA / "bcg.csv", [0, 1, 2, 2], [*BCG, "--method", "MH", "--leave-one-out"]),
        # one study, fixed effect with Knapp-Hartung (no degrees of freedom)
        (PRITZ, [0, 1], [*PROPORTIONS, "--method", "EE", "--knha"]),
    ],
)
def test_fuzz_found_inputs_are_one_clear_line(
    tmp_path: Path, source: Path, rows: list[int], args: list[str]
) -> None:
    lines = source.read_text(encoding="utf-8").splitlines()
    table = tmp_path / "studies.csv"
    table.write_text("\n".join(lines[i] for i in rows) + "\n", encoding="utf-8")
    code, _out, err = run_cli("pool", str(table), *args)
    assert code == 1, err
    assert err.startswith(f"reviewflow: error: {table}: cannot pool these studies (")
    assert "internal error" not in err and err.count("\n") == 1
