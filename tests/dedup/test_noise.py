"""Export noise that must not keep two records of one article apart (issue 15), each against
the precision guard it must not weaken. Base: a real article (Legendre et al., N Engl J Med
2013;368(23):2169-81, as PubMed and Embase export it); the noise is what real exports do."""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow.acquire.readers._common import split_authors
from reviewflow.dedup.normalise import prepare
from reviewflow.dedup.pipeline import deduplicate
from reviewflow.records import RecordData
from tests.dedup.helpers import merged, queued
from tests.dedup.test_rules import BASE as RULES_BASE

BASE: dict[str, Any] = {
    **RULES_BASE,
    "title": "Terminal complement inhibitor eculizumab in atypical hemolytic-uremic syndrome",
    "authors": ["Legendre CM", "Licht C", "Muus P", "Greenbaum LA", "Babu S"],
    "pages": "2169-2181",
    "doi": "",
}


def rec(**changes: object) -> RecordData:
    return RecordData(**{**BASE, **changes})  # type: ignore[arg-type]


# -- the issue field holds a database record number ----------------------------------------


@pytest.mark.parametrize("number", ["20130604", "368507", "2013-23847", "CN-00869312"])
def test_record_number_in_issue_field_merges(number: str) -> None:
    assert merged(rec(), rec(issue=number, journal="N Engl J Med", pages="2169-81"))


def test_record_number_in_issue_field_with_one_author_list_cut_merges() -> None:
    other = rec(issue="2013371125", authors=["Legendre C"], pages="2169-81")
    assert merged(rec(), other)


def test_real_different_issues_at_different_pages_stay_apart() -> None:
    """A different issue is still evidence when both look like issue numbers."""
    assert not merged(rec(), rec(issue="24", pages="2270-2281"))


# -- translated titles ---------------------------------------------------------------------

GERMAN = dict(
    title="Eculizumab beim atypischen hämolytisch-urämischen Syndrom",
    journal="Deutsche Medizinische Wochenschrift",
    volume="138",
    issue="41",
    pages="2077-2080",
    authors=["Licht C", "Muus P", "Legendre CM"],
)


def test_bracketed_translation_against_original_language_title_merges() -> None:
    pubmed = rec(**{**GERMAN, "title": "[Eculizumab in atypical hemolytic uremic syndrome]."})
    embase = rec(**GERMAN)
    assert merged(pubmed, embase)


def test_original_and_translation_in_one_field_merges() -> None:
    pubmed = rec(**{**GERMAN, "title": "[Eculizumab in atypical hemolytic uremic syndrome]."})
    both = rec(
        **{
            **GERMAN,
            "title": "Eculizumab beim atypischen hämolytisch-urämischen Syndrom; "
            "Eculizumab in atypical hemolytic uremic syndrome",
        }
    )
    assert merged(pubmed, both)
    assert merged(rec(**GERMAN), both)


FRENCH = dict(
    journal="Nephrologie & Therapeutique",
    volume="9",
    issue="4",
    pages="206-212",
    year=2013,
    authors=["Fremeaux-Bacchi V", "Sellier-Leclerc AL", "Loirat C"],
)


def test_translated_title_far_from_the_original_merges_at_the_same_place() -> None:
    """PubMed's bracketed English title against the French original (Embase): no words in
    common to speak of, but journal, year, volume, first page and authors agree."""
    pubmed = rec(**{**FRENCH, "title": "[Atypical hemolytic uremic syndrome: the place of "
                    "eculizumab]. [Article in French]"})  # fmt: skip
    embase = rec(**{**FRENCH, "title": "Syndrome hémolytique et urémique atypique : place de "
                    "l'éculizumab", "journal": "Nephrol Ther"})  # fmt: skip
    assert merged(pubmed, embase)


