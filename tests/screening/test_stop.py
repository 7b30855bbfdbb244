"""A decision to stop screening: only when the reviewer's stopping rule has reached its target;
the records no one screened are marked ineligible by automation and counted in PRISMA 2020's
box; records one reviewer screened stay in the other's queue (both backends, real records)."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pytest
from sqlmodel import select

from reviewflow.errors import ReviewflowError
from reviewflow.report.folder import build_report
from reviewflow.report.prisma import prisma_counts
from reviewflow.screening import flow
from reviewflow.screening.decisions import decide
from reviewflow.screening.prioritise import (
    reviewer_stop_state,
    stop_notes,
    stop_screening,
    undo_stop,
)
from reviewflow.screening.queue import ScreeningQueue
from reviewflow.screening.stopping import StoppingSettings, p_value
from reviewflow.store import Store
from reviewflow.store.models import AuditEntry, PrescreenRemoval
from reviewflow.workspace import Workspace
from tests.conftest import run_cli

TA = flow.TITLE_ABSTRACT
# a loose rule, so that 62 records suffice: sampling after 3 excludes in a row, 50 % confidence
RULE = StoppingSettings(recall_target=0.95, confidence=0.5, patience=3)


def test_stopping_marks_only_unscreened_records_and_prisma_adds_up(
    review: tuple[Store, list[int]], workspace: Workspace, tmp_path: Path
) -> None:
    store, ids = review
    mine = ids[:34]
    # 2 includes, 3 excludes in a row (sampling begins: pool 57), then 29 sampled excludes:
    # p = P(0 includes in 29 draws | 1 left in 57) = 28/57 < 0.5
    for n, rid in enumerate(mine):
        decide(store, "reviewer1", rid, TA, "include" if n < 2 else "exclude")
        if n == 32:  # one short of the sample needed: not yet
            with pytest.raises(
                ReviewflowError,
                match=r"^the stopping rule has not reached 95% recall .* \(p = 0.509\)",
            ):
                stop_screening(store, "adjudicator", "reviewer1", RULE)
            with store.read() as s:
                assert s.exec(select(PrescreenRemoval)).first() is None
    theirs = ids[30:40]  # 4 records reviewer1 screened too, 6 only reviewer2 screened
    for rid in theirs:
        decide(store, "reviewer2", rid, TA, "exclude")
    state = reviewer_stop_state(store, "reviewer1", RULE)
    assert (state.ranked_screened, state.pool, state.sampled) == (5, 57, 29)
    assert state.p_value == pytest.approx(p_value(57, 2, 29, 0, 0.95)) == pytest.approx(28 / 57)

    record = stop_screening(store, "adjudicator", "reviewer1", RULE)
    screened = set(mine) | set(theirs)
    assert record.removed == len(ids) - len(screened) == 22 and record.kept == 40
    with store.read() as s:
        removed = {r.record_id: r for r in s.exec(select(PrescreenRemoval)).all()}
        audit = s.exec(select(AuditEntry).where(AuditEntry.action == "screening.stop")).one()
    assert set(removed) == set(ids) - screened
    assert {r.reason_kind for r in removed.values()} == {"automation"}
    assert audit.after is not None and audit.after["removed"] == 22
    assert audit.after["recall_target"] == 0.95 and audit.after["confidence"] == 0.5
    assert stop_notes(store) == [record.note]
    assert "recall target 95%, confidence 50%" in record.note and "22 records" in record.note

    counts = prisma_counts(store)
    db = counts.databases
    assert db.removed_automation == 22
    assert db.identified - db.duplicates - db.removed_automation - db.removed_other == db.screened
    assert db.screened == 40

    # the report's methods text states the rule, its parameters and the estimate
    build_report(store, workspace, tmp_path / "report")
    index = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert escape(record.note) in index

    # what one reviewer screened, the other still has to: reviewer2's queue holds reviewer1's
    # 30 others, reviewer1's holds reviewer2's 6 others
    for who, todo in (
        ("reviewer2", set(mine) - set(theirs)),
        ("reviewer1", set(theirs) - set(mine)),
    ):
        q = ScreeningQueue(store, who, TA)
        assert len(q) == 40
        undecided = {e.record_id for p in range(len(q)) if (e := q.entry(p)) and e.decision is None}
        assert undecided == todo


def test_screen_stop_refuses_in_one_line_before_the_rule_is_met(
    review: tuple[Store, list[int]], workspace: Workspace
) -> None:
    store, ids = review
    decide(store, "reviewer1", ids[0], TA, "include")
    code, out, err = run_cli("screen", "--reviewer", "reviewer1", "--stop", cwd=workspace.root)
    assert code == 1 and out == ""
    assert err == (
        "reviewflow: error: the stopping rule has not reached 95% recall with 95% confidence "
        "for reviewer1 (random sampling has not begun): keep screening\n"
    )
    with store.read() as s:
        assert s.exec(select(PrescreenRemoval)).first() is None


def test_a_stop_is_undone_by_the_adjudicator_and_audited(
    review: tuple[Store, list[int]], workspace: Workspace
) -> None:
    store, ids = review
    for n, rid in enumerate(ids[:34]):  # as above: the rule is met (p = 28/57)
        decide(store, "reviewer1", rid, TA, "include" if n < 2 else "exclude")
    before = prisma_counts(store).databases
    record = stop_screening(store, "adjudicator", "reviewer1", RULE)
    assert record.removed == 28 and prisma_counts(store).databases.removed_automation == 28

    code, out, err = run_cli("screen", "--reviewer", "reviewer1", "--undo-stop", cwd=workspace.root)
    assert (code, err) == (0, "")
    assert out == "28 records back in the title/abstract queues (the stop undone)\n"
    with store.read() as s:
        assert s.exec(select(PrescreenRemoval)).first() is None
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "screening.stop.undo")).one()
    assert entry.before is not None and entry.before["record_ids"] == sorted(ids[34:])
    assert entry.before["notes"] == [record.note] and entry.after == {"restored": 28}
    assert entry.actor != ""
    assert prisma_counts(store).databases == before and stop_notes(store) == []
    q = ScreeningQueue(store, "reviewer1", TA)  # the 28 are back in the queue, undecided
    assert len(q) == 62 and q.next_undecided() is not None

    # nothing left to undo: one line, database unchanged
    with pytest.raises(ReviewflowError, match="^screening has not been stopped"):
        undo_stop(store, "adjudicator")
    code, out, err = run_cli("screen", "--reviewer", "reviewer1", "--undo-stop", cwd=workspace.root)
    assert (code, out) == (1, "")
    assert err == "reviewflow: error: screening has not been stopped: nothing to undo\n"
