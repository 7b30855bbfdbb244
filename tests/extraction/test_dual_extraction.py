"""Dual independent extraction: values as entered with audit rows, blinding, discrepancies,
consensus (SQLite and PostgreSQL). Counts are dat.pritz1997's (tests/data/extraction)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from reviewflow.errors import InputError
from reviewflow.extraction.consensus import (
    accept_agreements,
    adjudicator_label,
    compare,
    consensus_values,
    discrepancies,
    set_consensus,
)
from reviewflow.extraction.values import mark_finished, my_progress, my_values, save_value
from reviewflow.store.models import AuditEntry, ExtractionValue
from tests.extraction.conftest import Review
from tests.extraction.helpers import pritz_counts

REQUIRED = {"country": "Japan", "design": "Retrospective", "patients": "68"}


def enter(review: Review, who: str, study_id: int, values: dict[str, str]) -> None:
    for key, text in values.items():
        save_value(review.store, who, review.form, study_id, key, text)


def finish(review: Review, study_id: int, *who: str) -> None:
    for name in who:
        assert mark_finished(review.store, name, review.form, study_id)


def test_values_are_saved_as_entered_with_an_audit_row_per_change(review: Review) -> None:
    sid = review.studies[0].id
    first = save_value(review.store, "reviewer1", review.form, sid, "mean_age", "67,5")
    assert (
        first.changed and first.problem == "Mean age: use a decimal point, not a comma (got '67,5')"
    )
    again = save_value(review.store, "reviewer1", review.form, sid, "mean_age", "67,5")
    assert not again.changed  # unchanged: no second audit row
    fixed = save_value(review.store, "reviewer1", review.form, sid, "mean_age", "67.5")
    assert fixed.changed and fixed.problem == ""
    with review.store.read() as s:
        rows = s.exec(select(ExtractionValue)).all()
        audits = s.exec(
            select(AuditEntry)
            .where(AuditEntry.entity == "extraction_value")
            .order_by(AuditEntry.id)  # type: ignore[arg-type]
        ).all()
    assert [(r.field, r.value) for r in rows] == [("mean_age", "67.5")]
    assert [(a.action, a.before, a.after) for a in audits] == [
        ("extraction.set", None, {"study_id": sid, "field": "mean_age", "value": "67,5"}),
        ("extraction.set", {"study_id": sid, "field": "mean_age", "value": "67,5"},
         {"study_id": sid, "field": "mean_age", "value": "67.5"}),
    ]  # fmt: skip


def test_a_choice_is_stored_as_the_form_spells_it(review: Review) -> None:
    sid = review.studies[0].id
    (design,) = [f for f in review.form.fields if f.key == "design"]
    typed = design.choices[0].swapcase()
    saved = save_value(review.store, "reviewer1", review.form, sid, "design", f" {typed} ")
    assert saved.problem == "" and saved.text == design.choices[0]
    assert my_values(review.store, "reviewer1", sid) == {"design": design.choices[0]}


def test_unknown_field_or_study_is_refused(review: Review) -> None:
    with pytest.raises(InputError, match="the form has no field 'age'"):
        save_value(review.store, "reviewer1", review.form, review.studies[0].id, "age", "70")
    with pytest.raises(InputError, match="study 9999: no such study"):
        save_value(review.store, "reviewer1", review.form, 9999, "country", "Italy")
    with pytest.raises(InputError, match="no reviewer named 'reviewer3'"):
        save_value(review.store, "reviewer3", review.form, review.studies[0].id, "country", "Italy")


def test_a_reviewer_reads_only_their_own_values(review: Review) -> None:
    sid = review.studies[0].id
    enter(review, "reviewer1", sid, {"country": "Japan", "patients": "41"})
    enter(review, "reviewer2", sid, {"country": "Japan", "patients": "42", "centres": "3"})
    assert my_values(review.store, "reviewer1", sid) == {"country": "Japan", "patients": "41"}
    assert my_values(review.store, "reviewer2", sid) == {
        "country": "Japan",
        "patients": "42",
        "centres": "3",
    }
    assert my_values(review.store, "adjudicator", sid) == {}
    progress = my_progress(review.store, "reviewer1", review.form, [s.id for s in review.studies])
    assert (progress[sid].filled, progress[sid].total, progress[sid].required_missing) == (2, 20, 1)
    assert all(progress[s.id].filled == 0 for s in review.studies[1:])


def test_discrepancies_list_every_differing_field_side_by_side(review: Review) -> None:
    sid = review.studies[0].id
    name, improved, treated = pritz_counts()[8]  # Otsubo et al.: 22 of 41
    enter(review, "reviewer1", sid, {
        "country": "Japan", "design": "Retrospective", "patients": str(treated),
        "angioplasty": "yes", "mean_age": "58.0",
        "outcome.favourable_outcome.events": str(improved),
        "outcome.favourable_outcome.total": str(treated),
    })  # fmt: skip
    enter(review, "reviewer2", sid, {
        "country": "Japan", "design": "retrospective", "patients": str(treated),
        "angioplasty": "Y", "mean_age": "58",
        "outcome.favourable_outcome.events": str(improved - 1),  # a misread
        "outcome.favourable_outcome.total": str(treated),
        "gp_inhibitor": "no",  # reviewer1 left it empty
    })  # fmt: skip
    finish(review, sid, "reviewer1", "reviewer2")
    found = discrepancies(review.store, review.form)
    assert [(c.key, c.values) for c in found] == [
        ("gp_inhibitor", {"reviewer1": "", "reviewer2": "no"}),
        ("outcome.favourable_outcome.events",
         {"reviewer1": str(improved), "reviewer2": str(improved - 1)}),
    ]  # fmt: skip
    (study,) = compare(review.store, review.form)
    agreed = [c.key for c in study.fields if c.status == "agree"]
    assert agreed == ["country", "design", "patients", "mean_age", "angioplasty",
                      "outcome.favourable_outcome.total"]  # fmt: skip
    assert study.extractors == ["reviewer1", "reviewer2"]


def test_invalid_values_are_never_an_agreement(review: Review) -> None:
    sid = review.studies[0].id
    enter(review, "reviewer1", sid, REQUIRED)
    enter(review, "reviewer2", sid, REQUIRED)
    finish(review, sid, "reviewer1", "reviewer2")
    # editing a finished study keeps it finished; the comparison uses the current values
    enter(review, "reviewer1", sid, {"patients": "12.5"})
    enter(review, "reviewer2", sid, {"patients": "12.5", "country": "", "design": ""})
    assert [c.key for c in discrepancies(review.store, review.form)] == [
        "country", "design", "patients"
    ]  # fmt: skip
    assert accept_agreements(review.store, review.form, "adjudicator") == 0


def test_one_extractor_gives_no_comparison_yet(review: Review) -> None:
    enter(review, "reviewer1", review.studies[0].id, {"country": "Japan"})
    enter(review, "adjudicator", review.studies[0].id, {"country": "Japan", "patients": "10"})
    (study,) = compare(review.store, review.form)  # the adjudicator is not an extractor
    assert (study.extractors, study.fields, study.waiting) == ([], [], 2)


def test_agreements_become_consensus_and_the_adjudicator_settles_the_rest(review: Review) -> None:
    sid = review.studies[0].id
    _, improved, treated = pritz_counts()[12]  # Shimoda et al.: 58 of 68
    enter(review, "reviewer1", sid, {"angioplasty": "Yes", "outcome.recanalisation.events": str(improved),
                                     "outcome.recanalisation.total": str(treated)})  # fmt: skip
    enter(review, "reviewer2", sid, {"angioplasty": "y", "outcome.recanalisation.events": "48",
                                     "outcome.recanalisation.total": str(treated)})  # fmt: skip
    for who in ("reviewer1", "reviewer2"):
        enter(review, who, sid, REQUIRED)
    finish(review, sid, "reviewer1", "reviewer2")
    assert accept_agreements(review.store, review.form, "adjudicator") == 5
    assert accept_agreements(review.store, review.form, "adjudicator") == 0  # already there
    rows = consensus_values(review.store)[sid]
    assert {k: (r.value, r.source) for k, r in rows.items()} == {
        "country": ("Japan", "agreed"),
        "design": ("retrospective", "agreed"),
        "patients": ("68", "agreed"),
        "angioplasty": ("yes", "agreed"),
        "outcome.recanalisation.total": (str(treated), "agreed"),
    }
    with pytest.raises(InputError, match=r"events \(69\) exceed total \(68\)"):
        set_consensus(
            review.store, review.form, "adjudicator", sid, "outcome.recanalisation.events", "69"
        )
    with pytest.raises(InputError, match="must be a whole number"):
        set_consensus(
            review.store, review.form, "adjudicator", sid, "outcome.recanalisation.events", "5 8"
        )
    stored = set_consensus(review.store, review.form, "adjudicator", sid,
                           "outcome.recanalisation.events", f" {improved} ")  # fmt: skip
    assert stored == str(improved)
    (c,) = discrepancies(review.store, review.form)
    assert c.consensus == str(improved) and c.consensus_source == "adjudicated"
    with review.store.read() as s:
        actions = [
            a.action
            for a in s.exec(select(AuditEntry).where(AuditEntry.entity == "consensus_value")).all()
        ]
    assert sorted(actions) == ["consensus.agreed"] * 5 + ["consensus.set"]


def test_who_may_set_consensus(review: Review) -> None:
    assert adjudicator_label(review.store, "adjudicator", None) == "adjudicator"
    assert adjudicator_label(review.store, "reviewer2", "reviewer1") == "reviewer1+reviewer2"
    with pytest.raises(InputError, match="is not an adjudicator"):
        adjudicator_label(review.store, "reviewer1", None)
    with pytest.raises(InputError, match="names the same reviewer twice"):
        adjudicator_label(review.store, "reviewer1", "reviewer1")


def test_single_extraction_review_takes_the_one_reviewers_valid_values(review: Review) -> None:
    sid = review.studies[0].id
    enter(review, "reviewer1", sid, {**REQUIRED, "centres": "2"})
    assert (
        accept_agreements(review.store, review.form, "adjudicator", required=1) == 0
    )  # unfinished
    finish(review, sid, "reviewer1")
    assert accept_agreements(review.store, review.form, "adjudicator") == 0  # dual: waits
    enter(review, "reviewer1", sid, {"patients": "12.5"})  # made invalid after finishing
    assert [c.key for c in discrepancies(review.store, review.form, required=1)] == ["patients"]
    assert accept_agreements(review.store, review.form, "adjudicator", required=1) == 3
    values = {k: r.value for k, r in consensus_values(review.store)[sid].items()}
    assert values == {"country": "Japan", "design": "retrospective", "centres": "2"}
