"""``reviewflow pool --outcome`` on two-group outcomes entered through the extraction layer:
two reviewers extract dat.bcg (13 trials, tuberculosis in vaccinated vs not) and
dat.normand1999 (9 trials, length of stay under specialist vs routine care) into the form
tests/data/extraction/two_groups.toml, one value differs and is adjudicated, the agreements
become consensus, and the pooled results match metafor's golden values (tests/pooling/golden).
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from reviewflow.extraction.consensus import accept_agreements, discrepancies, set_consensus
from reviewflow.extraction.forms import find_form
from reviewflow.extraction.studies import list_studies, sync_studies
from reviewflow.extraction.values import mark_finished, save_value
from reviewflow.store import open_store
from reviewflow.workspace import Workspace, find_workspace
from tests.conftest import run_cli
from tests.extraction.helpers import DATA as TEST_DATA
from tests.extraction.helpers import build_screened_review
from tests.pooling.golden_data import DATA, TOL_IV
from tests.pooling.golden_measures import measures_golden

BCG_PARTS = {"events1": "events1", "total1": "total1", "events2": "events2", "total2": "total2"}
STAY_PARTS = {p: p for p in ("mean1", "sd1", "n1", "mean2", "sd2", "n2")}


def _values(row: pd.Series, outcome: str, parts: dict[str, str]) -> dict[str, str]:
    return {f"outcome.{outcome}.{part}": str(row[column]) for part, column in parts.items()}


@pytest.fixture(scope="module")
def trials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The review after dual extraction and consensus (built once: 13 studies, 2 reviewers)."""
    root = tmp_path_factory.mktemp("two_groups") / "review"
    code, _out, err = run_cli("init", str(root), "--title", "BCG and stroke care trials")
    assert code == 0, err
    ws = find_workspace(root)
    for old in ws.forms_dir.glob("*.toml"):
        old.unlink()
    shutil.copy(TEST_DATA / "extraction" / "two_groups.toml", ws.forms_dir)
    form = find_form(ws.forms_dir)
    store = open_store(ws.database_url())
    build_screened_review(store, n=14, included=13)
    sync_studies(store, 2)
    studies = list_studies(store, 2)
    bcg = pd.read_csv(DATA / "bcg.csv")
    normand = pd.read_csv(DATA / "normand1999.csv")
    assert len(studies) == len(bcg) == 13
    for i, st in enumerate(studies):
        row = bcg.iloc[i]
        values = {**_values(row, "tb", BCG_PARTS), "ablat": str(row["ablat"]),
                  "alloc": row["alloc"]}  # fmt: skip
        if i < len(normand):
            values |= _values(normand.iloc[i], "stay", STAY_PARTS)
        for who in ("reviewer1", "reviewer2"):
            typed = dict(values)
            if who == "reviewer2" and i == 0:
                typed["outcome.tb.events1"] = "5"  # a slip: Aronson had 4 cases vaccinated
            for key, text in typed.items():
                save_value(store, who, form, st.id, key, text)
            assert mark_finished(store, who, form, st.id)
    accept_agreements(store, form, "adjudicator")
    (slip,) = discrepancies(store, form)
    assert (slip.key, slip.study_id) == ("outcome.tb.events1", studies[0].id)
    set_consensus(store, form, "adjudicator", studies[0].id, "outcome.tb.events1", "4")
    store.dispose()
    yield ws


def _pool(ws: Workspace, *args: str) -> dict[str, Any]:
    code, out, err = run_cli("pool", *args, "--json", cwd=ws.root)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _golden(section: str, **match: Any) -> dict[str, Any]:
    (case,) = [
        c for c in measures_golden()[section] if all(c.get(k) == v for k, v in match.items())
    ]
    return case


def _assert_fit(data: dict[str, Any], g: dict[str, Any], ratio: bool) -> None:
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        want = g[f"{key}_reported"] if ratio else g[key]
        assert data[key] == pytest.approx(want, abs=TOL_IV), key
    for key in ("tau2", "i2", "q", "se", "pval"):
        assert data[key] == pytest.approx(g[key], abs=TOL_IV), key


def test_two_group_binary_outcome_pools_as_a_risk_ratio(trials: Workspace) -> None:
    data = _pool(trials, "--outcome", "tb")
    assert (data["measure"], data["method"], data["k"]) == ("RR", "REML", 13)
    _assert_fit(data, _golden("fits", dataset="bcg", measure="RR", method="REML", test="z"), True)
    counts = sorted((s["events1"], s["total1"], s["events2"], s["total2"]) for s in data["studies"])
    bcg = pd.read_csv(DATA / "bcg.csv")
    assert counts == sorted(map(tuple, bcg[list(BCG_PARTS)].to_numpy().tolist()))


@pytest.mark.parametrize(("measure", "test"), [("OR", "z"), ("RD", "knha")])
def test_other_binary_measures_within_the_family(
    trials: Workspace, measure: str, test: str
) -> None:
    args = ["--outcome", "tb", "--measure", measure] + (["--knha"] if test == "knha" else [])
    data = _pool(trials, *args)
    g = _golden("fits", dataset="bcg", measure=measure, method="REML", test=test)
    _assert_fit(data, g, measure == "OR")