def test_a_translated_title_does_not_merge_another_paper_by_the_same_authors() -> None:
    pubmed = rec(**{**FRENCH, "title": "[Atypical hemolytic uremic syndrome: the place of "
                    "eculizumab]. [Article in French]"})  # fmt: skip
    other = rec(**{**FRENCH, "title": "Microangiopathies thrombotiques de l'enfant",
                   "pages": "213-220"})  # fmt: skip
    assert not merged(pubmed, other)


def test_a_semicolon_in_brackets_does_not_split_a_title() -> None:
    title = "Implications of the initial mutations in membrane cofactor protein (MCP; CD46)"
    assert prepare(rec(title=title), 0).title_alts == ()
    halves = prepare(rec(title="Eculizumab beim atypischen HUS; Eculizumab in atypical HUS"), 0)
    assert halves.title_alts == ("eculizumab beim atypischen hus", "eculizumab in atypical hus")


def test_two_different_papers_at_one_supplement_page_stay_apart() -> None:
    """Two abstracts by one group on one page of a supplement: different titles are
    different papers, translated or not."""
    a = rec(title="Eculizumab in atypical HUS: two-year outcomes", volume="24", issue="Suppl 1",
            pages="S12", journal="Nephrology Dialysis Transplantation")  # fmt: skip
    b = rec(title="[Complement factor H mutations in French children]", volume="24",
            issue="Suppl 1", pages="S12", journal="Nephrology Dialysis Transplantation")  # fmt: skip
    assert not merged(a, b)


# -- pages -----------------------------------------------------------------------------------


def test_pages_turned_into_a_date_by_a_spreadsheet_merge() -> None:
    short = dict(pages="1-8", volume="9", issue="1", journal="BMC Nephrology", year=2008)
    assert merged(rec(**short), rec(**{**short, "pages": "01-Aug"}))
    assert merged(rec(**short), rec(**{**short, "pages": "Aug-01"}))
    assert merged(rec(**short, doi="10.1186/1471-2369-9-1"), rec(**{**short, "pages": "8-Jan"}))


def test_pages_missing_in_one_record_merge() -> None:
    assert merged(rec(), rec(pages="", journal="N Engl J Med"))


def test_multi_range_pages_merge() -> None:
    assert merged(rec(pages="233-8, 230-5", volume="9", issue="3"),
                  rec(pages="230-235", volume="9", issue="3"))  # fmt: skip
    assert merged(rec(pages="233-8, 230-5", volume="9", issue="3"),
                  rec(pages="233-238", volume="9", issue="3"))  # fmt: skip


def test_different_pages_in_one_volume_still_do_not_merge() -> None:
    assert not merged(rec(), rec(pages="2270-2281"))
    assert queued(rec(), rec(pages="2270-2281"))


# -- journals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("New England Journal of Medicine", "The New England journal of medicine [Electronic Resource]"),
        ("N Engl J Med", "New England Journal of Medicine"),
        ("JAMA", "Journal of the American Medical Association"),
        ("BMJ", "British Medical Journal"),
        ("Proc Natl Acad Sci U S A", "Proceedings of the National Academy of Sciences of the United States of America"),
    ],
)  # fmt: skip
def test_journal_spellings_merge(one: str, other: str) -> None:
    assert merged(rec(journal=one), rec(journal=other, issue=""))


def test_abbreviated_journal_names_with_possessives_and_meetings_merge() -> None:
    women = rec(journal="Journal of the American Medical Women's Association", volume="59",
                issue="", year=2004, pages="54-60")  # fmt: skip
    assert merged(women, rec(journal="J Am Med Wom Assoc (1972)", volume="", issue="",
                             year=2004, pages="54-60"))  # fmt: skip
    meeting = dict(volume="", issue="", pages="", year=2012)
    full = rec(journal="54th ASH Annual Meeting and Exposition", **meeting)
    short = rec(journal="54th ASH Annu Meet Expo", authors=["Legendre C", "Licht C", "Muus P"],
                **meeting)  # fmt: skip
    assert merged(full, short)


