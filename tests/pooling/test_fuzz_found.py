"""Inputs ``benchmarks/fuzz_inputs.py`` found that reached the user as "internal error", and
their root causes. Built from the real tables (dat.bcg, dat.pritz1997)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.pooling.golden_data import DATA

PRITZ = Path(__file__).parents[1] / "data" / "extraction" / "pritz1997.csv"
BCG = ["--events1", "events1", "--total1", "total1", "--events2", "events2", "--total2", "total2"]
PROPORTIONS = ["--events", "outcome.improvement.events", "--total", "outcome.improvement.total"]


def _table(tmp_path: Path, source: Path, rows: list[int], rename: str | None = None) -> Path:
    """Lines ``rows`` of ``source`` (0 is the header); ``rename``: a new label for the last."""
    lines = [source.read_text(encoding="utf-8").splitlines()[i] for i in rows]
    if rename is not None:
        lines[-1] = f'"{rename}",' + lines[-1].split(",", 1)[1]
    table = tmp_path / "studies.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def _one_line_error(args: list[str]) -> str:
    code, _out, err = run_cli("pool", *args)
    assert code == 1, err
    assert err.startswith("reviewflow: error: ") and err.count("\n") == 1
    assert "internal error" not in err
    return err


def test_one_study_with_knha_is_one_clear_line(tmp_path: Path) -> None:
    # one study, fixed effect with Knapp-Hartung (no degrees of freedom)
    table = _table(tmp_path, PRITZ, [0, 1])
    err = _one_line_error([str(table), *PROPORTIONS, "--method", "EE", "--knha"])
    assert err.startswith(f"reviewflow: error: {table}: cannot pool these studies (")


@pytest.mark.parametrize(
    "source, rows, args, study, lines",
    [
        (DATA / "bcg.csv", [0, 1, 2, 3, 2], BCG, "Ferguson & Simes", "rows 2, 4 (lines 3, 5)"),
        (PRITZ, [0, 1, 2, 1], PROPORTIONS, "Giannotta et al.", "rows 1, 3 (lines 2, 4)"),
    ],
)
def test_a_study_entered_twice_is_refused(
    tmp_path: Path, source: Path, rows: list[int], args: list[str], study: str, lines: str
) -> None:
    table = _table(tmp_path, source, rows)
    err = _one_line_error([str(table), *args, "--method", "MH" if args == BCG else "REML"])
    assert f"{table}: {lines} give study {study!r} with the same numbers" in err
    assert "distinct labels" in err


def test_studies_sharing_a_label_with_their_own_numbers_are_pooled() -> None:
    # dat.bcg names two trials "Rosenthal et al" and two "Comstock et al" (as metafor does)
    code, out, err = run_cli("pool", str(DATA / "bcg.csv"), *BCG, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["k"] == 13
    names = [s["study"] for s in data["studies"]]
    assert names.count("Rosenthal et al") == 2 and names.count("Comstock et al") == 2


@pytest.mark.parametrize("method", ["MH", "PETO"])
def test_identical_studies_under_distinct_labels(tmp_path: Path, method: str) -> None:
    """Two tables with the same numbers: Q = 0, and metafor's I² = max(0, 100 (Q - df) / Q)
    is max(0, -Inf) = 0 (rma.mh.r, rma.peto.r); this was a ZeroDivisionError, also in the
    Mantel-Haenszel leave-one-out of a table holding two such studies."""
    table = _table(tmp_path, DATA / "bcg.csv", [0, 2, 2], rename="Ferguson & Simes b")
    measure = ["--measure", "RR"] if method == "MH" else ["--measure", "PETO"]
    code, out, err = run_cli("pool", str(table), *BCG, "--method", method, *measure, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["k"], data["q"], data["i2"], data["h2"]) == (2, 0.0, 0.0, 0.0)
    if method == "MH":  # the pooled risk ratio of two identical tables is that table's
        assert data["estimate"] == pytest.approx((6 / 306) / (29 / 303), rel=1e-12)
    three = _table(tmp_path, DATA / "bcg.csv", [0, 1, 2, 2], rename="Ferguson & Simes b")
    args = [str(three), *BCG, "--method", "MH", "--measure", "RR", "--leave-one-out", "--json"]
    code, out, err = run_cli("pool", *args)
    assert code == 0, err
    loo = json.loads(out)["leave_one_out"]
    assert [r["omitted"] for r in loo] == ["Aronson", "Ferguson & Simes", "Ferguson & Simes b"]
    assert loo[0]["i2"] == 0.0 and loo[0]["estimate"] == pytest.approx(
        (6 / 306) / (29 / 303), rel=1e-12
    )


@pytest.mark.parametrize(
    "text, args, message",
    [
        ("study,events,total\nA,1,1e308\nB,2,9\n", ["--events", "events", "--total", "total"],
         "row 1 (line 2), column 'total': 1e308 is not a count (more than 10,000,000,000)"),
        ("study,events,total\nA,1,10\nB,1e300,1e308\n", ["--events", "events", "--total", "total"],
         "row 2 (line 3), column 'events': 1e300 is not a count (more than 10,000,000,000)"),
        ("study,e1,n1,e2,n2\nA,1,10,2,10\nB,1,10,2,10000000001\n",
         ["--events1", "e1", "--total1", "n1", "--events2", "e2", "--total2", "n2"],
         "row 2 (line 3), column 'n2': 10000000001 is not a count (more than 10,000,000,000)"),
        ("study,m,s,n\nA,1,1,10\nB,2,1,1e11\n", ["--mean", "m", "--sd", "s", "--n", "n"],
         "row 2 (line 3), column 'n': 1e11 is not a count (more than 10,000,000,000)"),
        ("study,m,s,n\nA,1,1,10.5\nB,2,1,12\n", ["--mean", "m", "--sd", "s", "--n", "n"],
         "row 1 (line 2), column 'n': 10.5 is not a whole number (round an effective sample size)"),
        ("study,events,total\nA,1.5,10\nB,2,9\n", ["--events", "events", "--total", "total"],
         "row 1 (line 2), column 'events': 1.5 is not a whole number"),
    ],
)  # fmt: skip
def test_counts_are_whole_numbers_of_a_sane_size(
    tmp_path: Path, text: str, args: list[str], message: str
) -> None:
    table = tmp_path / "t.csv"
    table.write_text(text, encoding="utf-8")
    assert _one_line_error([str(table), *args]) == f"reviewflow: error: {table}: {message}\n"


def test_the_largest_count_is_accepted(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("study,events,total\nA,1,10000000000\nB,3,10000000000\n", encoding="utf-8")
    code, out, err = run_cli("pool", str(table), "--events", "events", "--total", "total", "--json")
    assert code == 0, err
    assert json.loads(out)["k"] == 2
