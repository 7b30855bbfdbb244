"""Finishing a study: only finished extractions are compared; refusal while the form is not
complete; audit rows; a reviewer reads only their own status (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from reviewflow.errors import InputError
from reviewflow.extraction.consensus import accept_agreements, compare, discrepancies
from reviewflow.extraction.values import mark_finished, my_finished, reopen, save_value
from reviewflow.store.models import AuditEntry, ExtractionStatus
from tests.extraction.conftest import Review
from tests.extraction.helpers import pritz_counts


def enter(review: Review, who: str, study_id: int, values: dict[str, str]) -> None:
    for key, text in values.items():
        save_value(review.store, who, review.form, study_id, key, text)


def otsubo(events: int | None = None) -> dict[str, str]:
    _, improved, treated = pritz_counts()[8]  # Otsubo et al.: 22 of 41
    return {
        "country": "Japan", "design": "Retrospective", "patients": str(treated),
        "outcome.favourable_outcome.events": str(improved if events is None else events),
        "outcome.favourable_outcome.total": str(treated),
    }  # fmt: skip


def test_fields_not_reached_yet_are_no_discrepancy_until_both_finish(review: Review) -> None:
    sid = review.studies[0].id
    enter(review, "reviewer1", sid, otsubo())
    enter(review, "reviewer2", sid, {"country": "Japan"})  # still at the first field
    assert discrepancies(review.store, review.form) == []
    (study,) = compare(review.store, review.form)
    assert (study.waiting, study.extractors, study.fields) == (2, [], [])
    assert mark_finished(review.store, "reviewer1", review.form, sid)
    (study,) = compare(review.store, review.form)
    assert (study.waiting, study.extractors, study.fields) == (1, [], [])  # neither who nor what
    assert accept_agreements(review.store, review.form, "adjudicator") == 0
    enter(review, "reviewer2", sid, otsubo(events=21))  # a misread
    assert mark_finished(review.store, "reviewer2", review.form, sid)
    (study,) = compare(review.store, review.form)
    assert study.waiting == 0 and study.extractors == ["reviewer1", "reviewer2"]
    assert [(c.key, c.values) for c in study.discrepancies] == [
        ("outcome.favourable_outcome.events", {"reviewer1": "22", "reviewer2": "21"})
    ]
    # the other included studies nobody has begun are waiting for both reviewers
    ids = [s.id for s in review.studies]
    waiting = {sc.study_id: sc.waiting for sc in compare(review.store, review.form, ids)}
    assert waiting == {sid: 0, **{i: 2 for i in ids[1:]}}
    # reopening takes the study out of the comparison again
    assert reopen(review.store, "reviewer2", sid)
    assert discrepancies(review.store, review.form) == []
    assert not reopen(review.store, "reviewer2", sid)  # not finished: nothing to do


def test_the_adjudicator_extracts_as_one_of_the_team(review: Review) -> None:
    """A two-person team: reviewer1 and the lead (adjudicator) extract; the lead's finished
    extraction is compared like a reviewer's."""
    sid = review.studies[0].id
    enter(review, "reviewer1", sid, otsubo())
    enter(review, "adjudicator", sid, otsubo(events=21))
    assert mark_finished(review.store, "reviewer1", review.form, sid)
    assert mark_finished(review.store, "adjudicator", review.form, sid)
    (study,) = compare(review.store, review.form, [sid])
    assert study.waiting == 0 and study.extractors == ["adjudicator", "reviewer1"]
    assert [(c.key, c.values) for c in study.discrepancies] == [
        ("outcome.favourable_outcome.events", {"adjudicator": "21", "reviewer1": "22"})
    ]


def test_finishing_is_refused_naming_every_field_to_fix(review: Review) -> None:
    sid = review.studies[0].id
    label = review.studies[0].label
    enter(review, "reviewer1", sid, {"country": "Japan", "mean_age": "58,5",
                                     "outcome.mortality.events": "3"})  # fmt: skip
    with pytest.raises(InputError) as err:
        mark_finished(review.store, "reviewer1", review.form, sid)
    assert err.value.message == (
        f"{label}: not finished, 4 fields to fix: Study design: required; Patients: required; "
        "Mean age: use a decimal point, not a comma (got '58,5'); "
        "Mortality (90 days): total missing (give both or neither)"
    )
    assert my_finished(review.store, "reviewer1", [sid]) == set()
    with review.store.read() as s:  # a refusal changes nothing
        assert s.exec(select(ExtractionStatus)).all() == []
        assert (
            s.exec(select(AuditEntry).where(AuditEntry.entity == "extraction_status")).all() == []
        )
    with pytest.raises(InputError, match="study 9999: no such study"):
        mark_finished(review.store, "reviewer1", review.form, 9999)


