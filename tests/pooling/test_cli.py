"""``reviewflow pool``: the JSON contract, the text report, forest plots and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.pooling.golden_data import DATA, TOL_GLMM, TOL_IV, golden

CONTRACT_KEYS = {
    "k",
    "measure",
    "method",
    "estimate",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_pval",
    "studies",
}
STUDY_KEYS = {"study", "events", "total", "proportion", "ci_lower", "ci_upper", "weight"}


def _golden(dataset: str, measure: str, method: str, test: str) -> dict:
    return next(
        f
        for f in golden()["fits"]
        if (f["dataset"], f["measure"], f["method"], f["test"]) == (dataset, measure, method, test)
    )


def test_json_contract_with_defaults_plo_reml_z() -> None:
    code, out, err = run_cli(
        "pool", str(DATA / "pritz1997.csv"), "--events", "events", "--total", "total", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= CONTRACT_KEYS
    assert (data["k"], data["measure"], data["method"]) == (14, "PLO", "REML")
    expected = _golden("pritz1997", "PLO", "REML", "z")
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        assert data[key] == pytest.approx(expected[f"{key}_prop"], abs=TOL_IV)
    for key in ("tau2", "i2", "h2", "q", "q_pval"):
        assert data[key] == pytest.approx(expected[key], abs=TOL_IV)
    assert len(data["studies"]) == 14
    assert all(set(s) >= STUDY_KEYS for s in data["studies"])
    first = data["studies"][0]
    assert (first["study"], first["events"], first["total"]) == ("Giannotta et al.", 16, 17)
    assert first["proportion"] == pytest.approx(16 / 17)
    weights = [s["weight"] for s in data["studies"]]
    assert weights == pytest.approx([100 * w / 100 for w in expected["weights"]], abs=TOL_IV)
    assert sum(weights) == pytest.approx(100)


def test_json_pft_dl_knha_back_transforms_with_harmonic_mean() -> None:
    code, out, err = run_cli(
        "pool",
        str(DATA / "debruin2009.csv"),
        "--events",
        "events",
        "--total",
        "total",
        "--study",
        "study",
        "--measure",
        "PFT",
        "--method",
        "DL",
        "--knha",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    expected = _golden("debruin2009", "PFT", "DL", "knha")
    assert data["test"] == "knha"
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        assert data[key] == pytest.approx(expected[f"{key}_prop"], abs=TOL_IV)


def test_json_glmm() -> None:
    code, out, err = run_cli(
        "pool",
        str(DATA / "hannum2020.csv"),
        "--events",
        "events",
        "--total",
        "total",
        "--method",
        "GLMM",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    expected = next(
        g
        for g in golden()["glmm"]
        if g["dataset"] == "hannum2020" and g["test"] == "z" and g["control"] == "tight"
    )
    assert data["method"] == "GLMM" and data["q_kind"] == "LRT"
    assert data["estimate"] == pytest.approx(expected["estimate_prop"], abs=TOL_GLMM)
    assert data["tau2"] == pytest.approx(expected["tau2"], abs=TOL_GLMM)
    assert data["q"] == pytest.approx(expected["q_lrt"], abs=TOL_GLMM)


def test_subgroups_in_json_and_text() -> None:
    args = (
        "pool",
        str(DATA / "debruin2009.csv"),
        "--events",
        "events",
        "--total",
        "total",
        "--subgroup",
        "subgroup",
    )
    code, out, err = run_cli(*args, "--json")
    assert code == 0, err
    data = json.loads(out)
    expected = next(
        s
        for s in golden()["subgroups"]
        if (s["dataset"], s["measure"], s["method"], s["test"])
        == ("debruin2009", "PLO", "REML", "z")
    )
    assert [g["name"] for g in data["subgroups"]] == ["caucasian", "other"]
    assert data["test_for_subgroup_differences"]["q_between"] == pytest.approx(
        expected["q_between"], abs=TOL_IV
    )
    code, out, err = run_cli(*args)
    assert code == 0, err
    assert "Test for subgroup differences: Q = 3.26 (df = 1), p = 0.07" in out
    assert "caucasian (k = 6): 55% (95% CI 46% to 64%)" in out


def test_text_report_reads_like_a_paper() -> None:
    code, out, err = run_cli(
        "pool",
        str(DATA / "pritz1997.csv"),
        "--events",
        "events",
        "--total",
        "total",
        "--leave-one-out",
    )
    assert code == 0, err
    assert "76% (95% CI 66% to 83%); 95% prediction interval 47% to 92%" in out
    assert "I² = 57%, τ² = 0.36, Q = 29.79 (df = 13), p = 0.005" in out
    assert "Tanabe et al.                10/10  100% (69% to 100%)" in out
    assert out.count("without ") == 14


@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_forest_plot_files(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"forest.{suffix}"
    code, out, err = run_cli(
        "pool",
        str(DATA / "debruin2009.csv"),
        "--events",
        "events",
        "--total",
        "total",
        "--subgroup",
        "subgroup",
        "--forest",
        str(target),
    )
    assert code == 0, err
    content = target.read_bytes()
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[suffix]
    assert content.startswith(magic)
    if suffix == "svg":
        text = content.decode()
        for label in (
            "Goujard et al.",
            "Random effects model",
            "Prediction interval",
            "Test for subgroup differences",
            "47% [38%; 57%]",
            "100.0%",
            "debruin2009.csv",  # a title by default: what the plot shows
        ):
            assert label in text, label


def _bad(tmp_path: Path, text: str, *extra: str) -> str:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli("pool", str(path), "--events", "events", "--total", "total", *extra)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_events_greater_than_total(tmp_path: Path) -> None:
    line = _bad(tmp_path, "study,events,total\nA,3,10\nB,12,10\n")
    assert "bad.csv: row 2 (line 3), column 'events': 12 events > 10 total" in line


def test_negative_and_missing_counts(tmp_path: Path) -> None:
    assert "row 1 (line 2), column 'total': negative count -4" in _bad(
        tmp_path, "events,total\n1,-4\n2,10\n"
    )
    assert "row 2 (line 3), column 'events': missing count" in _bad(
        tmp_path, "events,total\n1,4\n,10\n"
    )
    assert "row 1 (line 2), column 'events': 'two' is not a number" in _bad(
        tmp_path, "events,total\ntwo,4\n1,10\n"
    )
    assert "row 1 (line 2), column 'events': 1.5 is not a whole number" in _bad(
        tmp_path, "events,total\n1.5,4\n1,10\n"
    )


def test_unknown_column(tmp_path: Path) -> None:
    line = _bad(tmp_path, "study,deaths,n\nA,1,10\nB,2,10\n")
    assert "bad.csv: no column 'events' (--events); columns are 'study', 'deaths', 'n'" in line
    line = _bad(tmp_path, "study,events,total\nA,1,10\nB,2,10\n", "--subgroup", "design")
    assert "no column 'design' (--subgroup)" in line


def test_too_few_studies_for_random_effects(tmp_path: Path) -> None:
    line = _bad(tmp_path, "study,events,total\nA,1,10\n")
    assert "bad.csv: REML needs at least 2 studies (got 1)" in line
    path = tmp_path / "bad.csv"
    code, out, err = run_cli(
        "pool", str(path), "--events", "events", "--total", "total", "--method", "EE", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["k"] == 1


def test_glmm_needs_the_logit_scale_and_missing_file(tmp_path: Path) -> None:
    assert "use --measure PLO" in _bad(
        tmp_path, "events,total\n1,10\n2,10\n", "--method", "GLMM", "--measure", "PFT"
    )
    code, _out, err = run_cli("pool", str(tmp_path / "nope.csv"), "--events", "e", "--total", "t")
    assert code == 1 and "nope.csv: no such file" in err
    code, _out, err = run_cli("pool", str(DATA / "pritz1997.csv"), "--events", "events")
    assert code == 1 and "--total" in err
