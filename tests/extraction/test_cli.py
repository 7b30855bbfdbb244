"""The extraction commands end to end: import a sheet, export it, pool it, link reports,
compare reviewers; errors are one line and exit 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from reviewflow.extraction.values import save_value
from reviewflow.store import open_store
from reviewflow.workspace import Workspace
from tests.conftest import run_cli
from tests.extraction.conftest import Review
from tests.extraction.helpers import PRITZ, VASOSPASM_FORM, pritz_counts

GOLDEN = Path(__file__).parents[1] / "pooling" / "golden" / "metafor.json"


@pytest.fixture
def vasospasm_review(workspace: Workspace) -> Workspace:
    """A workspace whose only form is the Pritz 1997 form, with the Pritz sheet imported."""
    (workspace.forms_dir / "rescue_stenting.toml").unlink()
    shutil.copy(VASOSPASM_FORM, workspace.forms_dir)
    code, out, err = run_cli(
        "extraction", "import", str(PRITZ), "--create-studies", cwd=workspace.root
    )
    assert code == 0, err
    assert out.strip() == f"{PRITZ}: 28 values for 14 studies imported; 14 studies created"
    return workspace


def metafor_pritz_reml() -> dict[str, float]:
    fits = json.loads(GOLDEN.read_text(encoding="utf-8"))["fits"]
    (fit,) = [
        f for f in fits
        if f.get("dataset") == "pritz1997" and (f["measure"], f["method"], f["test"]) == ("PLO", "REML", "z")
    ]  # fmt: skip
    return fit


def test_pool_outcome_reads_the_consensus_extraction(vasospasm_review: Workspace) -> None:
    code, out, err = run_cli(
        "pool", "--outcome", "improvement", "--json", cwd=vasospasm_review.root
    )
    assert code == 0, err
    result = json.loads(out)
    golden = metafor_pritz_reml()  # R metafor, rma(method="REML") on escalc("PLO")
    assert result["k"] == 14
    assert result["estimate"] == pytest.approx(golden["estimate_prop"], abs=1e-6)
    assert result["ci_lower"] == pytest.approx(golden["ci_lower_prop"], abs=1e-6)
    assert result["tau2"] == pytest.approx(golden["tau2"], abs=1e-6)
    # the same numbers as pooling the sheet itself
    code, direct, err = run_cli(
        "pool", str(PRITZ), "--events", "outcome.improvement.events",
        "--total", "outcome.improvement.total", "--json", cwd=vasospasm_review.root,
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(direct)["estimate"] == result["estimate"]


def test_pool_outcome_errors(vasospasm_review: Workspace) -> None:
    code, _, err = run_cli("pool", "--outcome", "death", cwd=vasospasm_review.root)
    assert code == 1 and err.strip().endswith(
        "vasospasm.toml: no outcome 'death' (outcomes: improvement)"
    )
    code, _, err = run_cli(
        "pool", str(PRITZ), "--outcome", "improvement", cwd=vasospasm_review.root
    )
    assert code == 1 and "give either FILE or --outcome, not both" in err


def test_export_extraction_csv_xlsx_and_long(vasospasm_review: Workspace, tmp_path: Path) -> None:
    root = vasospasm_review.root
    expected = {name: (x, n) for name, x, n in pritz_counts()}
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"pritz.{fmt}"
        code, stdout, err = run_cli(
            "export", "extraction", "--format", fmt, "--out", str(out), cwd=root
        )
        assert code == 0, err
        assert stdout.strip() == f"{out}: 14 studies ({fmt})"
        back = pd.read_csv(out) if fmt == "csv" else pd.read_excel(out)
        got = {
            r.study: (r["outcome.improvement.events"], r["outcome.improvement.total"])
            for _, r in back.iterrows()
        }
        assert got == expected
    out = tmp_path / "long.csv"
    code, stdout, err = run_cli("export", "extraction", "--long", "--out", str(out), cwd=root)
    assert code == 0, err
    long = pd.read_csv(out)
    assert len(long) == 28 and list(long.columns) == [
        "study",
        "field",
        "value",
        "source",
        "decided_by",
    ]


def test_bad_sheet_is_one_line_and_changes_nothing(
    vasospasm_review: Workspace, tmp_path: Path
) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        PRITZ.read_text(encoding="utf-8").replace("Tanabe et al.,10,10", "Tanabe et al.,11,10")
    )
    before = tmp_path / "before.csv"
    run_cli("export", "extraction", "--long", "--out", str(before), cwd=vasospasm_review.root)
    code, out, err = run_cli("extraction", "import", str(sheet), cwd=vasospasm_review.root)
    assert code == 1 and out == ""
    assert err == (
        f"reviewflow: error: {sheet}: row 5 (line 6), column 'outcome.improvement.events': "
        "Clinical improvement: events (11) exceed total (10)\n"
    )
    after = tmp_path / "after.csv"
    run_cli("export", "extraction", "--long", "--out", str(after), cwd=vasospasm_review.root)
    assert before.read_text() == after.read_text()


def test_bad_form_is_one_line(workspace: Workspace, tmp_path: Path) -> None:
    form = workspace.forms_dir / "rescue_stenting.toml"
    form.write_text(form.read_text().replace('type = "yesno"', 'type = "boolean"', 1))
    code, _, err = run_cli(
        "export", "extraction", "--out", str(tmp_path / "x.csv"), cwd=workspace.root
    )
    assert code == 1
    assert err.strip() == (
        f"reviewflow: error: {form}: field 'angioplasty': unknown type 'boolean' "
        "(types: text, integer, number, choice, yesno, date)"
    )


def test_studies_and_discrepancies_commands(review: Review) -> None:
    root = review.workspace.root
    code, out, err = run_cli("studies", "list", "--json", cwd=root)
    assert code == 0, err
    listed = json.loads(out)
    assert [s["label"] for s in listed] == [s.label for s in review.studies]
    a, b = review.studies[0], review.studies[1]
    code, out, err = run_cli("studies", "merge", a.label, b.label, "--by", "adjudicator", cwd=root)
    assert code == 0, err
    assert out.strip().startswith(f"{a.label}: 2 reports")
    code, out, err = run_cli(
        "studies", "split", str(b.reports[0].record_id), "--label", "Kellstein 1999 (2)", cwd=root
    )
    assert code == 0, err
    code, _, err = run_cli("studies", "merge", a.label, "Nobody 1900", cwd=root)
    assert code == 1 and "no study 'Nobody 1900'" in err

    save_value(review.store, "reviewer1", review.form, a.id, "patients", "68")
    save_value(review.store, "reviewer2", review.form, a.id, "patients", "58")
    save_value(review.store, "reviewer1", review.form, a.id, "country", "Japan")
    save_value(review.store, "reviewer2", review.form, a.id, "country", "Japan")
    n = len(review.studies) - 1  # a and b are one study now, then b's report became its own again
    code, out, err = run_cli("extraction", "discrepancies", cwd=root)
    assert code == 0, err  # nobody has finished: no values shown, only who is awaited (how many)
    assert (
        out.splitlines()[-1]
        == f"0 discrepancies (0 without a consensus value); {n + 1} of {n + 1} studies waiting for reviewers to finish"
    )
    assert f"{a.label}  waiting for 2 reviewers" in out and "68" not in out
    code, _, err = run_cli("extraction", "finish", a.label, "--reviewer", "reviewer1", cwd=root)
    assert code == 1
    assert (
        err.strip()
        == f"reviewflow: error: {a.label}: not finished, 1 field to fix: Study design: required"
    )
    for who in ("reviewer1", "reviewer2"):
        save_value(review.store, who, review.form, a.id, "design", "Prospective")
        code, out, err = run_cli("extraction", "finish", f"#{a.id}", "--reviewer", who, cwd=root)
        assert code == 0, err
        assert out.strip() == f"{a.label}: finished by {who}"
    code, out, _ = run_cli("extraction", "finish", a.label, "--reviewer", "reviewer2", cwd=root)
    assert out.strip() == f"{a.label}: reviewer2 had already finished it"
    code, out, err = run_cli("extraction", "discrepancies", "--json", cwd=root)
    assert code == 0, err
    found = json.loads(out)
    assert found["discrepancies"] == [
        {
            "study": a.label,
            "field": "patients",
            "values": {"reviewer1": "68", "reviewer2": "58"},
            "consensus": None,
        }
    ]
    assert len(found["waiting"]) == n and {w["waiting_for"] for w in found["waiting"]} == {2}
    code, out, err = run_cli("extraction", "reopen", a.label, "--reviewer", "reviewer2", cwd=root)
    assert code == 0 and out.strip() == f"{a.label}: reopened for reviewer2", err
    code, out, _ = run_cli("extraction", "discrepancies", "--json", cwd=root)
    assert json.loads(out)["discrepancies"] == []
    assert {"study": a.label, "waiting_for": 1} in json.loads(out)["waiting"]
    code, out, _ = run_cli(
        "extraction", "finish", a.label, "--reopen", "--reviewer", "reviewer2", cwd=root
    )
    assert out.strip() == f"{a.label}: reviewer2 had not finished it; nothing to reopen"
    code, out, err = run_cli("extraction", "finish", a.label, "--reviewer", "reviewer2", cwd=root)
    assert code == 0, err
    code, out, _ = run_cli("extraction", "agree", cwd=root)
    assert out.strip() == "2 fields where the reviewers agree became consensus values"
    code, out, _ = run_cli("extraction", "check", cwd=root)
    assert code == 1
    assert f"{a.label}: Patients: required" in out  # 68 or 58: not settled yet
    assert f"{a.label}: Study design: required" not in out  # both gave "Prospective"


def test_studies_list_reads_only(workspace: Workspace) -> None:
    from sqlmodel import func, select

    from reviewflow.store.models import AuditEntry, Study
    from tests.extraction.helpers import build_screened_review

    store = open_store(workspace.database_url())
    build_screened_review(store)  # 5 reports included at full text, none in a study yet

    def counts() -> tuple[int, int]:
        with store.read() as s:
            return (s.scalar(select(func.count()).select_from(Study)) or 0,
                    s.scalar(select(func.count()).select_from(AuditEntry)) or 0)  # fmt: skip

    before = counts()
    code, out, err = run_cli("studies", "list", cwd=workspace.root)
    assert code == 0, err
    assert "Not in a study yet (5 reports;" in out and out.strip().endswith("0 studies")
    assert counts() == before and before[0] == 0
    store.dispose()


def test_extract_refuses_unknown_reviewer_and_consensus_without_role(review: Review) -> None:
    root = review.workspace.root
    code, _, err = run_cli("extract", "--reviewer", "reviewer9", cwd=root)
    assert code == 1 and "no reviewer named 'reviewer9'" in err
    code, _, err = run_cli("extract", "--reviewer", "reviewer1", "--consensus", cwd=root)
    assert code == 1 and "'reviewer1' is not an adjudicator" in err
    code, _, err = run_cli("extract", "--reviewer", "reviewer1", "--with", "reviewer2", cwd=root)
    assert code == 1 and "--with is only for --consensus" in err


def test_import_is_visible_to_a_second_connection(vasospasm_review: Workspace) -> None:
    store = open_store(vasospasm_review.database_url())
    try:
        from reviewflow.extraction.consensus import consensus_values

        assert sum(len(v) for v in consensus_values(store).values()) == 28
    finally:
        store.dispose()


def test_finish_errors_and_help(review: Review) -> None:
    root = review.workspace.root
    code, _, err = run_cli("extraction", "finish", "Nobody 1900", "--reviewer", "reviewer1",
                           cwd=root)  # fmt: skip
    assert code == 1 and "no study 'Nobody 1900'" in err
    label = review.studies[0].label
    code, _, err = run_cli("extraction", "finish", label, "--reviewer", "reviewer9", cwd=root)
    assert code == 1 and "no reviewer named 'reviewer9'" in err
    code, out, err = run_cli("extraction", "reopen", label, "--reviewer", "adjudicator", cwd=root)
    assert code == 0 and "adjudicator had not finished it" in out, err  # the lead extracts too
    for command in ("finish", "reopen"):
        code, out, _ = run_cli("extraction", command, "--help", cwd=root)
        assert code == 0 and "--reviewer NAME" in out and "STUDY" in out
    code, out, _ = run_cli("extraction", "--help", cwd=root)
    assert "finish" in out and "reopen" in out
