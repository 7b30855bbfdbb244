"""Stage 4: classify a scored pair as duplicate, maybe (a person decides) or distinct.

The rules are written against the false merges reviewers fear, in this order:

1. Identity: the same PMID is the same record. The same DOI is the same paper when the titles
   agree (or the titles differ but authors, year and pages agree: a translated title); a DOI
   shared by different titles (a supplement's DOI on every abstract in it) goes to a person.
2. Vetoes, never merged: a notice (erratum, correction, retraction, expression of concern,
   comment, reply) against anything that is not the same kind of notice (but an Embase
   "(multiple letters)" record is the letter and the reply it holds; a letter and that reply
   are then not vetoed, only never merged as a pair); Part I against Part II;
   a conference abstract against a journal article (configurable).
3. Conflicts, never merged automatically: different non-preprint DOIs, different PMIDs,
   different volumes, different first pages (in the same volume or not), different issues,
   different numbers in the titles, years two or more apart, a book against an article, clearly
   different journals. A pair with a conflict but near-identical title and authors is *maybe*.
4. Agreement: the better the title and authors agree, the fewer other fields (year, journal,
   volume, issue, first page, abstract) must agree. A generic title ("Editorial", "Reply") needs
   every bibliographic field to agree; a missing title always goes to a person. Records that
   carry no journal, volume, issue or pages (some exports) merge on an identical title, author
   list and year.
5. Known true matches with different identifiers: a preprint and its published version (a
   preprint DOI against a journal DOI) with the same title and authors; the online-first and
   the issue version (a year apart, volume and pages missing in one).
6. Missing or garbled is not different: a title the same but for a short leading "Heading:"
   at the same journal, volume and page; the same title and authors at the same volume and
   first page whatever the issue numbers say (not for generic titles or a single author); a
   meeting abstract without pages against a journal record printed as an abstract (in a
   supplement or on one page) with the same title and authors. (Normalising drops a citation
   of the answered article after a letter's title; scoring repairs a record whose volume was
   lost and whose issue and pages moved up one column.)
7. A field that cannot be what it claims carries no weight rather than a veto (normalise.py):
   an issue of five digits or more is a database record number, not an issue; either range
   of a multi-range page field ("233-8, 230-5") is its first page; a title's halves
   ("original; translation") are both its titles, and a title marked as translated (PubMed's
   brackets, "[Article in French]") need not resemble the original when journal, year,
   volume, pages and authors agree; a superscript lost by one export ("10
   <sup>6</sup>" against "106") is not a different number.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewflow.dedup.normalise import Prepared
from reviewflow.dedup.score import DIFFER, MISSING, SAME, PairScores

DUPLICATE, MAYBE, DISTINCT = "duplicate", "maybe", "distinct"
CONFERENCE_RULES = ("distinct", "maybe", "compare")


@dataclass(frozen=True)
class DedupSettings:
    """``conference_vs_article``: ``distinct`` (never merge a conference abstract with a
    journal article), ``maybe`` (send such pairs to a person) or ``compare`` (treat them like
    any other pair)."""

    conference_vs_article: str = "distinct"
    max_block: int = 60


@dataclass(frozen=True, slots=True)
class Verdict:
    label: str
    method: str  # pmid | doi | auto (how a duplicate was found); "" otherwise
    reason: str
    veto: bool = False  # a rule says these two must never end up in one group


def _at_least(value: float | None, threshold: float) -> bool:
    return value is not None and value >= threshold


def _conflicts(a: Prepared, b: Prepared, s: PairScores) -> list[str]:
    found = []
    if s.pmid == DIFFER:
        found.append("different PMIDs")
    if s.doi == DIFFER and not (a.preprint or b.preprint):
        found.append("different DOIs")
    if s.volume == DIFFER:
        found.append("different volumes")
    if s.pages == DIFFER:
        found.append(
            "different pages in the same volume" if s.volume == SAME else "different pages"
        )
    if s.issue == DIFFER and not _issue_slip(a, b, s):
        found.append("different issues")
    # (after a dropped heading the rest of the titles is identical, numbers included)
    # (a superscript lost in one export: "10<sup>6</sup> cells" and "106 cells")
    if (
        a.title
        and b.title
        and a.title_numbers != b.title_numbers
        and not s.title_heading
        and a.title.replace(" ", "") != b.title.replace(" ", "")
    ):
        found.append("different numbers in the titles")
    if s.year_gap is not None and s.year_gap >= 2 and not (a.preprint or b.preprint):
        found.append(f"years {s.year_gap} apart")
    kinds = {a.kind, b.kind}
    if "article" in kinds and kinds & {"book", "book-chapter"}:
        found.append("a book against an article")
    if (
        s.journal is not None
        and s.journal < 0.7
        and not (a.conference or b.conference or a.preprint or b.preprint)
        # the same volume and pages under a series name and a journal name: one article
        and not (s.volume == SAME and s.pages == SAME)
    ):
        found.append("different journals")
    return found


def _issue_slip(a: Prepared, b: Prepared, s: PairScores) -> bool:
    """The same title by the same authors (two or more) at the same first page of the same
    volume: one article, whatever the issue numbers say. A recurring column ("Editorial",
    generic titles) on page 1 of each issue of a journal paginated by issue keeps the issue
    conflict, as does a single-author record."""
    return (
        s.volume == SAME
        and s.pages == SAME
        and not (a.generic or b.generic)
        and _at_least(s.title, 0.98)
        # 0.8: a compound surname garbled by one source ("Goicoechea de JE", "de Jorge EG")
        and _at_least(s.authors, 0.8)
        and min(len(a.surnames), len(b.surnames)) >= 2
    )


def _printed_abstract_without_pages(a: Prepared, b: Prepared, s: PairScores) -> bool:
    """A meeting abstract without pages against a journal record printed as an abstract (in a
    supplement, or on a single page) with the same title and authors: missing pages are not
    different pages."""
    article = b if a.conference else a
    return (
        s.pages == MISSING
        and (not a.first_page or not b.first_page)
        and article.printed_abstract
        and _at_least(s.title, 0.95)
        and _at_least(s.authors, 0.9)
    )


def _reply_inside(article: Prepared, reply: Prepared, s: PairScores, slack: int) -> bool:
    """``reply`` answers ``article`` in the same journal, volume and year, on a page within
    the article's pages (or ``slack`` pages after them), under the same title."""
    if not (article.notice == "" and reply.notice == "reply"):
        return False
    if not (s.volume == SAME and s.year_gap == 0 and _at_least(s.journal, 0.9)):
        return False
    if not (_at_least(s.title, 0.9) and article.first_digits and reply.first_digits):
        return False
    first, last = int(article.first_digits), int(article.end_digits or article.first_digits)
    return first <= int(reply.first_digits) <= last + slack