def test_journal_acronym_counts_when_nothing_else_places_the_record() -> None:
    online = rec(journal="JAMA", volume="", issue="", pages="", year=2012)
    assert merged(online, rec(journal="Journal of the American Medical Association"))
    # an acronym is the whole name: "BMJ" is not "BMJ Case Reports"
    case_reports = rec(journal="British Medical Journal Case Reports", volume="", issue="",
                       pages="", year=2012)  # fmt: skip
    assert not merged(rec(journal="BMJ"), case_reports)


def test_missing_volume_merges() -> None:
    assert merged(rec(), rec(volume="", journal="N Engl J Med [Electronic Resource]"))


def test_different_journals_still_stay_apart() -> None:
    a = rec(journal="Kidney International", volume="84", pages="1-8")
    b = rec(journal="Pediatric Nephrology", volume="28", pages="1-8")
    assert not merged(a, b)


# -- authors ---------------------------------------------------------------------------------


def test_truncated_author_list_merges() -> None:
    assert merged(rec(), rec(authors=["Legendre CM", "Licht C", "et al."]))
    assert merged(rec(), rec(authors=["Legendre CM"]))


def test_given_names_against_initials_merge() -> None:
    """As the readers give them: "Christophe M. Legendre" and "Legendre, Christophe M." are
    both "Legendre CM"."""
    full = split_authors("Christophe M. Legendre; Christoph Licht; Petra Muus; Larry A. "
                         "Greenbaum; Sunil Babu")  # fmt: skip
    assert merged(rec(), rec(authors=full, issue="", pages="2169-81"))
    online_first = rec(authors=full, year=2012, volume="", issue="", pages="")
    assert merged(rec(), online_first)  # nothing but title, journal and authors to go on
    commas = split_authors("Legendre, Christophe M. and Licht, Christoph and Muus, Petra")
    assert merged(rec(), rec(authors=commas, issue="", pages="2169-81"))


def test_et_al_is_not_an_author() -> None:
    assert split_authors("Legendre CM; Licht C; et al.") == ["Legendre CM", "Licht C"]
    assert split_authors("Legendre, C. M. and others") == ["Legendre CM"]
    cut = rec(authors=split_authors("Legendre CM and et al."), volume="", issue="", pages="")
    assert merged(rec(), cut)


def test_other_authors_on_an_identical_title_elsewhere_stay_apart() -> None:
    other = rec(authors=["Sheridan D", "Yu ZX", "Zhang Y"], journal="Blood", volume="120",
                issue="", pages="3470")  # fmt: skip
    assert not merged(rec(), other)


# -- markup and Greek letters in titles ------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Role of TNF-α in CD4<sup>+</sup> T cells", "Role of TNF-alpha in CD4+ T cells"),
        ("<i>In vitro</i> activity of β-lactams", "In vitro activity of beta-lactams"),
        ("Role of TNF-&alpha; in CD4 T cells", "Role of TNF-α in CD4 T cells"),
        ("Dose of 10<sup>6</sup> cells/kg of CD34<sup>+</sup> cells",
         "Dose of 106 cells/kg of CD34+ cells"),
    ],
)  # fmt: skip
def test_markup_and_greek_letters_merge(one: str, other: str) -> None:
    assert merged(rec(title=one), rec(title=other, issue=""))


def test_a_different_number_in_the_title_still_stays_apart() -> None:
    a = rec(title="Eculizumab in atypical HUS: 2-year results", pages="")
    b = rec(title="Eculizumab in atypical HUS: 3-year results", pages="")
    assert not merged(a, b)


# -- the guards hold against every kind of noise above ---------------------------------------


def test_erratum_with_record_number_in_issue_still_not_merged() -> None:
    erratum = rec(title="Erratum: Terminal complement inhibitor eculizumab in atypical "
                  "hemolytic-uremic syndrome", issue="20130918", pages="2487")  # fmt: skip
    assert not merged(rec(issue="2013371125"), erratum)
    unmarked = rec(issue="20130918", pages="2487", authors=["Legendre CM"])
    assert not merged(rec(issue="2013371125"), unmarked)  # an erratum without the word