def test_mantel_haenszel_on_the_outcome(trials: Workspace) -> None:
    data = _pool(trials, "--outcome", "tb", "--method", "MH")
    g = _golden("mh", dataset="bcg", measure="RR")
    assert (data["measure"], data["method"]) == ("RR", "MH")
    assert data["estimate"] == pytest.approx(math.exp(g["estimate"]), abs=TOL_IV)
    for key in ("q", "i2", "se"):
        assert data[key] == pytest.approx(g[key], abs=TOL_IV), key


def test_moderator_from_a_study_field(trials: Workspace) -> None:
    data = _pool(trials, "--outcome", "tb", "--moderator", "ablat")
    g = _golden("regressions", dataset="bcg", moderators="ablat", method="REML", test="z")
    assert [m["term"] for m in data["moderators"]] == g["terms"] == ["intrcpt", "ablat"]
    for i, m in enumerate(data["moderators"]):
        for key in ("estimate", "se", "pval", "ci_lower", "ci_upper"):
            assert m[key] == pytest.approx(g[key][i], abs=TOL_IV), (m["term"], key)
    for key in ("qm", "qm_pval", "r2"):
        assert data[key] == pytest.approx(g[key], abs=TOL_IV), key


def test_two_group_continuous_outcome_pools_as_a_mean_difference(trials: Workspace) -> None:
    code, out, err = run_cli("pool", "--outcome", "stay", "--json", cwd=trials.root)
    assert code == 0, err
    assert "4 studies without mean1/sd1/n1/mean2/sd2/n2 for stay" in err
    data = json.loads(out)
    assert (data["measure"], data["k"]) == ("MD", 9)
    _assert_fit(data, _golden("fits", dataset="normand1999", measure="MD", method="REML",
                              test="z"), False)  # fmt: skip
    smd = _pool(trials, "--outcome", "stay", "--measure", "SMD", "--method", "DL")
    _assert_fit(smd, _golden("fits", dataset="normand1999", measure="SMD", method="DL",
                             test="z"), False)  # fmt: skip


def test_measures_outside_the_outcomes_family_are_refused(trials: Workspace) -> None:
    code, _out, err = run_cli("pool", "--outcome", "tb", "--measure", "MD", cwd=trials.root)
    assert code == 1 and "--measure MD needs --mean1" in err
    assert "choose RR, OR, RD, PETO" in err and "\n" not in err.strip()
    code, _out, err = run_cli("pool", "--outcome", "stay", "--method", "MH", cwd=trials.root)
    assert code == 1
    assert err.splitlines()[-1] == (
        "reviewflow: error: --method MH (Mantel–Haenszel) pools OR, RR or RD, not MD"
    )
    code, _out, err = run_cli("pool", "--outcome", "tb", "--events1", "x", cwd=trials.root)
    assert code == 1 and "do not name columns" in err
    code, _out, err = run_cli("pool", "--outcome", "tb", "--moderator", "lat", cwd=trials.root)
    assert code == 1 and err.strip() == (
        "reviewflow: error: two_groups.toml: no study field 'lat' to use as a moderator "
        "(ablat, alloc)"
    )


def test_a_second_form_needs_form_name(trials: Workspace) -> None:
    other = trials.forms_dir / "other.toml"
    other.write_text('[[outcomes]]\nkey = "tb"\nmeasure = "PFT"\n', encoding="utf-8")
    try:
        code, _out, err = run_cli("pool", "--outcome", "tb", cwd=trials.root)
        assert code == 1 and "several forms (other, two_groups); choose one with --form" in err
        data = _pool(trials, "--outcome", "tb", "--form", "two_groups")
        assert data["measure"] == "RR"
        code, _out, err = run_cli("pool", str(DATA / "bcg.csv"), "--form", "x", cwd=trials.root)
        assert code == 1 and "--form goes with --outcome" in err
    finally:
        other.unlink()


def test_the_forms_measure_is_the_outcomes_default(trials: Workspace) -> None:
    text = (trials.forms_dir / "two_groups.toml").read_text(encoding="utf-8")
    text = text.replace('groups = ["Vaccinated", "Not vaccinated"]\n',
                        'groups = ["Vaccinated", "Not vaccinated"]\nmeasure = "OR"\n')  # fmt: skip
    odds = trials.forms_dir / "odds.toml"
    odds.write_text(text, encoding="utf-8")
    try:
        data = _pool(trials, "--outcome", "tb", "--form", "odds")
        _assert_fit(data, _golden("fits", dataset="bcg", measure="OR", method="REML", test="z"),
                    True)  # fmt: skip
        assert _pool(trials, "--outcome", "tb", "--form", "odds", "--measure", "RD")["measure"] == (
            "RD"
        )
    finally:
        odds.unlink()


