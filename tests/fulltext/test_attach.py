"""``reviewflow fulltext attach|list`` on real records (PMIDs and DOIs from real PubMed XML and
the Cohen 2006 NSAIDs records), with small valid PDFs the tests write: what matched, what was
ambiguous and what matched nothing; bad files change nothing; every attachment audited."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import col, select

from reviewflow.errors import InputError
from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.screening import fulltext as ft
from reviewflow.store import Store, open_store
from reviewflow.store.models import AuditEntry, DuplicateLink, FulltextRetrieval, Record
from reviewflow.workspace import Workspace
from tests.conftest import run_cli
from tests.fulltext.pdf import minimal_pdf, write_pdf
from tests.screening.helpers import add_records, nsaids_records, structured_records
from tests.team.test_postgres_rls import PgTeam, as_role, pg_team  # noqa: F401  (a fixture)

TA = flow.TITLE_ABSTRACT
PPI_PMID, PPI_DOI = "35830032", "10.1590/S0004-2803.202202000-40"  # the two real XML records
PRJ_PMID, PRJ_DOI = "33856845", "10.1037/prj0000481"


@pytest.fixture
def review(workspace: Workspace) -> tuple[Workspace, Store, list[int]]:
    store = open_store(workspace.database_url())
    ids = add_records(store, structured_records() + nsaids_records(10))
    yield workspace, store, ids  # type: ignore[misc]
    store.dispose()


def attach_cli(ws: Workspace, *args: str) -> tuple[int, str, str]:
    return run_cli("-w", str(ws.root), "fulltext", "attach", *args, "--reviewer", "reviewer1")


def rows(store: Store) -> dict[int, tuple[str, str, str]]:
    with store.read() as s:
        found = s.exec(select(FulltextRetrieval)).all()
    return {r.record_id: (r.status, r.location, r.updated_by) for r in found}


def audits(store: Store) -> list[AuditEntry]:
    with store.read() as s:
        query = select(AuditEntry).where(AuditEntry.action == "fulltext.attach")
        return list(s.exec(query.order_by(col(AuditEntry.id))).all())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_file_names_give_a_pmid_or_a_doi() -> None:
    nsaid = nsaids_records(1)[0].pmid
    assert nsaid.isdigit()
    for name in (f"{nsaid}.pdf", f"PMID{nsaid}.pdf", f"pmid_{nsaid}.PDF", f"PMID-{nsaid}.pdf"):
        assert ft.identifier_of(name) == ("pmid", nsaid), name
    key = ft.doi_key(PPI_DOI)
    assert key == "10.1590_s0004-2803.202202000-40"
    for name in ("10.1590_S0004-2803.202202000-40.pdf", "10.1590%2FS0004-2803.202202000-40.pdf",
                 "doi_10.1590_S0004-2803.202202000-40.pdf", "10.1590%2fs0004-2803.202202000-40.pdf"):  # fmt: skip
        assert ft.identifier_of(name) == ("doi", key), name
    for name in ("Chinzon 2022.pdf", "10.1590.pdf", "PMID.pdf", "supplement-35830032.pdf"):
        assert ft.identifier_of(name) is None, name


def test_a_folder_attaches_by_pmid_and_doi_and_says_what_matched_nothing(
    review: tuple[Workspace, Store, list[int]], tmp_path: Path
) -> None:
    ws, store, ids = review
    nsaid = nsaids_records(10)[4]
    folder = tmp_path / "pdfs"
    by_doi = write_pdf(folder / "10.1037_prj0000481.pdf", "Insight and metacognition")
    by_pmid = write_pdf(folder / f"PMID{nsaid.pmid}.pdf", nsaid.title)
    write_pdf(folder / "99999999.pdf", "a PMID not in the review")
    write_pdf(folder / "Smith 2019.pdf", "no identifier in the name")
    (folder / "notes.txt").write_text("not a .pdf: left alone")
    (folder / f"._PMID{nsaid.pmid}.pdf").write_bytes(b"\0\5\26\7 macOS metadata")  # hidden
    code, out, err = attach_cli(ws, str(folder))
    assert code == 0, err
    lines = out.splitlines()
    assert f"attached {by_doi} to record {ids[1]} as fulltext/{ids[1]}.pdf" in lines
    assert f"attached {by_pmid} to record {ids[6]} as fulltext/{ids[6]}.pdf" in lines
    assert f"no record matches {folder / '99999999.pdf'} (name it by PMID or DOI, or use --record N)" in lines  # fmt: skip
    assert lines[-1] == "2 PDFs attached, 2 files matching no record"
    assert rows(store) == {
        ids[1]: ("retrieved", f"fulltext/{ids[1]}.pdf", "reviewer1"),
        ids[6]: ("retrieved", f"fulltext/{ids[6]}.pdf", "reviewer1"),
    }
    assert (ws.root / "fulltext" / f"{ids[6]}.pdf").read_bytes() == by_pmid.read_bytes()
    assert sorted(p.name for p in (ws.root / "fulltext").iterdir()) == [
        ".gitignore", f"{ids[1]}.pdf", f"{ids[6]}.pdf"]  # fmt: skip
    logged = {a.record_id: a for a in audits(store)}
    assert logged[ids[1]].actor == "reviewer1" and logged[ids[1]].before is None
    assert logged[ids[1]].after == {"status": "retrieved", "location": f"fulltext/{ids[1]}.pdf",
                                    "file": by_doi.name, "sha256": digest(by_doi)}  # fmt: skip
    # again: nothing changes, and it says so
    code, out, _ = attach_cli(ws, str(folder))
    assert code == 0 and out.splitlines()[-1] == (
        "0 PDFs attached, 2 already attached, 2 files matching no record"
    )
    assert len(audits(store)) == 2


def test_ambiguous_names_and_two_files_for_one_record_attach_nothing(
    review: tuple[Workspace, Store, list[int]], tmp_path: Path
) -> None:
    ws, store, ids = review
    again = add_records(store, structured_records()[:1], source="Embase")  # same PMID and DOI
    folder = tmp_path / "pdfs"
    write_pdf(folder / f"{PPI_PMID}.pdf", "PPI review")  # fits ids[0] and again[0]
    write_pdf(folder / f"{PRJ_PMID}.pdf", "by PMID")  # two files fit ids[1]
    write_pdf(folder / "10.1037%2Fprj0000481.pdf", "by DOI")
    code, out, err = attach_cli(ws, str(folder))
    assert code == 0, err
    lines = out.splitlines()
    assert f"ambiguous: {folder / (PPI_PMID + '.pdf')} (fits records {ids[0]}, {again[0]}; attach it with --record N)" in lines  # fmt: skip
    assert f"ambiguous: {folder / (PRJ_PMID + '.pdf')} (record {ids[1]} fits 10.1037%2Fprj0000481.pdf, {PRJ_PMID}.pdf; attach it with --record N)" in lines  # fmt: skip
    assert lines[-1] == "0 PDFs attached, 3 ambiguous files"
    assert rows(store) == {} and audits(store) == []
    # once marked a duplicate, the copy stands for its kept record: no longer ambiguous
    with store.write() as s:
        s.add(DuplicateLink(group_id=1, record_id=again[0], kept_record_id=ids[0], method="pmid"))
    code, out, _ = attach_cli(ws, str(folder / f"{PPI_PMID}.pdf"))
    assert code == 0 and out.splitlines()[-1] == "1 PDF attached"
    assert list(rows(store)) == [ids[0]]
    code, _out, err = attach_cli(ws, str(folder / f"{PPI_PMID}.pdf"), "--record", str(again[0]))
    assert code == 1 and err.strip() == (
        f"reviewflow: error: record {again[0]} is a duplicate of record {ids[0]}: "
        f"attach the full text to {ids[0]}"
    )


def test_record_n_attaches_any_name_and_replaces_an_earlier_pdf(
    review: tuple[Workspace, Store, list[int]], tmp_path: Path
) -> None:
    ws, store, ids = review
    first = write_pdf(tmp_path / "Chinzon 2022.pdf", "first scan")
    better = write_pdf(tmp_path / "Chinzon 2022 publisher.pdf", "the publisher's version")
    code, out, err = attach_cli(ws, str(first), "--record", str(ids[0]))
    assert code == 0, err
    assert out.splitlines() == [
        f"attached {first} to record {ids[0]} as fulltext/{ids[0]}.pdf", "1 PDF attached"]  # fmt: skip
    code, out, err = attach_cli(ws, str(better), "--record", str(ids[0]))
    assert code == 0, err
    assert (ws.root / f"fulltext/{ids[0]}.pdf").read_bytes() == better.read_bytes()
    second = audits(store)[-1]
    assert second.before == {"status": "retrieved", "location": f"fulltext/{ids[0]}.pdf"}
    assert second.after is not None and second.after["sha256"] == digest(better)
    code, _out, err = attach_cli(ws, str(first), str(better), "--record", str(ids[0]))
    assert code == 1 and "--record" in err and "give one PDF file (got 2)" in err
    code, _out, err = attach_cli(ws, str(first), "--record", "999999")
    assert code == 1 and "record 999999: no such record in the review" in err


def test_attaching_to_a_report_marked_not_retrieved_marks_it_retrieved(
    review: tuple[Workspace, Store, list[int]], tmp_path: Path
) -> None:
    ws, store, ids = review
    core.set_retrieval(store, "reviewer2", ids[1], retrieved=False)
    pdf = write_pdf(tmp_path / f"{PRJ_DOI.replace('/', '_')}.pdf", "found after all")
    code, out, err = attach_cli(ws, str(pdf))
    assert code == 0, err
    assert out.splitlines()[0] == (
        f"attached {pdf} to record {ids[1]} as fulltext/{ids[1]}.pdf "
        "(was marked not retrieved: now retrieved)"
    )
    assert rows(store)[ids[1]] == ("retrieved", f"fulltext/{ids[1]}.pdf", "reviewer1")
    assert audits(store)[-1].before == {"status": "not_retrieved", "location": ""}


@pytest.mark.parametrize("bad", ["not a pdf", "missing", "folder named .pdf", "empty folder"])
def test_a_bad_file_names_itself_and_changes_nothing(
    review: tuple[Workspace, Store, list[int]], tmp_path: Path, bad: str
) -> None:
    ws, store, ids = review
    folder = tmp_path / "pdfs"
    write_pdf(folder / f"{PPI_PMID}.pdf", "a good one, listed first")
    culprit = folder / f"{PRJ_PMID}.pdf"
    expected = f"{culprit}: not a PDF (a PDF file starts with %PDF-)"
    target = folder
    if bad == "not a pdf":
        culprit.write_bytes(b"<html>a publisher's paywall page</html>")
    elif bad == "missing":
        target = culprit
        expected = f"{culprit}: no such file"
    elif bad == "folder named .pdf":
        culprit.mkdir()
        expected = f"{culprit}: not a file"
    else:
        target = tmp_path / "empty"
        target.mkdir()
        expected = f"{target}: no .pdf files in this folder"
    code, out, err = attach_cli(ws, str(folder / f"{PPI_PMID}.pdf"), str(target))
    assert code == 1 and out == ""
    assert err.strip() == f"reviewflow: error: {expected}"
    assert rows(store) == {} and audits(store) == []
    assert not (ws.root / "fulltext").exists()


def test_a_failed_transaction_leaves_no_file_and_no_row(
    review: tuple[Workspace, Store, list[int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copies are staged; a failure while storing the second row undoes the first and
    removes every staged copy."""
    ws, store, ids = review
    folder = tmp_path / "pdfs"
    write_pdf(folder / f"{PPI_PMID}.pdf", "one")
    write_pdf(folder / f"{PRJ_PMID}.pdf", "two")
    stored = ft._store_row
    calls: list[int] = []

    def failing(s, actor, done, digest):  # type: ignore[no-untyped-def]
        calls.append(done.record_id)
        if len(calls) == 2:
            raise InputError("the database went away")
        stored(s, actor, done, digest)

    monkeypatch.setattr(ft, "_store_row", failing)
    with pytest.raises(InputError, match="went away"):
        ft.attach(store, ws.root, "reviewer1", [folder])
    assert calls == [ids[0], ids[1]]
    assert rows(store) == {} and audits(store) == []
    assert [p.name for p in (ws.root / "fulltext").iterdir()] == [".gitignore"]


