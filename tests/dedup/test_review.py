"""Dedup on the review's database: links, undo, the manual queue, the audit log, the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlmodel import col, select

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.dedup import review
from reviewflow.store import Store, open_store
from reviewflow.store.models import AuditEntry, DuplicateCandidate, DuplicateLink
from reviewflow.workspace import Workspace
from tests.conftest import run_cli
from tests.dedup.helpers import DATA, labelled


def _import(store: Store, name: str) -> list[int]:
    records = labelled(name)
    with store.write() as s:
        run = start_run(s, kind="import", source=name, file_name="records_pre_merged.csv")
        store_records(s, run, records)
    return list(range(1, len(records) + 1))


def test_run_links_duplicates_and_queues_maybe_pairs(store: Store) -> None:
    _import(store, "special_cases")
    summary = review.run(store, "tester")
    assert (summary.records, summary.links_added, summary.maybe_added) == (12, 3, 1)
    with store.read() as s:
        links = s.exec(select(DuplicateLink)).all()
        assert sorted((link.record_id, link.kept_record_id) for link in links) == [
            (2, 1), (6, 5), (7, 11),
        ]  # fmt: skip
        assert review.duplicates_removed(s) == 3
        maybe = s.exec(select(DuplicateCandidate)).one()
        assert (maybe.record_a_id, maybe.record_b_id, maybe.status) == (3, 4, "maybe")
        merges = s.exec(select(AuditEntry).where(AuditEntry.action == "dedup.merge")).all()
        assert sorted(e.record_id or 0 for e in merges) == [2, 6, 7]
    again = review.run(store, "tester")  # a second run changes nothing
    assert (again.links_added, again.maybe_added, again.duplicates_removed) == (0, 0, 3)


def test_undo_splits_a_group_for_good(store: Store) -> None:
    _import(store, "special_cases")
    review.run(store)
    with store.read() as s:
        group = s.exec(select(DuplicateLink).where(DuplicateLink.record_id == 2)).one().group_id
    assert review.undo_group(store, group, "tester") == 1
    with store.read() as s:
        link = s.exec(select(DuplicateLink).where(DuplicateLink.record_id == 2)).one()
        assert link.undone_at is not None and link.undone_by == "tester"  # kept, not deleted
        assert review.duplicates_removed(s) == 2
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "dedup.undo")).all()
    assert review.run(store).links_added == 0  # the split pair is not merged again


def test_queue_decisions_commit_and_count(store: Store) -> None:
    _import(store, "special_cases")
    review.run(store)
    (item,) = review.queue(store)
    assert {item.record_a.source_key, item.record_b.source_key} == {"3", "4"}
    review.decide(store, item.candidate_id, "duplicate", "alice")
    with store.read() as s:
        assert review.duplicates_removed(s) == 4
        link = s.exec(select(DuplicateLink).where(DuplicateLink.method == "manual")).one()
        assert {link.record_id, link.kept_record_id} == {3, 4}
    review.decide(store, item.candidate_id, "distinct", "alice")  # changed mind
    with store.read() as s:
        assert review.duplicates_removed(s) == 3
        actions = s.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
        assert actions[-3:] == ["dedup.duplicate", "dedup.undo", "dedup.distinct"]
    assert review.queue(store) == []


def test_cli_standalone_contract(tmp_path: Path) -> None:
    out, pairs = tmp_path / "groups.csv", tmp_path / "pairs.csv"
    src = DATA / "special_cases" / "records_pre_merged.csv"
    code, stdout, err = run_cli(
        "dedup", str(src), "--id-column", "ID", "--out", str(out), "--maybe-out", str(pairs)
    )
    assert code == 0, err
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 12 and set(rows[0]) == {"record_id", "group_id"}
    group = {r["record_id"]: r["group_id"] for r in rows}
    assert group["id_0000001"] == group["id_0000002"]
    assert group["id_0000003"] != group["id_0000004"]  # a maybe pair is not merged
    (pair,) = list(csv.DictReader(pairs.open()))
    assert {pair["record_id_a"], pair["record_id_b"]} == {"id_0000003", "id_0000004"}
    assert float(pair["score"]) > 0.5
    assert "3 duplicates" in stdout


def test_cli_standalone_bad_input_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "refs.csv"
    bad.write_text("ID,title\na,First paper\na,Second paper\n", encoding="utf-8")
    code, _out, err = run_cli(
        "dedup", str(bad), "--id-column", "ID", "--out", str(tmp_path / "g.csv")
    )
    assert code == 1
    assert err.strip() == "reviewflow: error: refs.csv: line 3: identifier 'a' repeats record 1"
    code, _out, err = run_cli(
        "dedup", str(bad), "--id-column", "Key", "--out", str(tmp_path / "g.csv")
    )
    assert code == 1 and "no column 'Key'" in err and len(err.strip().splitlines()) == 1


def test_cli_review_mode_and_undo(workspace: Workspace) -> None:
    store = open_store(workspace.database_url())
    try:
        _import(store, "special_cases")
    finally:
        store.dispose()
    code, out, err = run_cli("dedup", "--json", cwd=workspace.root)
    assert code == 0, err
    assert '"links_added": 3' in out and '"maybe_open": 1' in out
    code, out, err = run_cli("dedup", "--undo", "999", cwd=workspace.root)
    assert code == 1 and "no duplicate group 999" in err
    code, out, err = run_cli("dedup", "--undo", "1", "--by", "tester", cwd=workspace.root)
    assert code == 1 and "no reviewer named 'tester'" in err  # the audit log names reviewers
    code, out, err = run_cli("dedup", "--undo", "1", "--by", "reviewer1", cwd=workspace.root)
    assert code == 0 and "split" in out
    code, out, err = run_cli("dedup", "--by", "mallory", cwd=workspace.root)
    assert code == 1 and "no reviewer named 'mallory'" in err and len(err.splitlines()) == 1


def test_cli_standalone_reads_ris_and_numbers_repeated_ids(tmp_path: Path) -> None:
    out = tmp_path / "groups.csv"
    src = DATA.parent / "ris" / "example_full.ris"  # both records carry ID 12345
    code, _stdout, err = run_cli("dedup", str(src), "--out", str(out))
    assert code == 0
    assert "record identifiers repeat" in err
    assert [r["record_id"] for r in csv.DictReader(out.open())] == ["1", "2"]


def test_the_manual_queue_refuses_a_name_review_toml_does_not_list(workspace: Workspace) -> None:
    code, _out, err = run_cli("dedup", "--review", "--reviewer", "mallory", cwd=workspace.root)
    assert code == 1 and "no reviewer named 'mallory'" in err and len(err.splitlines()) == 1