def test_part_one_and_two_with_mangled_pages_still_not_merged() -> None:
    a = rec(title="Atypical HUS, part I: diagnosis", pages="01-Aug", volume="9", issue="1")
    b = rec(title="Atypical HUS, part II: diagnosis", pages="1-8", volume="9", issue="1")
    assert not merged(a, b)


def test_different_dois_with_record_number_in_issue_still_not_merged() -> None:
    a = rec(doi="10.1056/NEJMoa1208981")
    b = rec(doi="10.1056/NEJMoa1208982", issue="2013371125")
    assert not merged(a, b)


def test_different_trial_registrations_still_not_merged() -> None:
    fields = dict(authors=["Alexion Pharmaceuticals"], year=2011, journal="", volume="",
                  issue="", pages="")  # fmt: skip
    a = rec(title="Open Label Controlled Trial of Eculizumab in Adult Patients With Plasma "
            "Therapy-Sensitive aHUS", **fields)  # fmt: skip
    b = rec(title="Open Label Controlled Trial of Eculizumab in Adult Patients With Plasma "
            "Therapy-Resistant aHUS", **fields)  # fmt: skip
    assert not merged(a, b)


# -- a letter and its reply indexed as one item (haematology set, ids 8, 9, 39, 40) -----------

STREP = "Atypical hemolytic uremic syndrome associated with group A beta hemolytic streptococcus"
NEPHROL = dict(journal="Pediatric Nephrology", year=2004, volume="19", issue="8")
LETTER_AUTHORS = ["Yildiz B", "Kural N", "Yarar C"]
REPLY_AUTHORS = ["Shepherd AB", "Palmer AL", "Baliga R"]


def test_a_letters_block_joins_the_letter_and_its_reply() -> None:
    """Embase indexes the letter and its reply as one "(multiple letters)" record with every
    author of both; PubMed and Web of Science have them apart. One item, one group."""
    block = rec(title=STREP + " (multiple letters) [1]", authors=LETTER_AUTHORS + REPLY_AUTHORS,
                pages="943-945", **NEPHROL)  # fmt: skip
    letter = rec(title=STREP, authors=LETTER_AUTHORS, pages="943-944", **NEPHROL)
    reply = rec(title=STREP + " - Reply", authors=REPLY_AUTHORS, pages="945", **NEPHROL)
    copy = rec(title=STREP + " - Reply", authors=["Shepherd, Amy B.", "Palmer, April L.",
               "Baliga, Radhakrishna"], pages="945-945", **NEPHROL)  # fmt: skip
    result = deduplicate([block, letter, reply, copy])
    assert len(set(result.group_of)) == 1


def test_a_letter_and_its_reply_alone_stay_apart() -> None:
    letter = rec(title=STREP, authors=LETTER_AUTHORS, pages="943-944", **NEPHROL)
    reply = rec(title=STREP + " - Reply", authors=REPLY_AUTHORS, pages="945", **NEPHROL)
    assert not merged(letter, reply)
    # a reply copy that lost its "- Reply" still does not join the letter to the reply
    unmarked = rec(title=STREP, authors=REPLY_AUTHORS, pages="945", **NEPHROL)
    result = deduplicate([letter, reply, unmarked])
    assert result.group_of[0] != result.group_of[1]
    assert result.group_of[0] != result.group_of[2]


def test_a_letters_block_without_the_reply_authors_is_not_the_reply() -> None:
    block = rec(title=STREP + " (multiple letters) [1]", authors=LETTER_AUTHORS,
                pages="943-945", **NEPHROL)  # fmt: skip
    reply = rec(title=STREP + " - Reply", authors=REPLY_AUTHORS, pages="945", **NEPHROL)
    assert not merged(block, reply)
