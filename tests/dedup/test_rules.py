"""Classification rules on hand-made pairs built from real records' shapes."""

from __future__ import annotations

from typing import Any

from reviewflow.dedup.pipeline import deduplicate
from reviewflow.records import RecordData
from tests.dedup.helpers import merged, queued

BASE: dict[str, Any] = dict(
    title="Eculizumab in atypical haemolytic uraemic syndrome: a prospective cohort study",
    authors=["Legendre CM", "Licht C", "Muus P"],
    year=2013,
    journal="New England Journal of Medicine",
    volume="368",
    issue="23",
    pages="2169-2181",
    doi="10.1056/NEJMoa1208981",
)


def rec(**changes: object) -> RecordData:
    fields = dict(BASE)
    fields.update(changes)
    return RecordData(**fields)  # type: ignore[arg-type]


def test_export_noise_still_merges() -> None:
    other = rec(
        title="[Eculizumab in atypical hemolytic uremic syndrome: a prospective cohort study].",
        authors=["Legendre C", "Licht C", "Muus P"],
        journal="N Engl J Med",
        pages="2169-81",
        doi="",
        issue="",
    )
    assert merged(rec(), other)


def test_same_doi_with_url_prefix_merges() -> None:
    assert merged(rec(), rec(doi="https://doi.org/10.1056/nejmoa1208981", journal="", pages=""))


def test_same_pmid_merges() -> None:
    assert merged(rec(pmid="23738544"), rec(pmid="23738544", title="Eculizumab", doi=""))


def test_different_non_preprint_dois_never_merge() -> None:
    a, b = rec(), rec(doi="10.1056/NEJMoa9999999")
    assert not merged(a, b)
    assert queued(a, b)


def test_preprint_and_published_version_merge() -> None:
    preprint = rec(doi="10.1101/2012.01.01.123456", journal="medRxiv", volume="", issue="",
                   pages="", year=2012)  # fmt: skip
    assert merged(preprint, rec())


def test_online_first_and_issue_version_merge() -> None:
    online = rec(year=2012, volume="", issue="", pages="", doi="")
    assert merged(online, rec(doi=""))


def test_part_one_and_part_two_never_merge() -> None:
    a = rec(title="Atypical HUS, part I: diagnosis", doi="", pages="")
    b = rec(title="Atypical HUS, part II: diagnosis", doi="", pages="")
    assert not merged(a, b)


def test_erratum_never_merges_with_its_article() -> None:
    notice = rec(title="Erratum: " + BASE["title"], pages="2480", issue="26", doi="")
    assert not merged(rec(doi=""), notice)
    wos = rec(title=BASE["title"] + " (vol 368, pg 2169, 2013)", pages="2480", doi="")
    assert not merged(rec(doi=""), wos)


def test_conference_abstract_against_article_is_configurable() -> None:
    abstract = rec(journal="Annual Meeting of the American Society of Nephrology", volume="",
                   issue="", pages="", doi="", record_type="conference", year=2013)  # fmt: skip
    article = rec(doi="")
    assert not merged(abstract, article)
    assert not queued(abstract, article)
    from reviewflow.dedup.classify import DedupSettings

    assert not merged(abstract, article, settings=DedupSettings(conference_vs_article="maybe"))
    assert deduplicate([abstract, article], DedupSettings(conference_vs_article="maybe")).maybe


def test_generic_titles_need_everything_to_agree() -> None:
    a = rec(title="Editorial", authors=["Smith J"], doi="", pages="2100")
    assert not merged(a, rec(title="Editorial", authors=["Smith J"], doi="", pages="2200"))
    assert merged(a, rec(title="Editorial.", authors=["Smith J"], doi="", pages="2100"))


def test_different_pages_in_same_volume_never_merge() -> None:
    assert not merged(rec(doi=""), rec(doi="", pages="2200-2210", issue=""))


def test_clustering_refuses_chains_across_conflicting_dois() -> None:
    a = rec()
    b = rec(doi="", issue="")
    c = rec(doi="10.1056/NEJMoa0000001")
    result = deduplicate([a, b, c])
    assert result.group_of[0] != result.group_of[2]


def test_sparse_records_merge_on_title_authors_year_only() -> None:
    sparse = dict(title=BASE["title"], authors=BASE["authors"], year=2013)
    assert merged(RecordData(**sparse), RecordData(**{**sparse, "title": BASE["title"].upper()}))  # type: ignore[arg-type]
    single = dict(sparse, authors=["Legendre CM"])
    a, b = RecordData(**single), RecordData(**single)  # type: ignore[arg-type]
    assert not merged(a, b)
    assert queued(a, b)


def test_blocking_keeps_compared_pairs_near_linear() -> None:
    from reviewflow.dedup.block import candidate_pairs
    from reviewflow.dedup.normalise import prepare_all
    from tests.dedup.helpers import SETS, labelled

    records = [r for name in SETS for r in labelled(name)]
    pairs = candidate_pairs(prepare_all(records))
    assert len(records) > 3000
    assert len(pairs) < 3 * len(records)


def test_meeting_abstract_in_same_journal_needs_the_same_page() -> None:
    abstract = rec(journal="New England Journal of Medicine.Conference: Annual Meeting 2013",
                   issue="Suppl 1", pages="", doi="")  # fmt: skip
    article = rec(doi="", pages="", issue="")
    assert not merged(abstract, article)
    assert queued(abstract, article)
    same_page = rec(journal="New England Journal of Medicine.Conference: Annual Meeting 2013",
                    doi="")  # fmt: skip
    assert merged(same_page, rec(doi=""))


def test_merge_keeps_the_most_complete_record_and_fills_gaps() -> None:
    from reviewflow.dedup.merge import choose_kept, merged_record

    sparse = rec(doi="", abstract="", source_key="embase-1")
    full = rec(pmid="23738544", abstract="Background …", issue="", source_key="pubmed-1")
    assert choose_kept([sparse, full], [0, 1]) == 1
    merged = merged_record([sparse, full], [0, 1])
    assert merged.pmid == "23738544" and merged.issue == "23"  # issue filled from the other
    assert merged.extra["merged_from"] == ["embase-1", "pubmed-1"]
    assert full.extra == {}  # the source records are not changed
