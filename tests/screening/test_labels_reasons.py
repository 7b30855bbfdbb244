"""A reviewer's labels on their decisions, optional title/abstract reasons and "Other: …" full-text
reasons: kept, audited, undone, blinded, exported and counted, on both backends."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from reviewflow.errors import InputError, WorkspaceError
from reviewflow.report.prisma import OTHER_REASONS, review_prisma
from reviewflow.screening import decisions as d
from reviewflow.screening import flow
from reviewflow.screening.conflicts import conflicts, resolve
from reviewflow.screening.export import export_decisions
from reviewflow.screening.queue import ScreeningQueue
from reviewflow.store import Store, open_store
from reviewflow.store.migrate import current_revision, upgrade
from reviewflow.store.models import AuditEntry
from reviewflow.workspace import Workspace, find_workspace, load_config

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT
TA_REASONS = ["Animal study", "Not about NSAIDs"]


def with_screening_keys(ws: Workspace, ta_reasons: list[str], labels: list[str]) -> Workspace:
    toml = ws.root / "review.toml"
    body = toml.read_text()
    body = body.replace(
        "title_abstract_exclusion_reasons = []",
        "title_abstract_exclusion_reasons = [" + ", ".join(f'"{r}"' for r in ta_reasons) + "]",
    ).replace(
        "suggested_labels = []", "suggested_labels = [" + ", ".join(f'"{x}"' for x in labels) + "]"
    )
    toml.write_text(body)
    return find_workspace(ws.root)


def actions(store: Store, record_id: int) -> list[str]:
    with store.read() as s:
        rows = s.exec(
            select(AuditEntry.action)
            .where(AuditEntry.record_id == record_id)
            .order_by(col(AuditEntry.id))
        ).all()
    return list(rows)


def test_review_toml_reads_the_new_keys_and_refuses_a_misspelt_one(
    workspace: Workspace,
) -> None:
    ws = with_screening_keys(workspace, TA_REASONS, ["pediatric"])
    rules = d.ScreeningRules.from_config(ws.config)
    assert rules.title_abstract_reasons == tuple(TA_REASONS)
    assert rules.suggested_labels == ("pediatric",)
    toml = ws.root / "review.toml"
    toml.write_text(
        toml.read_text().replace("title_abstract_exclusion_reasons", "title_abstract_reasons")
    )
    with pytest.raises(WorkspaceError, match="did you mean 'title_abstract_exclusion_reasons'"):
        load_config(toml)


def test_title_abstract_reason_is_optional_and_from_the_list(
    review: tuple[Store, list[int]], workspace: Workspace
) -> None:
    store, ids = review
    rules = d.ScreeningRules.from_config(with_screening_keys(workspace, TA_REASONS, []).config)
    assert d.decide(store, "reviewer1", ids[0], TA, "exclude", rules=rules).after.reason == ""  # type: ignore[union-attr]
    change = d.decide(store, "reviewer1", ids[1], TA, "exclude", "Animal study", rules=rules)
    assert change.after is not None and change.after.reason == "Animal study"
    with pytest.raises(InputError, match="title_abstract_exclusion_reasons"):
        d.decide(store, "reviewer1", ids[2], TA, "exclude", "Too short", rules=rules)
    with pytest.raises(
        InputError, match="title_abstract_exclusion_reasons"
    ):  # FT's list is not TA's
        d.decide(store, "reviewer1", ids[2], TA, "exclude", rules.exclusion_reasons[0], rules=rules)
    # a reason goes with an exclusion only; revising to include drops it
    assert (
        d.decide(
            store, "reviewer1", ids[1], TA, "include", "Animal study", rules=rules
        ).after.reason
        == ""
    )  # type: ignore[union-attr]
    assert d.undo(store, "reviewer1", ids[1], TA).after.reason == "Animal study"  # type: ignore[union-attr]
    # two exclusions for different optional reasons agree: the record is excluded, no conflict
    d.decide(store, "reviewer2", ids[1], TA, "exclude", "Not about NSAIDs", rules=rules)
    with store.read() as s:
        state = flow.stage_state(s, TA, 2, [ids[1]])
    assert state.outcome[ids[1]] == flow.EXCLUDE
    with store.read() as s:
        rows = s.exec(
            select(AuditEntry).where(AuditEntry.record_id == ids[1]).order_by(col(AuditEntry.id))
        ).all()
    assert rows[0].after["reason"] == "Animal study"  # type: ignore[index]


def test_full_text_other_reason_is_the_reviewers_own_words(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    rid = ids[5]
    for who in ("reviewer1", "reviewer2"):
        d.decide(store, who, rid, TA, "include", rules=rules)
    assert d.other_reason("  conference   abstract only ") == "Other: conference abstract only"
    with pytest.raises(InputError, match="needs a few words"):
        d.other_reason("   ")
    with pytest.raises(InputError, match="at most 193 characters"):
        d.other_reason("x" * 194)
    assert len(d.other_reason("x" * 193)) == d.MAX_REASON
    with pytest.raises(InputError, match="needs a few words"):
        d.decide(store, "reviewer1", rid, FT, "exclude", "Other: ", rules=rules)
    with pytest.raises(InputError, match="not in review.toml"):
        d.decide(store, "reviewer1", rid, FT, "exclude", "conference abstract", rules=rules)
    mine = d.decide(store, "reviewer1", rid, FT, "exclude", "Other: conference abstract only",
                    rules=rules).after  # fmt: skip
    assert mine is not None and mine.reason == "Other: conference abstract only"
    d.decide(store, "reviewer2", rid, FT, "exclude", "Other: abstract only", rules=rules)
    # different words are different reasons: a conflict, resolved with the lead's own words
    (conflict,) = conflicts(store, FT, rules)
    assert {x.reason for x in conflict.decisions} == {
        "Other: conference abstract only", "Other: abstract only"
    }  # fmt: skip
    resolve(store, "adjudicator", rid, FT, "exclude", "Other: conference abstract only",
            rules=rules)  # fmt: skip
    with pytest.raises(InputError, match="not in review.toml"):
        resolve(store, "adjudicator", rid, FT, "exclude", "Too long", rules=rules)


def test_labels_are_kept_audited_and_undone_with_the_decision(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    rid = ids[3]
    # labels typed before deciding wait for the decision, with the note
    assert d.set_labels(store, "reviewer1", rid, TA, [" dose ", "Pediatric", "dose"]).extra == {
        "draft": ["dose", "Pediatric"]
    }
    d.set_note(store, "reviewer1", rid, TA, "check the dose")
    assert ScreeningQueue(store, "reviewer1", TA).record(rid).draft_labels == ("dose", "Pediatric")
    assert ScreeningQueue(store, "reviewer2", TA).record(rid).draft_labels == ()
    assert d.my_labels(store, "reviewer1", TA) == {rid: ["dose", "Pediatric"]}
    first = d.decide(store, "reviewer1", rid, TA, "include").after
    assert (
        first is not None
        and first.labels == ("dose", "Pediatric")
        and first.note == "check the dose"
    )
    d.set_labels(store, "reviewer1", rid, TA, ["dose", "ask reviewer2"])
    assert d.set_labels(store, "reviewer1", rid, TA, ["dose", "ask reviewer2"]).after.labels == (  # type: ignore[union-attr]
        "dose",
        "ask reviewer2",
    )  # the same labels again: nothing to audit
    d.decide(store, "reviewer1", rid, TA, "exclude")  # a revision keeps the labels
    assert d.my_decision(store, "reviewer1", rid, TA).labels == ("dose", "ask reviewer2")  # type: ignore[union-attr]
    assert actions(store, rid) == [
        "decision.draft_labels", "decision.draft_note", "decision.set", "decision.labels",
        "decision.set",
    ]  # fmt: skip
    with store.read() as s:
        row = s.exec(select(AuditEntry).where(AuditEntry.action == "decision.labels")).one()
    assert row.before["labels"] == ["dose", "Pediatric"]  # type: ignore[index]
    assert row.after["labels"] == ["dose", "ask reviewer2"]  # type: ignore[index]
    # undo: the revision (labels kept), then the label change (labels back), then the decision
    assert d.undo(store, "reviewer1", rid, TA).after.labels == ("dose", "ask reviewer2")  # type: ignore[union-attr]
    back = d.undo(store, "reviewer1", rid, TA).after
    assert back is not None and back.decision == "include" and back.labels == ("dose", "Pediatric")
    assert back.note == "check the dose"
    assert d.undo(store, "reviewer1", rid, TA).after is None  # type: ignore[union-attr]
    # undone back to "not decided": the note and labels wait for the next decision
    view = ScreeningQueue(store, "reviewer1", TA).record(rid)
    assert (view.mine, view.draft_note, view.draft_labels) == (
        None,
        "check the dose",
        ("dose", "Pediatric"),
    )
    assert d.decide(store, "reviewer1", rid, TA, "maybe").after.labels == ("dose", "Pediatric")  # type: ignore[union-attr]
    assert d.labels_used(store, "reviewer1") == ["dose", "Pediatric"]


def test_bad_labels_are_refused_and_change_nothing(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    d.decide(store, "reviewer1", ids[0], TA, "include")
    for bad, match in ((["a;b"], "without , or ;"), (["x" * 41], "at most 40"),
                       ([f"l{i}" for i in range(21)], "at most 20 labels")):  # fmt: skip
        with pytest.raises(InputError, match=match):
            d.set_labels(store, "reviewer1", ids[0], TA, bad)
    assert actions(store, ids[0]) == ["decision.set"]
    assert d.set_labels(store, "reviewer1", ids[0], TA, ["", "  "]).after.labels == ()  # type: ignore[union-attr]


def test_labels_are_each_reviewers_own_until_reconciliation(
    review: tuple[Store, list[int]], tmp_path: Path
) -> None:
    store, ids = review
    rid = ids[1]
    d.decide(store, "reviewer1", rid, TA, "include")
    d.set_labels(store, "reviewer1", rid, TA, ["pediatric"])
    assert d.my_labels(store, "reviewer2", TA) == {}
    assert d.labels_used(store, "reviewer2") == []
    assert ScreeningQueue(store, "reviewer2", TA).record(rid).mine is None
    d.decide(store, "reviewer2", rid, TA, "maybe")
    d.set_labels(store, "reviewer2", rid, TA, ["unclear design"])
    assert d.my_labels(store, "reviewer1", TA) == {rid: ["pediatric"]}
    assert d.my_labels(store, "reviewer2", TA) == {rid: ["unclear design"]}
    # in conflict now: reconciliation shows both reviewers' labels
    (conflict,) = conflicts(store, TA)
    assert {(x.reviewer, x.labels) for x in conflict.decisions} == {
        ("reviewer1", ("pediatric",)), ("reviewer2", ("unclear design",)),
    }  # fmt: skip
    out = tmp_path / "decisions.csv"
    export_decisions(store, out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {(r["reviewer"], r["labels"], r["reason"]) for r in rows} == {
        ("reviewer1", "pediatric", ""), ("reviewer2", "unclear design", ""),
    }  # fmt: skip


def test_prisma_counts_other_reasons_on_one_line_and_still_adds_up(
    review: tuple[Store, list[int]], workspace: Workspace, rules: d.ScreeningRules
) -> None:
    store, ids = review
    listed = rules.exclusion_reasons[3]
    ft_reasons = {ids[0]: listed, ids[1]: "Other: conference abstract only",
                  ids[2]: "Other: no outcome by arm"}  # fmt: skip
    for rid in ids[:4]:
        for who in ("reviewer1", "reviewer2"):
            d.decide(store, who, rid, TA, "include", rules=rules)
    for rid, reason in ft_reasons.items():
        for who in ("reviewer1", "reviewer2"):
            d.decide(store, who, rid, FT, "exclude", reason, rules=rules)
    c = review_prisma(store, workspace.config)
    assert c.boxes()["dbr_excluded"] == {
        "n": 3, "reasons": [{"reason": listed, "n": 1}, {"reason": OTHER_REASONS, "n": 2}]
    }  # fmt: skip
    checks = {ch.name: ch.ok for ch in c.checks}
    assert checks["databases and registers: full-text outcomes add up"]
    assert checks["every full-text exclusion has a reason"]


def test_migration_0011_adds_empty_labels_and_keeps_every_decision(db_url: str) -> None:
    store = Store(db_url)
    upgrade(store, "0010")
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO reviewer (id, name, role, created_at, db_role)"
                          " VALUES (1, 'ana', 'reviewer', CURRENT_TIMESTAMP, '')"))  # fmt: skip
        conn.execute(text(
            "INSERT INTO record (id, title, abstract, authors, journal, journal_abbrev, volume,"
            " issue, pages, doi, pmid, pmcid, issn, language, publication_types, mesh_terms,"
            " keywords, vernacular_title, comments_corrections, record_type, url, extra,"
            " created_at) VALUES (1, 'Stenting after failed thrombectomy', '', '[]', '', '',"
            " '', '', '', '', '29000001', '', '', '[]', '[]', '[]', '[]', '', '[]', 'article',"
            " '', '{}', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO decision (record_id, reviewer_id, stage, decision, reason, note,"
            " decided_at) VALUES (1, 1, 'full-text', 'exclude', 'Wrong population',"
            " 'adults only', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    store.dispose()
    upgraded = open_store(db_url)
    assert current_revision(upgraded) == "0011"
    (kept,) = d.my_decisions(upgraded, "ana", FT)
    assert (kept.decision, kept.reason, kept.note, kept.labels) == (
        "exclude", "Wrong population", "adults only", ()
    )  # fmt: skip
    d.set_labels(upgraded, "ana", 1, FT, ["adults"])
    assert d.my_labels(upgraded, "ana", FT) == {1: ["adults"]}
    upgraded.dispose()
