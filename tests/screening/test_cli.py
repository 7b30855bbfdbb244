"""``reviewflow agreement``, ``export decisions``, and the screening commands' errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from reviewflow.screening import decisions as d
from reviewflow.screening import flow
from reviewflow.store import Store
from reviewflow.workspace import Workspace
from tests.conftest import run_cli

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT


def screen_some(store: Store, ids: list[int]) -> None:
    plan = ["include", "exclude", "exclude", "maybe", "include", "exclude"] * 5
    other = ["include", "exclude", "include", "exclude", "include", "exclude"] * 5
    for rid, a, b in zip(ids[:30], plan, other, strict=True):
        d.decide(store, "reviewer1", rid, TA, a)
        d.decide(store, "reviewer2", rid, TA, b)


def test_agreement_json_and_export_decisions_agree_with_scikit_learn(
    workspace: Workspace, review: tuple[Store, list[int]], tmp_path: Path
) -> None:
    store, ids = review
    code, out, err = run_cli("agreement", cwd=workspace.root)
    assert code == 0 and "No record has been screened by two reviewers yet." in out, err
    screen_some(store, ids)
    code, out, err = run_cli("agreement", "--json", cwd=workspace.root)
    assert code == 0, err
    [pair] = json.loads(out)["stages"]
    target = tmp_path / "decisions.csv"
    code, out2, err = run_cli(
        "export", "decisions", "--format", "csv", "--out", str(target), cwd=workspace.root
    )
    assert code == 0 and "60 decisions" in out2, err
    with target.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    a = [r["decision"] for r in rows if r["reviewer"] == "reviewer1"]
    b = [r["decision"] for r in rows if r["reviewer"] == "reviewer2"]
    assert [r["record_id"] for r in rows if r["reviewer"] == "reviewer1"] == [
        r["record_id"] for r in rows if r["reviewer"] == "reviewer2"
    ]
    assert pair["double_screened"] == 30 and abs(pair["kappa"] - cohen_kappa_score(a, b)) < 1e-12
    code, text, err = run_cli("agreement", cwd=workspace.root)
    assert f"both screened 30 records; agreed on {pair['agreed']}" in text
    assert f"Cohen's kappa {pair['kappa']:.3f}" in text


def test_export_records_has_each_records_screening_status(
    workspace: Workspace, review: tuple[Store, list[int]], tmp_path: Path
) -> None:
    store, ids = review
    screen_some(store, ids)
    d.decide(store, "reviewer1", ids[0], FT, "include")  # one of the two at full text
    target = tmp_path / "records.csv"
    code, _out, err = run_cli("export", "records", "--out", str(target), cwd=workspace.root)
    assert code == 0, err
    with target.open(encoding="utf-8") as fh:
        status = {int(r["record_id"]): r["screening_status"] for r in csv.DictReader(fh)}
    # by hand from screen_some's plan: the six-record cycle include/include, exclude/exclude,
    # exclude/include, maybe/exclude, include/include, exclude/exclude
    cycle = ["full-text: pending", "title-abstract: exclude", "title-abstract: conflict",
             "title-abstract: conflict", "full-text: pending", "title-abstract: exclude"]  # fmt: skip
    assert [status[rid] for rid in ids[:30]] == cycle * 5
    assert {status[rid] for rid in ids[30:]} == {"title-abstract: pending"}


def test_screening_commands_give_one_line_errors(workspace: Workspace) -> None:
    code, _out, err = run_cli("screen", "--reviewer", "mallory", cwd=workspace.root)
    assert code == 1 and "no reviewer named 'mallory'" in err and len(err.splitlines()) == 1
    code, _out, err = run_cli("reconcile", "--adjudicator", "reviewer1", cwd=workspace.root)
    assert code == 1 and "is not an adjudicator" in err
    code, _out, err = run_cli("reconcile", "--reviewers", "reviewer1", cwd=workspace.root)
    assert code == 1 and "--reviewers A,B" in err
    code, _out, err = run_cli(
        "export", "decisions", "--out", str(workspace.root / "no" / "x.csv"), cwd=workspace.root
    )
    assert code == 1 and "does not exist" in err and len(err.splitlines()) == 1
