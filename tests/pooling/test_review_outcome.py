"""``reviewflow pool --outcome`` on a review whose form has a continuous outcome: the
consensus extraction's mean/SD/n are pooled as means (MN), matched to metafor."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from reviewflow.workspace import Workspace
from tests.conftest import run_cli
from tests.pooling.golden_data import DATA, TOL_IV
from tests.pooling.golden_measures import measures_golden

FORM = """[form]
title = "Length of stay after stroke (dat.normand1999, specialist care arm)"

[[outcomes]]
key = "stay"
label = "Length of hospital stay"
kind = "continuous"
unit = "days"
"""


@pytest.fixture
def stay_review(workspace: Workspace, tmp_path: Path) -> Workspace:
    """A review whose only form has one continuous outcome, with normand1999's arm 1 imported."""
    for old in workspace.forms_dir.glob("*.toml"):
        old.unlink()
    (workspace.forms_dir / "stay.toml").write_text(FORM, encoding="utf-8")
    sheet = tmp_path / "stay.csv"
    with (
        (DATA / "normand1999_arm1.csv").open(encoding="utf-8") as fh,
        sheet.open("w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out)
        writer.writerow(["study", "outcome.stay.mean", "outcome.stay.sd", "outcome.stay.n"])
        for row in csv.DictReader(fh):
            writer.writerow([row["study"], row["mean"], row["sd"], row["n"]])
    code, _out, err = run_cli(
        "extraction", "import", str(sheet), "--create-studies", cwd=workspace.root
    )
    assert code == 0, err
    return workspace


def test_pool_outcome_pools_a_continuous_outcome_as_means(stay_review: Workspace) -> None:
    code, out, err = run_cli("pool", "--outcome", "stay", "--json", cwd=stay_review.root)
    assert code == 0, err
    data = json.loads(out)
    (golden,) = [
        f for f in measures_golden()["fits"]
        if (f["dataset"], f["measure"], f["method"], f["test"])
        == ("normand1999_arm1", "MN", "REML", "z")
    ]  # fmt: skip
    assert (data["measure"], data["k"]) == ("MN", 9)
    for key in ("estimate", "ci_lower", "ci_upper", "tau2"):
        assert data[key] == pytest.approx(golden[key], abs=TOL_IV), key
    assert data["studies"][0]["mean"] == 55 and data["studies"][0]["n"] == 155
    code, out, err = run_cli("pool", "--outcome", "stay", "--measure", "MNLN",
                             cwd=stay_review.root)  # fmt: skip
    assert code == 0, err
    assert "Pooled mean (pooled on the log scale)" in out
    code, _out, err = run_cli("pool", "--outcome", "stay", "--measure", "PLO", cwd=stay_review.root)
    assert code == 1 and "--measure PLO needs --events --total" in err


def test_the_report_pools_a_continuous_outcome_as_means(
    stay_review: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    code, _out, err = run_cli("report", "--out", str(out), cwd=stay_review.root)
    assert code == 0, err
    (row,) = csv.DictReader((out / "pooled_results.csv").open(encoding="utf-8"))
    (golden,) = [
        f for f in measures_golden()["fits"]
        if (f["dataset"], f["measure"], f["method"], f["test"])
        == ("normand1999_arm1", "MN", "REML", "z")
    ]  # fmt: skip
    assert (row["measure"], row["measure_label"], row["k"], row["events"]) == (
        "MN",
        "Mean",
        "9",
        "",
    )
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        assert float(row[key]) == pytest.approx(golden[key], abs=TOL_IV), key
    arm = list(csv.DictReader((DATA / "normand1999_arm1.csv").open(encoding="utf-8")))
    assert int(row["patients"]) == sum(int(r["n"]) for r in arm)
    assert (out / "forest_stay.svg").is_file()