def test_list_and_status_count_the_reports_sought_with_a_pdf(
    review: tuple[Workspace, Store, list[int]], tmp_path: Path
) -> None:
    ws, store, ids = review
    for rid in ids[:3]:
        for who in ("reviewer1", "reviewer2"):
            core.decide(store, who, rid, TA, "include")
    core.set_retrieval(store, "reviewer1", ids[2], retrieved=False)
    attach_cli(ws, str(write_pdf(tmp_path / f"{PPI_PMID}.pdf", "PPI")))
    attach_cli(ws, str(write_pdf(tmp_path / "x.pdf", "an excluded one")), "--record", str(ids[5]))
    code, out, err = run_cli("-w", str(ws.root), "fulltext", "list")
    assert code == 0, err
    assert out.splitlines() == [
        f"record {ids[0]:>6}  PMID {PPI_PMID:<17}  fulltext/{ids[0]}.pdf",
        f"record {ids[1]:>6}  PMID {PRJ_PMID:<17}  no PDF",
        f"record {ids[2]:>6}  PMID {nsaids_records(1)[0].pmid:<17}  not retrieved",
        "3 reports sought: 1 with a PDF attached, 1 without, 1 not retrieved",
    ]
    (ws.root / f"fulltext/{ids[0]}.pdf").unlink()
    code, out, _ = run_cli("-w", str(ws.root), "fulltext", "list")
    assert out.splitlines()[0].endswith("(MISSING from the review folder)")
    assert out.splitlines()[-1].endswith("; 1 attached file missing")
    code, out, _ = run_cli("-w", str(ws.root), "status")
    assert "Full text: 3 sought (1 with a PDF attached), 1 not retrieved;" in out