def test_the_report_pools_every_outcome_type(trials: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, _out, err = run_cli("report", "--out", str(out), cwd=trials.root)
    assert code == 0, err
    rows = {r["outcome"]: r for r in csv.DictReader((out / "pooled_results.csv").open())}
    assert set(rows) == {"tb", "stay"}
    rr = _golden("fits", dataset="bcg", measure="RR", method="REML", test="z")
    md = _golden("fits", dataset="normand1999", measure="MD", method="REML", test="z")
    for row, g, ratio in ((rows["tb"], rr, True), (rows["stay"], md, False)):
        for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
            want = g[f"{key}_reported"] if ratio else g[key]
            assert float(row[key]) == pytest.approx(want, abs=TOL_IV), key
    bcg, normand = pd.read_csv(DATA / "bcg.csv"), pd.read_csv(DATA / "normand1999.csv")
    assert (rows["tb"]["measure"], rows["tb"]["k"]) == ("RR", "13")
    assert int(rows["tb"]["patients"]) == bcg["total1"].sum() + bcg["total2"].sum()
    assert int(rows["tb"]["events"]) == bcg["events1"].sum() + bcg["events2"].sum()
    assert int(rows["stay"]["patients"]) == normand["n1"].sum() + normand["n2"].sum()
    assert (rows["stay"]["measure"], rows["stay"]["events"]) == ("MD", "")
    table = (out / "pooled_results.md").read_text(encoding="utf-8")
    # metafor (golden): RR 0.48942 (0.34407 to 0.69617), PI 0.15463 to 1.54903, I² 92.2%;
    # MD −15.106 (−32.641 to 2.429), PI −69.305 to 39.093, I² 99.0% (written with the CI's
    # two significant digits)
    assert (
        "| Tuberculosis | Risk ratio | 13 | 357,347 | 2,575 | 0.49 (95% CI 0.34 to 0.70) "
        "| 0.15 to 1.55 | 92% |" in table
    )
    assert (
        "| Length of stay | Mean difference | 9 | 1,158 |  | −15 (95% CI −33 to 2) "
        "| −69 to 39 | 99% |" in table
    )
    for name, groups in (("tb", ("Vaccinated", "Not vaccinated")),
                         ("stay", ("Specialist care", "Routine care"))):  # fmt: skip
        texts = {t.text for t in ET.parse(out / f"forest_{name}.svg").iter() if t.text}
        assert set(groups) <= {t.strip() for t in texts}, name
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Tuberculosis: risk ratio on the log scale" in index


def test_a_sheet_with_two_group_columns_imports_and_pools(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    """A review that started elsewhere: dat.bcg as an extraction sheet (the export's column
    names). A row with events above total is refused naming row and column, nothing stored."""
    ws = sqlite_workspace
    for old in ws.forms_dir.glob("*.toml"):
        old.unlink()
    shutil.copy(TEST_DATA / "extraction" / "two_groups.toml", ws.forms_dir)
    bcg = pd.read_csv(DATA / "bcg.csv")
    bcg["study"] = bcg["study"] + " " + bcg["year"].astype(str)  # two trials each by two teams
    sheet = bcg.rename(columns={c: f"outcome.tb.{c}" for c in BCG_PARTS})
    sheet = sheet[["study", *(f"outcome.tb.{c}" for c in BCG_PARTS), "ablat", "alloc"]]
    bad = sheet.copy()
    bad.loc[2, "outcome.tb.events2"] = 999  # Rosenthal et al: 11 of 220 not vaccinated
    bad.to_csv(tmp_path / "bad.csv", index=False)
    code, _out, err = run_cli("extraction", "import", str(tmp_path / "bad.csv"),
                              "--create-studies", cwd=ws.root)  # fmt: skip
    assert code == 1
    assert "row 3" in err and "column 'outcome.tb.events2'" in err and "\n" not in err.strip()
    assert "Tuberculosis, Not vaccinated: events (999) exceed total (220)" in err
    code, _out, err = run_cli("pool", "--outcome", "tb", cwd=ws.root)
    assert code == 1 and "no study has all of events1/total1/events2/total2 yet" in err
    sheet.to_csv(tmp_path / "bcg.csv", index=False)
    code, _out, err = run_cli("extraction", "import", str(tmp_path / "bcg.csv"),
                              "--create-studies", cwd=ws.root)  # fmt: skip
    assert code == 0, err
    data = _pool(ws, "--outcome", "tb", "--moderator", "ablat", "--moderator", "alloc", "--knha")
    g = _golden("regressions", dataset="bcg", moderators=["ablat", "alloc"], method="REML",
                test="knha")  # fmt: skip
    assert [m["term"] for m in data["moderators"]] == g["terms"]
    for i, m in enumerate(data["moderators"]):
        assert m["estimate"] == pytest.approx(g["estimate"][i], abs=TOL_IV), m["term"]
    assert data["qm"] == pytest.approx(g["qm"], abs=TOL_IV)
    assert data["studies"][0]["study"] == "Aronson 1948"
