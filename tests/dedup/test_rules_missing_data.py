"""Rules that merge true duplicates one source garbled or left incomplete: missing data is not
disagreement. Each rule is tested on small hand-built record pairs (shaped like real records of
the haematology set) in both directions: it merges what it should and nothing near it."""

from __future__ import annotations

from reviewflow.dedup.normalise import split_title, title_after_heading
from reviewflow.records import RecordData
from tests.dedup.test_rules import merged, queued, rec

LETTER = "More on eculizumab for congenital atypical hemolytic-uremic syndrome"


def test_citation_of_the_answered_article_is_not_part_of_a_title() -> None:
    cited = LETTER + "... N Engl J Med. 2009 Jan 29;360(5):544-6"
    assert split_title(cited)[0] == split_title(LETTER)[0]
    assert split_title("Effect of X on Y. Lancet 2001;357:1-9")[0] == "effect of x on y"
    # numbers that belong to the title stay
    assert split_title("Dose (mg; 5:1 ratio) in children")[0] == "dose mg 5 1 ratio in children"
    place = dict(doi="", volume="360", issue="20", pages="2142-2143", year=2009)
    a = rec(title=cited, authors=["Shin JI", "Lee JS"], **place)
    b = rec(title="More on Eculizumab for Congenital Atypical Hemolytic–Uremic Syndrome",
            authors=["Shin"], **place)  # fmt: skip
    assert merged(a, b)


HEADED = "Thrombotic microangiopathy: can liver-kidney transplantation cure aHUS?"
BARE = "Can liver-kidney transplantation cure aHUS?"
REVIEWS = dict(journal="Nature Reviews Nephrology", volume="5", issue="10", pages="556-557",
               year=2009, doi="")  # fmt: skip


def test_title_with_a_section_heading_merges_at_the_same_place() -> None:
    assert title_after_heading(HEADED) == "can liver kidney transplantation cure ahus"
    assert title_after_heading("Eculizumab: a review") == ""  # too short to be a title
    assert title_after_heading("A long heading of many words here: the rest of it all") == ""
    # the author lists differ (a Korean name in two orders): journal, volume and page decide
    a = rec(title=BARE, authors=["Il Cheong H"], **REVIEWS)
    b = rec(title=HEADED, authors=["Cheong HI"], **REVIEWS)
    assert merged(a, b)


def test_title_with_a_section_heading_elsewhere_does_not_merge() -> None:
    a = rec(title=BARE, authors=["Cheong HI"], **REVIEWS)
    assert not merged(a, rec(title=HEADED, authors=["Cheong HI"], **{**REVIEWS, "pages": "601"}))
    assert not merged(a, rec(title=HEADED, authors=["Cheong HI"], **{**REVIEWS, "volume": "6"}))
    no_place = {**REVIEWS, "volume": "", "issue": "", "pages": ""}
    assert not merged(a, rec(title=HEADED, authors=["Cheong HI"], **no_place))


ABSTRACT_TITLE = "Activation of complement during liver transplantation in atypical HUS"
AUTHORS = ["Koskinen A", "Tukiainen E", "Nordin A"]


def _meeting_abstract() -> RecordData:
    return rec(title=ABSTRACT_TITLE, authors=AUTHORS, year=2010, doi="", volume="", issue="",
               pages="", journal="Scandinavian Journal of Immunology.Conference: 41st Meeting")  # fmt: skip


def _journal_record(**changes: object) -> RecordData:
    fields = dict(title=ABSTRACT_TITLE, authors=AUTHORS, year=2010, doi="", volume="71",
                  issue="6", pages="507-507", journal="Scandinavian Journal of Immunology")  # fmt: skip
    fields.update(changes)
    return rec(**fields)


def test_meeting_abstract_without_pages_merges_with_its_printed_abstract() -> None:
    abstract = _meeting_abstract()
    assert merged(abstract, _journal_record())  # a single page
    assert merged(abstract, _journal_record(issue="S2", pages="499-711"))  # a supplement
    assert merged(abstract, _journal_record(issue="Suppl 1", pages="23"))


def test_meeting_abstract_without_pages_and_a_full_article_go_to_a_person() -> None:
    abstract = _meeting_abstract()
    article = _journal_record(pages="501-512")
    assert not merged(abstract, article)
    assert queued(abstract, article)
    # the same single page but other authors: not the same abstract
    other = _journal_record(authors=["Smith J", "Jones K"])
    assert not merged(abstract, other)


GAIN = "Gain-of-function mutations in complement factor B are associated with atypical HUS"
PNAS = dict(journal="Proceedings of the National Academy of Sciences of the United States "
            "of America", volume="104", year=2007, doi="")  # fmt: skip


def test_same_title_authors_volume_and_page_merge_whatever_the_issue() -> None:
    a = rec(title=GAIN, authors=["de Jorge EG", "Harris CL", "Esparza-Gordillo J"], issue="1",
            pages="240-245", **PNAS)  # fmt: skip
    b = rec(title=GAIN + ".", authors=["de Jorge EG", "Harris CL", "Esparza-Gordillo J"],
            issue="25", pages="240-240", **PNAS)  # fmt: skip
    assert merged(a, b)


def test_issue_conflict_stays_for_columns_and_single_authors() -> None:
    # a journal paginated by issue: the editor's column on page 1 of every issue
    column = dict(title="Editorial", authors=["Smith J", "Jones K"], pages="1-2", **PNAS)
    assert not merged(rec(issue="1", **column), rec(issue="2", **column))
    single = dict(title=GAIN, authors=["de Jorge EG"], pages="240-245", **PNAS)
    assert not merged(rec(issue="1", **single), rec(issue="25", **single))
    # a different first page is still a different place
    three = ["de Jorge EG", "Harris CL", "Esparza-Gordillo J"]
    assert not merged(rec(title=GAIN, authors=three, issue="1", pages="240-245", **PNAS),
                      rec(title=GAIN, authors=three, issue="25", pages="19", **PNAS))  # fmt: skip


MEETING = "Pediatric Nephrology.Conference: 44th Annual Scientific Meeting of the ESPN"


def test_volume_lost_and_fields_shifted_one_column_is_not_a_conflict() -> None:
    fields = dict(title="The treatment of atypical HUS", authors=["Loirat C"], year=2011,
                  journal=MEETING, doi="")  # fmt: skip
    shifted = rec(volume="", issue="26", pages="9", **fields)
    whole = rec(volume="26", issue="9", pages="1746-1746", **fields)
    assert merged(shifted, whole)
    # not the same shape: issue 27 against volume 26 is a real difference
    assert not merged(rec(volume="", issue="27", pages="9", **fields), whole)


STREP = "Atypical hemolytic uremic syndrome associated with group A beta hemolytic streptococcus"
NEPHROL = dict(journal="Pediatric Nephrology", volume="19", issue="8", year=2004, doi="")


def test_a_page_range_containing_another_page_is_not_the_same_item() -> None:
    """A letter block (943-945) holds the letter (943-944) and its reply (945): the same first
    page is the letter; a page inside the range is not evidence of the reply."""
    letters = ["Yildiz B", "Kural N", "Yarar C"]
    block = rec(title=STREP + " (multiple letters) [1]", authors=letters, pages="943-945",
                **NEPHROL)  # fmt: skip
    letter = rec(title=STREP, authors=letters, pages="943-944", **NEPHROL)
    reply = rec(title=STREP + " - Reply", authors=["Shepherd AB", "Palmer AL"], pages="945",
                **NEPHROL)  # fmt: skip
    assert merged(block, letter)
    assert not merged(block, reply)
    assert not merged(letter, reply)