def test_viewer_command_and_a_missing_viewer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(minimal_pdf("x"))
    monkeypatch.setenv(ft.VIEWER_ENV, "zathura --fork")
    assert ft.viewer_command(pdf) == ["zathura", "--fork", str(pdf)]
    monkeypatch.setenv(ft.VIEWER_ENV, "no-such-viewer-here")
    with pytest.raises(
        Exception, match="no PDF viewer found .no-such-viewer-here is not installed"
    ):
        ft.open_pdf(pdf)
    with pytest.raises(InputError, match="missing from the review folder"):
        ft.open_pdf(tmp_path / "gone.pdf")


def test_a_reviewer_attaches_through_their_own_postgresql_role(
    pg_team: PgTeam,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Row-level security: the team's shared retrieval rows and the reviewer's own audit row."""
    a = as_role(pg_team, "reviewer1")
    with a.read() as s:
        pmid = s.exec(select(Record.pmid).where(Record.id == pg_team.ids[3])).one()
    result = ft.attach(a, pg_team.ws.root, "reviewer1", [write_pdf(tmp_path / f"{pmid}.pdf", "x")])
    assert [d.record_id for d in result.attached] == [pg_team.ids[3]]
    assert rows(pg_team.admin) == {
        pg_team.ids[3]: ("retrieved", f"fulltext/{pg_team.ids[3]}.pdf", "reviewer1")
    }
    assert [e.actor for e in audits(pg_team.admin)] == ["reviewer1"]
    a.dispose()
