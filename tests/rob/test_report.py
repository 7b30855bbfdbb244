"""Risk of bias and certainty in the report and in pooling, on metadat's dat.pritz1997 (14 case
series of hyperdynamic therapy, tests/data/extraction/SOURCES.md) assessed with the JBI
case-series checklist by two reviewers. The assessments are made up for the test; the counts
and the pooled numbers are the published data's, checked against metafor (regtest)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from reviewflow.extraction.forms import load_form
from reviewflow.extraction.sheet_import import import_sheet
from reviewflow.report.folder import build_report
from reviewflow.rob import assess
from reviewflow.rob.grade import set_ratings
from reviewflow.rob.report import exclude_risk
from reviewflow.rob.tools import HIGH, LOW, SOME
from tests.conftest import run_cli
from tests.extraction.conftest import Review
from tests.extraction.helpers import PRITZ, VASOSPASM_FORM, pritz_counts

GOLDEN = Path(__file__).parents[1] / "pooling" / "golden" / "metafor_measures.json"
TOOL = "jbi-case-series"
CERTAINTY = {"design": "observational", "risk_of_bias": "serious",
             "inconsistency": "not serious", "indirectness": "not serious",
             "imprecision": "not serious", "publication_bias": "strongly suspected"}  # fmt: skip
WHY = {"risk_of_bias": "case series", "publication_bias": "Egger's test"}


@pytest.fixture
def assessed(review: Review) -> tuple[Review, dict[str, str]]:
    """The 14 studies imported as consensus extraction, assessed by both reviewers; the first
    three did not include patients consecutively (high risk); one overall judgement differs
    and the adjudicator settles it."""
    for old in review.workspace.forms_dir.glob("*.toml"):
        old.unlink()  # the review's one form: the vasospasm outcome
    shutil.copy(VASOSPASM_FORM, review.workspace.forms_dir / "vasospasm.toml")
    form = load_form(review.workspace.forms_dir / "vasospasm.toml")
    import_sheet(review.store, form, PRITZ, "adjudicator", create_studies=True)
    ids = {s.label: s.id for s in assess_studies(review)}
    names = [name for name, _, _ in pritz_counts()]
    expected = {}
    for i, name in enumerate(names):
        overall = HIGH if i < 3 else LOW
        expected[name] = overall
        for who in ("reviewer1", "reviewer2"):
            for q in range(1, 11):
                answer = "no" if (q == 4 and i < 3) else "yes"
                assess.set_answer(review.store, who, ids[name], TOOL, str(q), answer)
            mine = SOME if (who == "reviewer2" and i == 5) else overall
            assess.set_answer(review.store, who, ids[name], TOOL, "overall", mine)
    assess.agree(review.store, "adjudicator", TOOL)
    (left,) = assess.discrepancies(review.store, TOOL)
    assert (left.study, left.item, left.values) == (names[5], "overall",
                                                     {"reviewer1": LOW, "reviewer2": SOME})  # fmt: skip
    assess.set_consensus(review.store, "adjudicator", left.study_id, TOOL, "overall", LOW)
    set_ratings(review.store, "adjudicator", "improvement", CERTAINTY, WHY)
    return review, expected


def assess_studies(review: Review) -> list:  # type: ignore[type-arg]
    from reviewflow.extraction.studies import studies_with_consensus

    return studies_with_consensus(review.store)


def test_the_report_has_risk_of_bias_plots_a_table_and_the_summary_of_findings(
    assessed: tuple[Review, dict[str, str]], tmp_path: Path
) -> None:
    review, expected = assessed
    out = tmp_path / "report"
    build_report(review.store, review.workspace, out, form_name="vasospasm")
    page = (out / "index.html").read_text(encoding="utf-8")
    light = (out / "rob_traffic_light_jbi-case-series.svg").read_text(encoding="utf-8")
    assert all(name in light for name in expected)
    assert (out / "rob_summary_jbi-case-series.png").stat().st_size > 0
    table = pd.read_csv(out / "risk_of_bias.csv")
    assert dict(zip(table["Study"], table["Overall"], strict=True)) == expected
    assert "Risk of bias in included studies" in page and "GRADE summary of findings" in page
    # the forest plot has a risk-of-bias column with each study's consensus judgement
    forest = (out / "forest_improvement.svg").read_text(encoding="utf-8")
    assert "Risk of bias" in forest and forest.count(">high<") == 3
    sof = pd.read_csv(out / "summary_of_findings.csv")
    (row,) = sof.to_dict("records")
    golden = next(r for r in json.loads(GOLDEN.read_text())["regtests"]
                  if (r["dataset"], r["method"], r["test"]) == ("pritz1997", "REML", "z"))  # fmt: skip
    assert (row["k"], row["participants"]) == (14, sum(n for _, _, n in pritz_counts()))
    assert f"Egger p = {golden['pval']:.3f}" in row["publication_bias"]  # metafor's regtest
    assert row["risk_of_bias"].startswith("serious (") and "% of weight" in row["risk_of_bias"]
    assert row["inconsistency"].startswith("not serious (I² = ")
    # observational: low (2), minus risk of bias and publication bias: very low
    assert row["certainty"] == "very low"
    assert row["notes"] == "risk of bias: case series; publication bias: Egger's test"
    for suffix in ("md", "html"):
        assert "very low" in (out / f"summary_of_findings.{suffix}").read_text(encoding="utf-8")


def test_pool_can_leave_out_the_studies_at_high_risk(
    assessed: tuple[Review, dict[str, str]],
) -> None:
    review, expected = assessed
    high = sorted(name for name, j in expected.items() if j == HIGH)
    frame = pd.DataFrame({"study": list(expected), "events": 1, "total": 2})
    kept, left_out = exclude_risk(frame, review.store, "high")
    assert sorted(left_out) == high and len(kept) == 11
    root = review.workspace.root
    code, out, err = run_cli("pool", "--outcome", "improvement", "--json", cwd=root)
    assert code == 0, err
    code, out_ex, err = run_cli(
        "pool", "--outcome", "improvement", "--exclude-risk", "high", "--json", cwd=root
    )
    assert code == 0, err
    assert json.loads(out)["k"] == 14 and json.loads(out_ex)["k"] == 11
    assert "left out at high risk of bias or worse (3)" in err
    forest = root / "forest.svg"
    code, _, err = run_cli("pool", "--outcome", "improvement", "--forest", str(forest), cwd=root)
    assert code == 0, err
    svg = forest.read_text(encoding="utf-8")
    assert "Risk of bias" in svg and svg.count(">high<") == 3
    code, _, err = run_cli("pool", str(PRITZ), "--exclude-risk", "high", cwd=root)
    assert code == 1 and "needs --outcome" in err