def _letters_block_and_reply(a: Prepared, b: Prepared, s: PairScores) -> bool:
    """An Embase "(multiple letters)" record holds the letter and its reply under one title,
    with every author of both: it is the reply as much as the letter."""
    block, reply = (a, b) if a.letters_block else (b, a)
    return (
        block.letters_block
        and _reply_inside(block, reply, s, slack=0)
        and bool(reply.surnames)
        and set(reply.surnames) <= set(block.surnames)
    )


def _letter_and_reply(a: Prepared, b: Prepared, s: PairScores) -> bool:
    """A letter and the reply printed right after it: never merged as a pair, but not vetoed,
    so that a letters block (above) holding both can join them."""
    return _reply_inside(a, b, s, slack=1) or _reply_inside(b, a, s, slack=1)


def _translated_at_same_place(a: Prepared, b: Prepared, s: PairScores) -> bool:
    """One title is a translation of the other (they need not share a word): the same journal,
    year, volume, first and last page and authors (two or more) are the evidence. Not for an
    abstract in a supplement or on one page, where one group may have several."""
    return (
        (a.translated or b.translated)
        and s.year_gap == 0
        and _at_least(s.journal, 0.9)
        and s.volume == SAME
        and s.pages == SAME
        and bool(a.end_digits)
        and a.end_digits == b.end_digits
        and not (a.printed_abstract or b.printed_abstract)
        and _at_least(s.authors, 0.9)
        and min(len(a.surnames), len(b.surnames)) >= 2
    )