def test_finish_and_reopen_are_audited(review: Review) -> None:
    sid = review.studies[1].id
    enter(review, "reviewer2", sid, otsubo())
    assert mark_finished(review.store, "reviewer2", review.form, sid)
    assert not mark_finished(review.store, "reviewer2", review.form, sid)  # already: no new row
    assert reopen(review.store, "reviewer2", sid)
    assert mark_finished(review.store, "reviewer2", review.form, sid)
    with review.store.read() as s:
        (status,) = s.exec(select(ExtractionStatus)).all()
        audits = s.exec(
            select(AuditEntry)
            .where(AuditEntry.entity == "extraction_status")
            .order_by(AuditEntry.id)  # type: ignore[arg-type]
        ).all()
    assert status.study_id == sid and status.finished_at is not None
    assert [(a.actor, a.action, a.entity_id) for a in audits] == [
        ("reviewer2", "extraction.finished", status.id),
        ("reviewer2", "extraction.reopened", status.id),
        ("reviewer2", "extraction.finished", status.id),
    ]
    first, reopened, again = audits
    assert first.before is None and first.after is not None
    assert first.after["study_id"] == sid and first.after["finished_at"]
    assert reopened.before == first.after
    assert reopened.after == {"study_id": sid, "finished_at": None}
    assert again.before == {"study_id": sid, "finished_at": None}
    assert again.after == {"study_id": sid, "finished_at": status.finished_at.isoformat()}


def test_a_reviewer_reads_only_their_own_status(review: Review) -> None:
    a, b = review.studies[0].id, review.studies[1].id
    enter(review, "reviewer1", a, otsubo())
    enter(review, "reviewer2", b, otsubo())
    mark_finished(review.store, "reviewer1", review.form, a)
    mark_finished(review.store, "reviewer2", review.form, b)
    ids = [s.id for s in review.studies]
    assert my_finished(review.store, "reviewer1", ids) == {a}
    assert my_finished(review.store, "reviewer2", ids) == {b}
    assert my_finished(review.store, "adjudicator", ids) == set()
    with pytest.raises(InputError, match="no reviewer named 'reviewer3'"):
        my_finished(review.store, "reviewer3", ids)


def test_progress_lists_a_reviewers_own_studies_and_nothing_of_the_others(review: Review) -> None:
    """``reviewflow extraction progress``: the CLI list of a reviewer's finished studies."""
    import json

    from tests.conftest import run_cli

    first, second = review.studies[0], review.studies[1]
    enter(review, "reviewer1", first.id, otsubo())
    assert mark_finished(review.store, "reviewer1", review.form, first.id)
    enter(review, "reviewer1", second.id, {"country": "Japan", "mean_age": "58,5"})
    enter(review, "reviewer2", second.id, otsubo())  # the other reviewer's work: not shown
    assert mark_finished(review.store, "reviewer2", review.form, second.id)

    code, out, err = run_cli(
        "extraction", "progress", "--reviewer", "reviewer1", "--json", cwd=review.workspace.root
    )
    assert code == 0, err
    rows = {r["study"]: r for r in json.loads(out)}
    assert list(rows) == [st.label for st in review.studies]
    total = len(review.form.keys())
    assert rows[first.label] == {
        "study": first.label, "filled": 5, "fields": total, "required_missing": 0,
        "problems": 0, "finished": True,
    }  # fmt: skip
    assert rows[second.label] == {
        "study": second.label, "filled": 2, "fields": total, "required_missing": 2,
        "problems": 1, "finished": False,
    }  # fmt: skip
    assert all(r["filled"] == 0 and not r["finished"] for r in list(rows.values())[2:])

    code, out, _err = run_cli(
        "extraction", "progress", "--reviewer", "reviewer1", cwd=review.workspace.root
    )
    lines = out.splitlines()
    assert lines[0] == f"{first.label}  5/{total} fields  finished"
    assert lines[1] == f"{second.label}  2/{total} fields  open (2 required empty, 1 invalid)"
    assert lines[2].endswith(f"0/{total} fields  not started")
    assert lines[-1] == f"reviewer1: 1 of {len(review.studies)} included studies finished"
    code, _out, err = run_cli(
        "extraction", "progress", "--reviewer", "nobody", cwd=review.workspace.root
    )
    assert code == 1 and "nobody" in err
