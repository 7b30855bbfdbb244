"""Deciding, revising, undoing and noting: committed at once, audited, on both backends."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from reviewflow.errors import InputError, ReviewflowError
from reviewflow.screening import decisions as d
from reviewflow.screening import flow
from reviewflow.screening.conflicts import resolve
from reviewflow.store import Store
from reviewflow.store.models import AuditEntry, Decision, DuplicateLink, FulltextRetrieval

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT


def audit_rows(store: Store, record_id: int) -> list[AuditEntry]:
    with store.read() as s:
        return list(
            s.exec(
                select(AuditEntry)
                .where(AuditEntry.record_id == record_id)
                .order_by(col(AuditEntry.id))
            ).all()
        )


def test_decide_revise_and_undo_are_committed_and_audited(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    rid = ids[3]
    first = d.decide(store, "reviewer1", rid, TA, "include")
    assert first.before is None and first.after is not None and first.after.decision == "include"
    d.decide(store, "reviewer1", rid, TA, "exclude")
    d.set_note(store, "reviewer1", rid, TA, "animal study")
    assert d.my_decision(store, "reviewer1", rid, TA) == d.MyDecision(
        rid,
        TA,
        "exclude",
        "",
        "animal study",
        d.my_decision(store, "reviewer1", rid, TA).decided_at,  # type: ignore[union-attr]
    )
    # undo walks back through the audit trail: the note, then the revision, then the decision
    assert d.undo(store, "reviewer1", rid, TA).after.note == ""  # type: ignore[union-attr]
    assert d.my_decision(store, "reviewer1", rid, TA).decision == "exclude"  # type: ignore[union-attr]
    assert d.undo(store, "reviewer1", rid, TA).after.decision == "include"  # type: ignore[union-attr]
    assert d.undo(store, "reviewer1", rid, TA).after is None  # type: ignore[union-attr]
    assert d.my_decision(store, "reviewer1", rid, TA) is None
    assert d.undo(store, "reviewer1", rid, TA) is None  # nothing left to undo
    actions = [a.action for a in audit_rows(store, rid)]
    assert actions == ["decision.set", "decision.set", "decision.note"] + ["decision.undo"] * 3
    rows = audit_rows(store, rid)
    assert rows[1].before == {
        "stage": TA, "decision": "include", "reason": "", "note": "", "labels": []
    }  # fmt: skip
    assert rows[1].after == {
        "stage": TA, "decision": "exclude", "reason": "", "note": "", "labels": []
    }  # fmt: skip
    assert rows[-1].after == {"undoes": rows[0].id, "stage": TA}
    with store.read() as s:
        assert s.exec(select(Decision).where(Decision.record_id == rid)).all() == []


def test_undo_keeps_the_note_and_a_note_before_deciding_waits(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    rid = ids[4]
    assert d.set_note(store, "reviewer1", rid, TA, "dose unclear").extra == {
        "draft": "dose unclear"
    }
    assert queue_note(store, "reviewer1", rid) == "dose unclear"
    assert queue_note(store, "reviewer2", rid) == ""  # my draft is mine only
    assert d.decide(store, "reviewer1", rid, TA, "include").after.note == "dose unclear"  # type: ignore[union-attr]
    d.decide(store, "reviewer1", rid, TA, "exclude")
    assert d.undo(store, "reviewer1", rid, TA).after.note == "dose unclear"  # type: ignore[union-attr]
    assert d.undo(store, "reviewer1", rid, TA).after is None  # type: ignore[union-attr]
    assert queue_note(store, "reviewer1", rid) == "dose unclear"  # kept for my next decision
    assert d.decide(store, "reviewer1", rid, TA, "maybe").after.note == "dose unclear"  # type: ignore[union-attr]


def queue_note(store: Store, reviewer: str, record_id: int) -> str:
    from reviewflow.screening.queue import ScreeningQueue

    return ScreeningQueue(store, reviewer, TA).record(record_id).draft_note


def test_undo_touches_only_my_own_decision(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    d.decide(store, "reviewer1", ids[0], TA, "include")
    d.decide(store, "reviewer2", ids[0], TA, "exclude")
    d.undo(store, "reviewer2", ids[0], TA)
    assert d.my_decision(store, "reviewer1", ids[0], TA).decision == "include"  # type: ignore[union-attr]
    assert d.my_decision(store, "reviewer2", ids[0], TA) is None


def test_full_text_exclusion_needs_a_reason_from_the_list(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    rid = ids[5]
    with pytest.raises(InputError, match="not included at title/abstract"):
        d.decide(store, "reviewer1", rid, FT, "include", rules=rules)
    for who in ("reviewer1", "reviewer2"):
        d.decide(store, who, rid, TA, "include", rules=rules)
    with pytest.raises(InputError, match="needs a reason"):
        d.decide(store, "reviewer1", rid, FT, "exclude", rules=rules)
    with pytest.raises(InputError, match="not in review.toml"):
        d.decide(store, "reviewer1", rid, FT, "exclude", reason="Too long", rules=rules)
    reason = rules.exclusion_reasons[3]
    change = d.decide(store, "reviewer1", rid, FT, "exclude", reason=reason, rules=rules)
    assert change.after is not None and change.after.reason == reason
    assert audit_rows(store, rid)[-1].after == {
        "stage": FT, "decision": "exclude", "reason": reason, "note": "", "labels": []
    }  # fmt: skip


def test_report_not_retrieved_is_its_own_audited_action(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    rid = ids[7]
    for who in ("reviewer1", "reviewer2"):
        d.decide(store, who, rid, TA, "include", rules=rules)
    assert (
        d.set_retrieval(store, "reviewer1", rid, retrieved=False, note="no library access") is None
    )
    with pytest.raises(InputError, match="not retrieved"):
        d.decide(store, "reviewer2", rid, FT, "include", rules=rules)
    with store.read() as s:
        assert s.exec(select(FulltextRetrieval.status)).all() == ["not_retrieved"]
        f = flow.review_flow(s, 2)
    assert f.not_retrieved == [rid] and rid not in f.full_text.outcome
    assert d.set_retrieval(store, "reviewer1", rid, retrieved=True) == "not_retrieved"
    d.decide(store, "reviewer2", rid, FT, "include", rules=rules)
    assert [a.action for a in audit_rows(store, rid)][-3:-1] == ["retrieval.set", "retrieval.set"]


def test_refuses_duplicates_unknown_values_and_resolved_records(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    with store.write() as s:
        s.add(DuplicateLink(group_id=1, record_id=ids[1], kept_record_id=ids[0], method="pmid"))
    with pytest.raises(InputError, match="duplicate"):
        d.decide(store, "reviewer1", ids[1], TA, "include")
    with pytest.raises(InputError, match="unknown decision"):
        d.decide(store, "reviewer1", ids[0], TA, "perhaps")
    with pytest.raises(InputError, match="unknown stage"):
        d.decide(store, "reviewer1", ids[0], "abstract", "include")
    with pytest.raises(InputError, match="no reviewer named"):
        d.decide(store, "mallory", ids[0], TA, "include")
    with pytest.raises(InputError, match="no such record"):
        d.decide(store, "reviewer1", 999_999, TA, "include")
    d.decide(store, "reviewer1", ids[0], TA, "include")
    d.decide(store, "reviewer2", ids[0], TA, "maybe")
    resolve(store, "adjudicator", ids[0], TA, "include", reason="meets criteria")
    with pytest.raises(ReviewflowError, match="already reconciled"):
        d.decide(store, "reviewer1", ids[0], TA, "exclude")
    with pytest.raises(ReviewflowError, match="already reconciled"):
        d.undo(store, "reviewer1", ids[0], TA)
    assert len(audit_rows(store, ids[1])) == 0  # refused calls changed nothing
