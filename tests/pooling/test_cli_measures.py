"""``reviewflow pool`` for every data type: the JSON contract (estimate/CI/PI on the reporting
scale, moderators, qm, r2, egger, trimfill), checked against metafor's golden values, and the
one-line errors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.pooling.golden_data import DATA, TOL_IV
from tests.pooling.golden_measures import measures_golden
from tests.pooling.test_cli import CONTRACT_KEYS

BCG = ("--events1", "events1", "--total1", "total1", "--events2", "events2", "--total2", "total2")
NORMAND = ("--mean1", "mean1", "--sd1", "sd1", "--n1", "n1", "--mean2", "mean2", "--sd2", "sd2",
           "--n2", "n2")  # fmt: skip
STUDY_KEYS = {"study", "yi", "vi", "estimate", "ci_lower", "ci_upper", "weight"}


def _json(*args: str) -> dict[str, Any]:
    code, out, err = run_cli("pool", *args, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _golden(section: str, **match: Any) -> dict[str, Any]:
    (case,) = [
        c for c in measures_golden()[section]
        if all(c.get(k) == v for k, v in match.items())
    ]  # fmt: skip
    return case


def test_risk_ratio_json_is_on_the_reporting_scale() -> None:
    data = _json(str(DATA / "bcg.csv"), *BCG, "--measure", "RR")
    assert set(data) >= CONTRACT_KEYS | {"theta", "se", "pval", "transform", "dropped"}
    g = _golden("fits", dataset="bcg", measure="RR", method="REML", test="z")
    assert (data["k"], data["measure"], data["method"], data["transform"]) == (
        13,
        "RR",
        "REML",
        "exp",
    )
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        assert data[key] == pytest.approx(g[f"{key}_reported"], abs=TOL_IV), key
    for key in ("tau2", "i2", "h2", "q", "q_pval", "se", "pval"):
        assert data[key] == pytest.approx(g[key], abs=TOL_IV), key
    assert data["theta"] == pytest.approx(g["estimate"], abs=TOL_IV)
    first = data["studies"][0]
    assert set(first) >= STUDY_KEYS | {"events1", "total1", "events2", "total2"}
    assert (first["study"], first["events1"], first["total1"]) == ("Aronson", 4, 123)
    assert first["estimate"] == pytest.approx(math.exp(g["yi"][0]))
    assert sum(s["weight"] for s in data["studies"]) == pytest.approx(100)
    assert data["dropped"] == []


def test_default_measure_and_method_follow_the_columns() -> None:
    assert (_json(str(DATA / "bcg.csv"), *BCG)["measure"]) == "RR"
    assert _json(str(DATA / "normand1999.csv"), *NORMAND)["measure"] == "MD"
    peto = _json(str(DATA / "bcg.csv"), *BCG, "--measure", "PETO")
    assert (peto["measure"], peto["method"], peto["tau2"]) == ("PETO", "PETO", 0)
    g = _golden("mh", dataset="bcg", measure="PETO")
    assert peto["theta"] == pytest.approx(g["estimate"], abs=TOL_IV)
    assert peto["estimate"] == pytest.approx(math.exp(g["estimate"]), abs=TOL_IV)


def test_mantel_haenszel_odds_ratio_with_cmh_and_tarone() -> None:
    data = _json(str(DATA / "egger2001.csv"), *BCG, "--measure", "OR", "--method", "MH")
    g = _golden("mh", dataset="egger2001", measure="OR")
    assert data["method"] == "MH" and data["test"] == "z"
    assert data["estimate"] == pytest.approx(math.exp(g["estimate"]), abs=TOL_IV)
    assert data["pi_lower"] == data["ci_lower"]  # a common-effect model
    for key in ("cmh", "cmh_pval", "tarone", "tarone_pval", "q", "i2"):
        assert data[key] == pytest.approx(g[key], abs=TOL_IV), key


def test_double_zero_studies_under_mh_are_reported_not_estimable() -> None:
    data = _json(str(DATA / "binary_zeros.csv"), *BCG, "--measure", "RR", "--method", "MH")
    g = _golden("mh", dataset="binary_zeros", measure="RR")
    assert data["k"] == 6 and data["q_df"] == g["k_yi"] - 1 == 3
    missing = [s["study"] for s in data["studies"] if s["yi"] is None]
    assert missing == ["Study 3", "Study 6"]  # 0/25 vs 0/24; 20/20 vs 18/18
    assert [d["study"] for d in data["dropped"]] == missing
    assert "drop00" in data["dropped"][0]["reason"]
    iv = _json(str(DATA / "binary_zeros.csv"), *BCG, "--measure", "RR")  # rma keeps them (+1/2)
    assert iv["k"] == 6 and iv["dropped"] == []


def test_continuous_and_mean_measures() -> None:
    smd = _json(str(DATA / "normand1999.csv"), *NORMAND, "--measure", "SMD", "--knha")
    g = _golden("fits", dataset="normand1999", measure="SMD", method="REML", test="knha")
    assert smd["transform"] == "none" and smd["test"] == "knha"
    assert smd["estimate"] == pytest.approx(g["estimate"], abs=TOL_IV)
    assert smd["ci_lower"] == pytest.approx(g["ci_lower"], abs=TOL_IV)
    rom = _json(str(DATA / "normand1999.csv"), *NORMAND, "--measure", "ROM", "--method", "DL")
    g = _golden("fits", dataset="normand1999", measure="ROM", method="DL", test="z")
    assert rom["estimate"] == pytest.approx(g["estimate_reported"], abs=TOL_IV)
    mnln = _json(str(DATA / "normand1999_arm1.csv"), "--mean", "mean", "--sd", "sd", "--n", "n",
                 "--measure", "MNLN")  # fmt: skip
    g = _golden("fits", dataset="normand1999_arm1", measure="MNLN", method="REML", test="z")
    assert mnln["estimate"] == pytest.approx(g["estimate_reported"], abs=TOL_IV)
    edge = _json(str(DATA / "continuous_edge.csv"), *NORMAND, "--measure", "SMD")
    assert edge["k"] == 4
    assert edge["dropped"] == [{"study": "Study 2", "reason": "Hedges' g undefined (n1 + n2 ≤ 3)"}]


def test_generic_from_printed_odds_ratios_and_cis() -> None:
    data = _json(str(DATA / "hackshaw1998.csv"), "--estimate", "or", "--ci-lower", "or_lb",
                 "--ci-upper", "or_ub", "--measure", "GEN", "--transform", "exp")  # fmt: skip
    g = _golden("fits", dataset="hackshaw1998", input="ci", method="REML", test="z")
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        assert data[key] == pytest.approx(g[f"{key}_reported"], abs=TOL_IV), key
    raw = _json(str(DATA / "hackshaw1998.csv"), "--yi", "yi", "--vi", "vi")
    g = _golden("fits", dataset="hackshaw1998", input="yi_vi", method="REML", test="z")
    assert (raw["measure"], raw["transform"]) == ("GEN", "none")
    assert raw["estimate"] == pytest.approx(g["estimate"], abs=TOL_IV)


def test_meta_regression_json() -> None:
    data = _json(str(DATA / "bcg.csv"), *BCG, "--measure", "RR", "--moderator", "ablat",
                 "--moderator", "alloc", "--knha")  # fmt: skip
    g = _golden("regressions", dataset="bcg", moderators=["ablat", "alloc"], method="REML",
                test="knha")  # fmt: skip
    terms = [m["term"] for m in data["moderators"]]
    assert terms == ["intrcpt", "ablat", "allocrandom", "allocsystematic"] == g["terms"]
    for i, m in enumerate(data["moderators"]):
        assert set(m) >= {"term", "estimate", "se", "pval", "ci_lower", "ci_upper"}
        for key in ("estimate", "se", "pval", "ci_lower", "ci_upper"):
            assert m[key] == pytest.approx(g[key][i], abs=TOL_IV), (m["term"], key)
    for key in ("qm", "qm_pval", "r2"):
        assert data[key] == pytest.approx(g[key], abs=TOL_IV), key
    assert (data["qm_df"], data["qm_df2"]) == (3, 9)
    assert data["tau2_residual"] == pytest.approx(g["tau2"], abs=1e-5)
    # the pooled keys stay the intercept-only model's
    pooled = _golden("fits", dataset="bcg", measure="RR", method="REML", test="knha")
    assert data["tau2"] == pytest.approx(pooled["tau2"], abs=TOL_IV)


def test_egger_and_trimfill_json_on_the_reporting_scale() -> None:
    data = _json(str(DATA / "bcg.csv"), *BCG, "--measure", "RR", "--egger", "--trimfill")
    e = _golden("regtests", dataset="bcg", measure="RR", method="REML", test="z")
    assert set(data["egger"]) >= {"statistic", "pval", "limit_estimate"}
    assert data["egger"]["statistic"] == pytest.approx(e["statistic"], abs=TOL_IV)
    assert data["egger"]["pval"] == pytest.approx(e["pval"], abs=TOL_IV)
    assert data["egger"]["limit_estimate"] == pytest.approx(
        math.exp(e["limit_estimate"]), abs=TOL_IV
    )
    t = _golden("trimfills", dataset="bcg", measure="RR", method="REML", test="z")
    assert set(data["trimfill"]) >= {"k0", "side", "estimate", "ci_lower", "ci_upper"}
    assert (
        (data["trimfill"]["k0"], data["trimfill"]["side"]) == (t["k0"], t["side"]) == (1, "right")
    )
    for key in ("estimate", "ci_lower", "ci_upper"):
        assert data["trimfill"][key] == pytest.approx(math.exp(t[key]), abs=TOL_IV), key


def test_subgroups_and_leave_one_out_for_a_ratio() -> None:
    data = _json(str(DATA / "bcg.csv"), *BCG, "--measure", "OR", "--method", "MH",
                 "--subgroup", "alloc", "--leave-one-out")  # fmt: skip
    g = _golden("subgroups", dataset="bcg", measure="OR", method="MH")
    assert [s["name"] for s in data["subgroups"]] == ["alternate", "random", "systematic"]
    for ours, theirs in zip(data["subgroups"], g["groups"], strict=True):
        assert ours["theta"] == pytest.approx(theirs["estimate"], abs=TOL_IV)
    diff = data["test_for_subgroup_differences"]
    assert diff["q_between"] == pytest.approx(g["q_between"], abs=TOL_IV)
    loo = _golden("leave1out", dataset="bcg", measure="OR", method="MH")
    assert [row["theta"] for row in data["leave_one_out"]] == pytest.approx(
        loo["estimate"], abs=TOL_IV
    )


@pytest.mark.parametrize(
    ("name", "args", "texts"),
    [
        ("bcg", (*BCG, "--measure", "RR"), ("Risk ratio [95% CI]", "Experimental", "0.49 [0.34; 0.70]")),
        ("binary_zeros", (*BCG, "--method", "MH"), ("not estimable", "Mantel–Haenszel")),
        ("normand1999", (*NORMAND, "--measure", "MD"), ("Mean difference [95% CI]", "Control")),
        ("normand1999_arm1", ("--mean", "mean", "--sd", "sd", "--n", "n"), ("Mean [95% CI]",)),
        ("hackshaw1998", ("--yi", "yi", "--vi", "vi", "--transform", "exp"), ("Ratio [95% CI]",)),
    ],
)  # fmt: skip
def test_forest_plots_for_every_data_type(
    tmp_path: Path, name: str, args: tuple[str, ...], texts: tuple[str, ...]
) -> None:
    svg = tmp_path / "forest.svg"
    code, _out, err = run_cli("pool", str(DATA / f"{name}.csv"), *args, "--forest", str(svg))
    assert code == 0, err
    text = svg.read_text(encoding="utf-8")
    for label in texts:
        assert label in text, label


def test_funnel_and_bubble_plots(tmp_path: Path) -> None:
    funnel, bubble = tmp_path / "funnel.png", tmp_path / "bubble.pdf"
    code, out, err = run_cli(
        "pool", str(DATA / "bcg.csv"), *BCG, "--trimfill", "--moderator", "ablat",
        "--funnel", str(funnel), "--bubble", str(bubble),
    )  # fmt: skip
    assert code == 0, err
    assert funnel.read_bytes().startswith(b"\x89PNG") and bubble.read_bytes().startswith(b"%PDF")
    assert "Trim-and-fill (L0): 1 imputed on the right; 0.52 (95% CI 0.37 to 0.74)" in out
    assert "Test of moderators: QM = 16.36 (df = 1), p < 0.001" in out


def _error(tmp_path: Path, text: str | None, *args: str) -> str:
    if text is not None:
        (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    source = str(tmp_path / "t.csv") if text is not None else str(DATA / "bcg.csv")
    code, out, err = run_cli("pool", source, *args)
    assert code == 1 and out == "", (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_one_line_errors(tmp_path: Path) -> None:
    assert "missing --total2" in _error(tmp_path, None, "--events1", "events1", "--total1",
                                        "total1", "--events2", "events2")  # fmt: skip
    assert "--measure MD needs --mean1" in _error(tmp_path, None, *BCG, "--measure", "MD")
    assert "MH (Mantel–Haenszel) pools OR, RR or RD" in _error(
        tmp_path, None, *BCG, "--measure", "PETO", "--method", "MH"
    )
    assert "--knha does not apply to MH" in _error(tmp_path, None, *BCG, "--method", "MH", "--knha")
    assert "--moderator needs an inverse-variance model" in _error(
        tmp_path, None, *BCG, "--method", "MH", "--moderator", "ablat"
    )
    assert "--trimfill needs an inverse-variance model" in _error(
        tmp_path, None, *BCG, "--measure", "PETO", "--trimfill"
    )
    assert "no column 'lat' (--moderator)" in _error(tmp_path, None, *BCG, "--moderator", "lat")
    assert "--bubble needs a --moderator" in _error(
        tmp_path, None, *BCG, "--bubble", str(tmp_path / "b.png")
    )
    assert "t.csv: row 2 (line 3), column 'e1': 12 events > 10 total" in _error(
        tmp_path, "e1,n1,e2,n2\n1,10,2,10\n12,10,3,10\n",
        "--events1", "e1", "--total1", "n1", "--events2", "e2", "--total2", "n2",
    )  # fmt: skip
    means = ("--mean", "m", "--sd", "s", "--n", "n")
    assert "row 1 (line 2), column 's': negative standard deviation -2" in _error(
        tmp_path, "m,s,n\n5,-2,10\n6,2,12\n", *means
    )
    assert "t.csv: row 2 (line 3): MNLN needs means ≥ 0" in _error(
        tmp_path, "m,s,n\n5,2,10\n-6,2,12\n", *means, "--measure", "MNLN"
    )
    assert "sampling variance is 0" in _error(tmp_path, "m,s,n\n5,0,10\n6,2,12\n", *means)
    assert "t.csv: row 1 (line 2): the estimate 2.5 is not inside its CI 1.1 to 2" in _error(
        tmp_path, "e,l,u\n2.5,1.1,2.0\n1.2,0.9,1.6\n",
        "--estimate", "e", "--ci-lower", "l", "--ci-upper", "u", "--transform", "exp",
    )  # fmt: skip
    assert "moderator 'g' has only one value ('a')" in _error(
        tmp_path, "m,s,n,g\n5,2,10,a\n6,2,12,a\n7,2,9,a\n", *means, "--moderator", "g"
    )


def test_a_study_with_an_empty_cell_is_left_out_and_said(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("study,m,s,n\nA,5,2,10\nB,6,,12\nC,7,2.5,9\n", encoding="utf-8")
    code, out, err = run_cli("pool", str(path), "--mean", "m", "--sd", "s", "--n", "n")
    assert code == 0, err
    assert "Left out: B (no sd (column 's'))" in out
    data = _json(str(path), "--mean", "m", "--sd", "s", "--n", "n")
    assert data["k"] == 2 and data["dropped"] == [{"study": "B", "reason": "no sd (column 's')"}]


def test_proportions_gain_meta_regression_egger_and_trimfill() -> None:
    data = _json(str(DATA / "hannum2020.csv"), "--events", "events", "--total", "total",
                 "--moderator", "subgroup", "--egger", "--trimfill")  # fmt: skip
    g = _golden("regressions", dataset="hannum2020", method="REML", test="z")
    assert (
        [m["term"] for m in data["moderators"]] == g["terms"] == ["intrcpt", "subgroupSubjective"]
    )
    assert data["qm"] == pytest.approx(g["qm"], abs=TOL_IV)
    assert data["r2"] == pytest.approx(g["r2"], abs=TOL_IV)
    e = _golden("regtests", dataset="hannum2020", method="REML", test="z")
    assert data["egger"]["statistic"] == pytest.approx(e["statistic"], abs=TOL_IV)
    expit = 1 / (1 + math.exp(-e["limit_estimate"]))  # transf.ilogit: the proportion scale
    assert data["egger"]["limit_estimate"] == pytest.approx(expit, abs=TOL_IV)
    t = _golden("trimfills", dataset="hannum2020", method="REML", test="z")
    assert data["trimfill"]["k0"] == t["k0"]
    assert data["trimfill"]["estimate"] == pytest.approx(
        1 / (1 + math.exp(-t["estimate"])), abs=TOL_IV
    )
    # the proportions' own keys are untouched
    assert set(data["studies"][0]) == {"study", "events", "total", "proportion", "ci_lower",
                                       "ci_upper", "weight"}  # fmt: skip


def test_more_one_line_errors(tmp_path: Path) -> None:
    assert "--moderator, --egger and --trimfill need an inverse-variance model" in _error(
        tmp_path, "e,n\n3,10\n4,12\n5,9\n", "--events", "e", "--total", "n", "--method", "GLMM",
        "--egger",
    )  # fmt: skip
    assert "Egger's test needs at least 3 studies (got 2)" in _error(
        tmp_path, "e1,n1,e2,n2\n3,10,5,10\n4,12,6,11\n",
        "--events1", "e1", "--total1", "n1", "--events2", "e2", "--total2", "n2", "--egger",
    )  # fmt: skip
    assert "the Mantel–Haenszel risk ratio is not defined (no events in a group)" in _error(
        tmp_path, "e1,n1,e2,n2\n0,10,5,10\n0,12,6,11\n",
        "--events1", "e1", "--total1", "n1", "--events2", "e2", "--total2", "n2",
        "--method", "MH",
    )  # fmt: skip
    assert "use --subgroup or --moderator, not both" in _error(
        tmp_path, None, *BCG, "--subgroup", "alloc", "--moderator", "ablat"
    )
    assert "--transform applies to --measure GEN" in _error(
        tmp_path, None, *BCG, "--transform", "exp"
    )


def test_forest_plot_takes_extra_columns(tmp_path: Path) -> None:
    """Another column per study after the weight (what a risk-of-bias column will use)."""
    from reviewflow.pooling.effect_analysis import pool_effects
    from reviewflow.pooling.forest import Column, forest_plot
    from tests.pooling.golden_data import dataset

    roles = {"events1": "events1", "total1": "total1", "events2": "events2", "total2": "total2"}
    result = pool_effects(dataset("bcg"), roles, measure="OR")
    judged = {s.study: "low" if s.data["total1"] > 1000 else "high" for s in result.studies}
    column = Column("Bias", 0.6, lambda s: judged[s.study], align="left")
    path = forest_plot(result, tmp_path / "f.svg", extra_columns=[column])
    text = path.read_text(encoding="utf-8")
    assert "Bias" in text and text.count(">high<") + text.count(">low<") >= 13
