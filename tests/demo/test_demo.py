"""The README's main command: the demo builds a whole review offline, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

GOLDEN = Path(__file__).parents[1] / "pooling" / "golden" / "metafor_measures.json"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("demo") / "review"
    code, out, err = run_cli("demo", str(root))
    assert code == 0, err
    return root, out


def test_every_stage_ran_on_the_shipped_data(demo: tuple[Path, str]) -> None:
    root, out = demo
    data = json.loads(run_cli("status", "--json", cwd=root)[1])
    ident = data["identification"]
    # 35 real records replayed through the Entrez client, 393 Cohen (2006) records, and the
    # simulated export of 15% of them (59 records), which dedup must find again
    assert ident["by_source"] == {
        "PubMed": 35,
        "PubMed export (Cohen et al. 2006)": 393,
        "Embase (simulated)": 59,
    }
    assert 55 <= ident["duplicates_removed"] <= 59
    assert ident["duplicate_pairs_to_check"] == 0
    ta, ft = data["title_abstract"], data["full_text"]
    assert ta["records"] == ident["records"] - ident["duplicates_removed"]
    assert ta["pending"] == ta["conflicts"] == 0 and ta["resolved"] > 0
    assert ft["not_retrieved"] == 2 and ft["pending"] == ft["conflicts"] == 0
    assert data["included"]["reports"] == ft["included"] > 0
    assert "SIMULATED" in out  # the demo says plainly what is simulated


def test_the_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run_cli("demo", str(tmp_path))
    assert code == 1 and "is not empty" in err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_demo_leaves_a_screening_queue_for_the_user(demo: tuple[Path, str]) -> None:
    """'reviewflow screen --reviewer you' opens on every record, none decided yet."""
    from reviewflow.screening.queue import ScreeningQueue
    from reviewflow.store import open_store
    from reviewflow.workspace import find_workspace

    ws = find_workspace(demo[0])
    store = open_store(ws.database_url())
    try:
        mine = ScreeningQueue(store, "you", "title-abstract").progress()
        theirs = ScreeningQueue(store, "reviewer1", "title-abstract").progress()
    finally:
        store.dispose()
    assert (mine.decided, mine.total) == (0, theirs.total)
    assert theirs.decided == theirs.total > 400


def test_the_demo_writes_the_report_and_says_what_is_simulated(demo: tuple[Path, str]) -> None:
    import re

    report = demo[0] / "report"
    page = (report / "index.html").read_text(encoding="utf-8")
    for name in ("prisma.svg", "search_log.csv", "included_studies.ris"):
        assert (report / name).stat().st_size > 0
    for link in re.findall(r'(?:href|src)="([^"#:]+)"', page):
        assert (report / link).exists(), link
    assert "SIMULATED" in page
    # the review pools nothing: the published COVID-19 dataset is not passed off as its studies
    assert not (report / "pooled_results.md").exists() and not (report / "extraction.csv").exists()


def test_every_prisma_check_passes_and_status_agrees_with_the_report(
    demo: tuple[Path, str],
) -> None:
    root = demo[0]
    code, out, err = run_cli("prisma", "--json", cwd=root)
    assert code == 0, err
    checks = json.loads(out)["checks"]
    assert checks and [c["detail"] for c in checks if not c["ok"]] == []
    status = json.loads(run_cli("status", "--json", cwd=root)[1])["included"]
    boxes = json.loads((root / "report" / "prisma_counts.json").read_text())["boxes"]
    assert status["studies"] == boxes["new_studies"]["n"] == 41
    assert status["reports"] == boxes["new_reports"]["n"] == 41
    assert status["reports_without_study"] == 0
    assert status["studies_with_consensus_risk_of_bias"] == 41
    included = (root / "report" / "included_studies.csv").read_text(encoding="utf-8")
    assert len(included.splitlines()) == 1 + 41


def test_the_pooling_example_is_the_published_dataset_on_its_own(demo: tuple[Path, str]) -> None:
    folder = demo[0] / "pooling-example"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "NOT the demo review" in readme
    # the published dataset pooled as metafor does (tests/pooling/golden: dat.hannum2020, PLO, REML)
    pooled = (folder / "pooled_results.md").read_text(encoding="utf-8")
    assert "48% (95% CI 38% to 58%)" in pooled and "| 35 " in pooled
    assert (folder / "forest_olfactory_loss.svg").stat().st_size > 0
    # the GRADE table's numbers; no ratings, since nobody rated this published dataset
    sof = (folder / "summary_of_findings.csv").read_text(encoding="utf-8").splitlines()
    assert len(sof) == 2 and "not rated" in sof[1] and "I² = 99%" in sof[1]
    golden = json.loads(GOLDEN.read_text())["regtests"]
    p = next(r["pval"] for r in golden if (r["dataset"], r["method"], r["test"])
             == ("hannum2020", "REML", "z"))  # fmt: skip
    assert f"Egger p = {p:.3f}" in sof[1]  # metafor's regtest


def test_the_included_studies_are_assessed_for_risk_of_bias(demo: tuple[Path, str]) -> None:
    """Every study linked to an included report has a consensus RoB 2 assessment (SIMULATED
    answers, said plainly), shown as plots and a table in the report."""
    import csv

    root, out = demo
    report = root / "report"
    with (report / "risk_of_bias.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with (report / "included_studies.csv").open(encoding="utf-8") as fh:
        studies = {r["study"] for r in csv.DictReader(fh)}
    assert {r["Study"] for r in rows} == studies and len(rows) == 41
    assert {r["Overall"] for r in rows} <= {"low", "some concerns", "high"}
    for name in ("rob_traffic_light_rob2.svg", "rob_summary_rob2.svg"):
        assert (report / name).stat().st_size > 0
    page = (report / "index.html").read_text(encoding="utf-8")
    assert "Risk of bias in included studies" in page and "risk-of-bias assessments" in page
    assert "risk of bias: RoB 2 for 41 studies by two reviewers (SIMULATED answers)" in out


def test_the_demo_shows_risk_of_bias_plots_and_a_summary_of_findings(
    demo: tuple[Path, str],
) -> None:
    """The issue's "done when": the review's report has the risk-of-bias plots; the summary of
    findings is on the pooling example's page (the review pools nothing), its ratings "not
    rated", never made up; both are named in the demo's output and the report."""
    import re

    import pandas as pd

    root, out = demo
    report = root / "report"
    page = (report / "index.html").read_text(encoding="utf-8")
    assert 'src="rob_traffic_light_rob2.svg"' in page and 'src="rob_summary_rob2.svg"' in page
    assert "No outcome was pooled, so there is no summary of findings." in page
    assert "pooling-example/index.html" in page and "pooling-example/index.html" in out
    example = root / "pooling-example"
    shown = (example / "index.html").read_text(encoding="utf-8")
    assert "NOT the demo review" in shown and "GRADE summary of findings" in shown
    for link in re.findall(r'(?:href|src)="([^"#:]+)"', shown):
        assert (example / link).exists(), link
    (row,) = pd.read_csv(example / "summary_of_findings.csv").to_dict("records")
    assert (row["k"], row["participants"]) == (35, 16349)  # the published counts
    assert "16,349" in shown and "48% (95% CI 38% to 58%)" in shown
    for domain in ("risk_of_bias", "inconsistency", "indirectness", "imprecision",
                   "publication_bias", "certainty"):  # fmt: skip
        assert row[domain].startswith("not rated"), domain
    assert shown.count("not rated (") == 4 and "0 of 35 studies assessed" in shown
