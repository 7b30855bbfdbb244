"""Accuracy on the labelled sets (bib-dedupe's hand-corrected groups)."""

from __future__ import annotations

import csv

import pytest

from tests.dedup.helpers import DATA, evaluate


@pytest.mark.parametrize("name", ["cytology_screening", "haematology", "special_cases"])
def test_no_false_merges(name: str) -> None:
    _records, _result, metrics = evaluate(name)
    assert metrics.merged_pairs > 0
    assert metrics.precision >= 0.999, f"{metrics.false_merges} false merges"


@pytest.mark.parametrize("name", ["cytology_screening", "special_cases"])
def test_sensitivity(name: str) -> None:
    _records, _result, metrics = evaluate(name)
    assert metrics.sensitivity >= 0.95, f"{metrics.missed} of {metrics.true_pairs} pairs missed"


def test_haematology_sensitivity() -> None:
    """The haematology labels also group errata with their articles, replies with letters,
    meeting abstracts with later articles and registry entries for different age groups;
    reviewflow refuses those merges by rule (issue 4), and sends a meeting abstract and an
    article of the same journal and year without matching pages to a person, so its
    sensitivity here is lower. This pins the level reached so a regression shows (bib-dedupe
    0.11 reaches 0.83 on this set, with 2 false merges)."""
    _records, _result, metrics = evaluate("haematology")
    assert metrics.sensitivity >= 0.76, f"{metrics.missed} of {metrics.true_pairs} pairs missed"


def test_special_cases_maybe_pairs_are_not_merged_but_queued() -> None:
    records, result, _metrics = evaluate("special_cases")
    ids = [r.source_key for r in records]
    queued = {frozenset((ids[p.a], ids[p.b])) for p in result.maybe}
    with (DATA / "special_cases" / "maybe_pairs.csv").open(encoding="utf-8") as fh:
        wanted = {frozenset(row["case"].split(";")) for row in csv.DictReader(fh)}
    assert wanted
    for pair in wanted:
        a, b = sorted(pair)
        assert result.group_of[ids.index(a)] != result.group_of[ids.index(b)]
        assert pair in queued


def test_every_record_in_exactly_one_group() -> None:
    records, result, _metrics = evaluate("cytology_screening")
    members = sorted(i for group in result.groups for i in group)
    assert members == list(range(len(records)))
    assert result.duplicates_removed == len(records) - len(result.groups)
