"""Two reviewers assess risk of bias independently and blinded; discrepancies, consensus,
overrides with reasons, every change audited. Both backends (the ``review`` fixture: real
NSAIDs records, 5 included studies)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from reviewflow.access import passphrase
from reviewflow.access.identity import check_passphrase, set_passphrase, sign_in
from reviewflow.errors import AccessError, InputError
from reviewflow.rob import assess
from reviewflow.rob.tools import HIGH, LOW, SOME
from reviewflow.store.models import AuditEntry, RobAnswer
from tests.extraction.conftest import Review
from tests.rob.test_tools import ALL_LOW


def _assess(review: Review, who: str, study: int, answers: dict[str, str]) -> None:
    for item, value in answers.items():
        assess.set_answer(review.store, who, study, "rob2", item, value)


def test_answers_give_the_algorithms_judgements_and_are_audited(review: Review) -> None:
    sid = review.studies[0].id
    ev = assess.set_answer(review.store, "reviewer1", sid, "rob2", "1.2", "N")
    assert ev.domains["D1"].value == HIGH and not ev.complete
    _assess(review, "reviewer1", sid, ALL_LOW)
    mine = assess.my_assessment(review.store, "reviewer1", sid, "rob2")
    assert mine.evaluation.complete and mine.evaluation.overall.value == LOW
    with review.store.read() as s:
        actions = [a.action for a in s.exec(select(AuditEntry)).all() if a.entity == "rob_answer"]
    assert actions.count("rob.set") == len(ALL_LOW) + 1  # 1.2 set twice: N, then Y
    assess.set_answer(review.store, "reviewer1", sid, "rob2", "5.1", "")  # cleared
    assert assess.my_assessment(review.store, "reviewer1", sid, "rob2").evaluation.complete is False


def test_bad_input_names_the_item_and_changes_nothing(review: Review) -> None:
    sid = review.studies[0].id
    with pytest.raises(InputError, match="rob2 1.1: 'yes' is not an answer"):
        assess.set_answer(review.store, "reviewer1", sid, "rob2", "1.1", "yes")
    with pytest.raises(InputError, match="needs a reason"):
        assess.set_answer(review.store, "reviewer1", sid, "rob2", "D1", HIGH)
    with pytest.raises(InputError, match="no study"):
        assess.set_answer(review.store, "reviewer1", 999, "rob2", "1.1", "Y")
    with review.store.read() as s:
        assert s.exec(select(RobAnswer)).all() == []


def test_discrepancies_agreement_and_consensus(review: Review) -> None:
    a, b = review.studies[0].id, review.studies[1].id
    for who in ("reviewer1", "reviewer2"):
        _assess(review, who, a, ALL_LOW)
        _assess(review, who, b, ALL_LOW)
    # reviewer 2 sees no pre-specified plan in study b, and overrides D1 of study a
    assess.set_answer(review.store, "reviewer2", b, "rob2", "5.1", "NI")
    assess.set_answer(review.store, "reviewer2", a, "rob2", "D1", SOME, "groups unequal in size")
    found = {(d.study_id, d.item): d.values for d in assess.discrepancies(review.store, "rob2")}
    assert found == {
        (a, "D1"): {"reviewer1": "", "reviewer2": SOME},
        (b, "5.1"): {"reviewer1": "Y", "reviewer2": "NI"},
    }
    assert assess.agree(review.store, "adjudicator", "rob2") == 2 * len(ALL_LOW) - 1
    ev = assess.set_consensus(review.store, "adjudicator", b, "rob2", "5.1", "PN")
    assert ev.domains["D5"].value == SOME and ev.overall.value == SOME
    agreed = assess.consensus(review.store, "rob2")
    assert agreed[a].evaluation.overall.value == LOW  # the override was not agreed
    assert agreed[b].evaluation.complete
    assert {d.consensus for d in assess.discrepancies(review.store, "rob2")} == {None, "PN"}


def test_blinding_holds_in_the_data_layer(review: Review, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passphrase, "N", 2**10)
    store = review.store
    for name in ("adjudicator", "reviewer1", "reviewer2"):
        set_passphrase(store, name, f"{name} passphrase words", by="adjudicator")
    sid = review.studies[0].id
    sign_in(store, check_passphrase(store, "reviewer1", "reviewer1 passphrase words"))
    assess.set_answer(store, "reviewer1", sid, "rob2", "1.1", "Y")
    with pytest.raises(AccessError):
        assess.my_assessment(store, "reviewer2", sid, "rob2")
    with pytest.raises(AccessError):
        assess.set_answer(store, "reviewer2", sid, "rob2", "1.1", "N")
    with pytest.raises(AccessError):
        assess.discrepancies(store, "rob2")
    with pytest.raises(AccessError):
        assess.agree(store, "reviewer1", "rob2")
    sign_in(store, check_passphrase(store, "adjudicator", "adjudicator passphrase words"))
    assert assess.discrepancies(store, "rob2") == []  # one incomplete assessment: nothing yet