def _support(a: Prepared, b: Prepared, s: PairScores) -> int:
    """How many of the other bibliographic fields agree positively. For two conference papers
    the year names the edition, and proceedings titles vary too much to compare."""
    conference_edition = a.conference and b.conference and s.year_gap == 0
    return (
        conference_edition
        + (s.year_gap == 0)
        + _at_least(s.journal, 0.9)
        + (s.volume == SAME)
        + (s.issue == SAME)
        + (s.pages == SAME)
        + _at_least(s.abstract, 0.9)
    )


def classify(a: Prepared, b: Prepared, s: PairScores, settings: DedupSettings) -> Verdict:
    if s.pmid == SAME:
        return Verdict(DUPLICATE, "pmid", "same PMID")

    # -- vetoes ---------------------------------------------------------------------------
    same_place = s.volume == SAME and s.pages == SAME and s.year_gap == 0
    if a.letters_block != b.letters_block and _letters_block_and_reply(a, b, s):
        return Verdict(DUPLICATE, "auto", "a letters block and the reply it holds")
    if a.notice != b.notice and _letter_and_reply(a, b, s):
        return Verdict(DISTINCT, "", "a letter and its reply")
    if a.notice != b.notice and not same_place:
        # (at the same volume and page it is the same item, one database dropped "Erratum:")
        kinds = " vs ".join(k or "article" for k in (a.notice, b.notice))
        return Verdict(DISTINCT, "", f"notice {kinds}", veto=True)
    if a.parts and b.parts and a.parts != b.parts:
        return Verdict(DISTINCT, "", "different parts of a series", veto=True)
    cap_at_maybe = False
    if a.conference != b.conference and s.doi != SAME:
        # An abstract printed in the journal's supplement is indexed as an article by some
        # databases: in the same journal and year at the same page it is the same item; in the
        # same journal and year without pages to compare, a person decides.
        same_journal_year = s.year_gap == 0 and _at_least(s.journal, 0.9)
        rule = settings.conference_vs_article
        if rule == "distinct" and not same_journal_year:
            return Verdict(DISTINCT, "", "conference abstract vs journal article", veto=True)
        if (
            rule != "compare"
            and s.pages != SAME
            and not (same_journal_year and _printed_abstract_without_pages(a, b, s))
        ):
            cap_at_maybe = True

    title = s.title
    if s.doi == SAME:
        if title is None or title >= 0.8 or s.title_prefix:
            return Verdict(DUPLICATE, "doi", "same DOI")
        if (
            _at_least(s.authors, 0.9)
            and (s.year_gap is None or s.year_gap <= 1)
            and (s.pages == SAME or s.volume == SAME)
        ):
            return Verdict(DUPLICATE, "doi", "same DOI, translated title")
        return Verdict(MAYBE, "", "same DOI but different titles")

    conflicts = _conflicts(a, b, s)
    if cap_at_maybe:
        conflicts.append("conference abstract vs journal article")
    authors = s.authors
    if conflicts:
        reason = "; ".join(conflicts)
        if _at_least(title, 0.9) and (authors is None or authors >= 0.8):
            return Verdict(MAYBE, "", reason, veto=True)
        return Verdict(DISTINCT, "", reason, veto=True)

    support = _support(a, b, s)
    if title is None:
        # one record lacks its title: never merged without a person
        if _at_least(authors, 0.9) and support >= 3:
            return Verdict(MAYBE, "", "no title; bibliographic fields agree")
        return Verdict(DISTINCT, "", "no title to compare")

    if a.preprint != b.preprint and s.doi == DIFFER:
        # a preprint and its published version: journal, volume and pages cannot agree
        if title >= 0.9 and _at_least(authors, 0.8) and (s.year_gap or 0) <= 2:
            return Verdict(DUPLICATE, "auto", "preprint and its published version")
        if title >= 0.8:
            return Verdict(MAYBE, "", "preprint and a similar published paper")
        return Verdict(DISTINCT, "", "different titles")

    if a.generic or b.generic:
        everything = (
            title >= 0.95
            and s.year_gap == 0
            and _at_least(s.journal, 0.9)
            and s.volume == SAME
            and s.pages == SAME
            and (authors is None or authors >= 0.9)
        )
        if everything and (authors is not None or a.surnames == b.surnames):
            return Verdict(DUPLICATE, "auto", "generic title; every other field agrees")
        if title >= 0.95 and support >= 2:
            return Verdict(MAYBE, "", "generic title; not every field agrees")
        return Verdict(DISTINCT, "", "generic title")

    if s.title_prefix:
        title = max(title, 0.92)
    strong_title = title >= 0.95
    year_ok = s.year_gap is None or s.year_gap <= 1
    same_place = s.year_gap == 0 and s.volume == SAME and s.pages == SAME
    if strong_title and same_place and _at_least(s.journal, 0.9):
        # the same title at the same place: author lists garbled by one source
        return Verdict(DUPLICATE, "auto", "title, journal, year, volume and page agree")
    if s.title_heading and same_place and _at_least(s.journal, 0.9):
        return Verdict(
            DUPLICATE, "auto", "title the same but for a heading; journal, volume and page agree"
        )
    if _translated_at_same_place(a, b, s):
        return Verdict(
            DUPLICATE, "auto", "translated title; journal, volume, pages and authors agree"
        )
    if year_ok:
        if strong_title and _at_least(authors, 0.9) and support >= 2:
            return Verdict(DUPLICATE, "auto", "title and authors agree")
        if strong_title and authors is None and support >= 3:
            return Verdict(DUPLICATE, "auto", "title and bibliographic fields agree")
        if title >= 0.98 and _at_least(authors, 0.6) and support >= 3:
            return Verdict(DUPLICATE, "auto", "title and bibliographic fields agree")
        if title >= 0.9 and _at_least(authors, 0.9) and support >= 3:
            return Verdict(DUPLICATE, "auto", "near title; authors and fields agree")
        one_lacks_place = (a.volume == "" and a.first_page == "") != (
            b.volume == "" and b.first_page == ""
        )
        no_place = s.journal is None and s.volume == s.pages == s.issue == MISSING
        if (
            no_place
            and strong_title
            and s.year_gap == 0
            and _at_least(authors, 0.95)
            and min(len(a.surnames), len(b.surnames)) >= 2
        ):
            # the records give no journal, volume, issue or pages to compare: an identical
            # title, author list (two or more) and year are all the evidence there is
            return Verdict(DUPLICATE, "auto", "title, authors and year agree; no journal given")
        online_first = title >= 0.98 and _at_least(s.journal, 0.9) and one_lacks_place
        if online_first and _at_least(authors, 0.9):
            return Verdict(DUPLICATE, "auto", "online-first and issue version")
        if title >= 0.8 and _at_least(authors, 0.95) and support >= 4:
            return Verdict(DUPLICATE, "auto", "similar title; authors and all fields agree")
    if title >= 0.85 and (authors is None or authors >= 0.7):
        return Verdict(MAYBE, "", "similar, not enough agreement to merge")
    if _at_least(authors, 0.9) and support >= 4 and s.pages == SAME:
        return Verdict(MAYBE, "", "different titles; authors and every field agree")
    return Verdict(DISTINCT, "", "different")
