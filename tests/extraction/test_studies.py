"""Included reports become studies; several reports of one study are linked (SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from reviewflow.errors import InputError
from reviewflow.extraction.studies import (
    default_label,
    first_author_surname,
    list_studies,
    merge_studies,
    rename_study,
    split_report,
    sync_studies,
)
from reviewflow.extraction.values import save_value
from reviewflow.store.models import AuditEntry, Resolution, StudyReport
from tests.extraction.conftest import Review


@pytest.mark.parametrize(
    ("authors", "surname"),
    [
        (["Smith JA", "Doe J"], "Smith"),
        (["D E Kellstein", "J A Waksman"], "Kellstein"),
        (["I Wiklund"], "Wiklund"),
        (["Chang, Yu"], "Chang"),
        (
            ["European Stroke Organisation Trialists Group"],
            "European Stroke Organisation Trialists Group",
        ),
        ([], "Anonymous"),
    ],
)
def test_first_author_surname(authors: list[str], surname: str) -> None:
    assert first_author_surname(authors) == surname


def test_default_labels_are_unique() -> None:
    taken = {"Chang 2018"}
    assert default_label(["Chang Y"], 2018, taken) == "Chang 2018b"
    assert default_label(["Chang Y"], 2018, taken | {"Chang 2018b"}) == "Chang 2018c"
    assert default_label(["Chang Y"], None, set()) == "Chang"
    assert default_label([], None, set(), "PMID 10325662") == "PMID 10325662"


def test_each_full_text_include_becomes_a_study(review: Review) -> None:
    # records 1-5 included at full text; record 6 excluded at full text; 7-8 at title/abstract
    assert [
        s.reports[0].record_id for s in sorted(review.studies, key=lambda s: s.id)
    ] == review.record_ids[:5]
    labels = {s.label for s in review.studies}
    # record 3 of the NSAIDs set has no title, authors or year: labelled by its PMID
    assert labels == {
        "Wiklund 2000",
        "Kellstein 1999",
        "PMID 10325662",
        "Wober 1999",
        "Liaropoulos 1999",
    }
    assert all(len(s.reports) == 1 and s.reports[0].is_primary for s in review.studies)
    assert sync_studies(review.store, 2) == []  # nothing new the second time
    with review.store.read() as s:
        created = s.exec(select(AuditEntry).where(AuditEntry.action == "study.create")).all()
    assert len(created) == 5


def test_a_resolution_to_include_adds_a_study(review: Review) -> None:
    excluded_at_ft = review.record_ids[5]
    with review.store.write() as s:
        s.add(Resolution(record_id=excluded_at_ft, stage="full-text", decision="include",
                         resolved_by="adjudicator"))  # fmt: skip
    assert len(sync_studies(review.store, 2)) == 1
    assert len(list_studies(review.store, 2)) == 6


def test_merge_links_reports_and_split_undoes_it(review: Review) -> None:
    a, b = review.studies[0], review.studies[1]
    merged = merge_studies(review.store, "reviewer1", a.label, [b.label])
    assert [r.record_id for r in merged.reports] == [a.reports[0].record_id, b.reports[0].record_id]
    assert [r.is_primary for r in merged.reports] == [True, False]
    studies = list_studies(review.store, 2)
    assert len(studies) == 4  # the emptied study is no longer listed
    with review.store.read() as s:
        links = s.exec(select(StudyReport).where(StudyReport.study_id == a.id)).all()
        merge_audit = s.exec(select(AuditEntry).where(AuditEntry.action == "study.merge")).one()
    assert len(links) == 2
    assert merge_audit.after == {"into": a.label, "reports": [b.reports[0].record_id]}

    new = split_report(review.store, "reviewer1", b.reports[0].record_id)
    assert new.label == b.label + "b"  # the old label still belongs to the emptied study
    assert len(list_studies(review.store, 2)) == 5


def test_merge_refuses_a_study_with_extracted_values(review: Review) -> None:
    a, b = review.studies[0], review.studies[1]
    save_value(review.store, "reviewer1", review.form, b.id, "country", "Sweden")
    with pytest.raises(InputError, match=f"study '{b.label}' already has extracted values"):
        merge_studies(review.store, "reviewer1", a.label, [b.label])
    with pytest.raises(InputError, match="no study 'Nobody 1900'"):
        merge_studies(review.store, "reviewer1", a.label, ["Nobody 1900"])
    with pytest.raises(InputError, match="cannot merge a study into itself"):
        merge_studies(review.store, "reviewer1", a.label, [f"#{a.id}"])


def test_rename_and_split_errors(review: Review) -> None:
    a, b = review.studies[0], review.studies[1]
    rename_study(review.store, "adjudicator", a.label, "Wiklund 2000 (NSAID QoL)")
    assert "Wiklund 2000 (NSAID QoL)" in {s.label for s in list_studies(review.store, 2)}
    with pytest.raises(InputError, match="already labelled"):
        rename_study(review.store, "adjudicator", b.label, "Wiklund 2000 (NSAID QoL)")
    with pytest.raises(InputError, match="already the only report of its study"):
        split_report(review.store, "adjudicator", b.reports[0].record_id)
    with pytest.raises(InputError, match="not linked to any study"):
        split_report(review.store, "adjudicator", review.record_ids[7])
