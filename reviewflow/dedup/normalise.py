"""Stage 1: normalise each record into the comparable keys the later stages use.

Everything a comparison needs is computed once per record here, so scoring a pair is cheap:
folded titles (diacritics, Greek letters, HTML entities and markup removed, translated titles
unbracketed), surnames, the DOI without its URL prefix, the first and last page with the
abbreviated end page expanded (``221-8`` → 221, 228), the journal as words, and flags for the
records a fuzzy match must never merge (errata, retraction notices, comments, replies, parts).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from reviewflow.records import RecordData

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu",
    "ν": "nu", "ξ": "xi", "ο": "omicron", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma",
    "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}  # fmt: skip
# letters NFKD does not decompose into ASCII
_LETTERS = {
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
    "ı": "i", "ŀ": "l", "ĸ": "k",
}  # fmt: skip
_LETTERS.update({k.upper(): v for k, v in _LETTERS.items() if len(k.upper()) == 1})
_FOLD = str.maketrans({**_GREEK, **{k.upper(): v for k, v in _GREEK.items()}, **_LETTERS})
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9:]*(?:\s[^<>]*)?/?>")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# bracketed notes databases append to a title
_NOTE = re.compile(
    r"(?:article|text|abstract|letter|summary)s? in |author'?s transl|review|\d+ refs|erratum|"
    r"corrected|comment|retract|see |published|update|provisional|electronic|online|"
    r"multiple letters|abstract|editorial|letter|english|meeting|conference|congress|"
    r"translat|original|journal article|case report|clinical trial|(?:the )?journal|proceeding"
)
_UNCLOSED_NOTE = re.compile(r"\s*[\[(][^\])]*$")  # a note cut off by a field length limit
# Web of Science and Embase cite the corrected article after the title of a correction
_ERRATUM_CITATION = re.compile(r"vol\.? \d+,? (?:pg|p)\.? |.+\(\d{4}\) \d+ \([\w\- ]+\)$")
# a Vancouver citation of another article after a letter's title ("More on X... N Engl J Med.
# 2009 Jan 29;360(5):544-6"): the article the letter answers, not part of the title
_TRAILING_CITATION = re.compile(
    r"(?:\.{2,}|[.;])\s*[A-Z][A-Za-z .&'-]{1,80}?\.?\s+(?:1[89]|20)\d{2}"
    r"(?:\s+[A-Z][a-z]{2}(?:\s+\d{1,2})?)?\s*;\s*\d+\s*(?:\([^()]{1,12}\))?\s*:\s*"
    r"[A-Za-z]?\d+[A-Za-z]?(?:\s*[-–]\s*[A-Za-z]?\d+[A-Za-z]?)?\s*\.?\s*$"
)
# "Section heading: title" — a heading some journals (and some databases) put before a title
_HEADING_WORDS = 4  # at most this many words before the colon
_HEADED_TITLE_WORDS = 4  # and at least this many after it
_RETRACTED_PREFIX = re.compile(r"^\s*(?:retracted(?:\s+article)?|withdrawn)\s*[:.\-]\s*", re.I)
_DOI_PREFIX = re.compile(r"^(?:https?://)?(?:dx\.)?(?:doi\.org/|doi:\s*|doi\s+)", re.IGNORECASE)
_DOI_BODY = re.compile(r"10\.\d{4,9}/\S+")
_DIGITS = re.compile(r"\d+")
_PAGE = re.compile(r"^\s*([a-z]*)(\d+)([a-z]*)\s*(?:-+|–|—)?\s*([a-z]*)(\d*)([a-z]*)", re.I)

# prefixes of DOIs minted for preprints (bioRxiv/medRxiv, Research Square, SSRN, arXiv,
# Preprints.org, OSF preprints, JMIR preprints, Authorea, SciELO preprints, Zenodo)
PREPRINT_DOI_PREFIXES = (
    "10.1101/", "10.21203/rs.", "10.2139/ssrn", "10.48550/arxiv", "10.20944/preprints",
    "10.31219/osf.io", "10.31234/osf.io", "10.31235/osf.io", "10.2196/preprints",
    "10.22541/au.", "10.1590/scielopreprints", "10.5281/zenodo", "10.35542/osf.io",
)  # fmt: skip

# notice kinds: a notice about an article is never the article itself. Matched on the raw
# title (lower-cased), with a separator after the word so that "Correction of scoliosis" or
# "Response to cisplatin" stay articles.
_SEP = r"\s*(?::|\.|$|\[|\(|-\s)"
_NOTICES = (
    ("erratum", re.compile(r"^(?:erratum|errata|corrigendum|corrigenda)\b|"
                           r"^(?:author |publisher |notice of )?corrections?(?:\s+to\b|" + _SEP + ")")),
    ("retraction", re.compile(r"^(?:retraction(?: note| notice)?|notice of retraction)(?:\s+(?:to|for|of:)\b|" + _SEP + ")|"
                              r"^(?:editorial )?expression of concern\b")),
    ("reply", re.compile(r"^(?:in reply|(?:the )?authors?'? (?:reply|response))\b|^(?:reply|response)" + _SEP + "|"
                         r"^(?:reply|response) (?:to|on) (?:the |a )?(?:letter|comment|correspondence|"
                         r"editorial|commentary|dr\b|re\b|reader)")),
    ("comment", re.compile(r"^(?:re\s*:|comments? (?:on|to)\b|commentary (?:on|to)\b|"
                           r"letter (?:regarding|re|about|concerning|on)\b|comment" + _SEP + ")")),
)  # fmt: skip
_REPLY_SUFFIX = re.compile(r"(?:\s[-:–]\s*|\()(?:authors?'? )?(?:reply|response)\)?\.?$")
_PUBLICATION_TYPE_NOTICE = {
    "published erratum": "erratum",
    "retraction of publication": "retraction",
    "expression of concern": "retraction",
    "comment": "comment",
}
# titles that say nothing about the paper
_GENERIC_PHRASES = frozenset(
    [
        "editorial", "editorials", "letter", "letters", "letter to the editor",
        "letters to the editor", "reply", "response", "author reply", "authors reply", "in reply",
        "introduction", "preface", "foreword", "commentary", "comment", "comments", "erratum",
        "errata", "corrigendum", "correction", "corrections", "abstracts", "untitled", "news",
        "obituary", "book review", "book reviews", "in this issue", "editors note", "editor s note",
        "guest editorial", "announcement", "acknowledgement", "acknowledgements", "acknowledgment",
        "reviewers", "index", "contents", "table of contents", "highlights", "case report",
        "summary",
    ]
)  # fmt: skip
_PART = re.compile(
    r"\b(?:part|pt|phase|stage|series|paper|study)\s+([0-9]+|[ivx]+|one|two|three|four|five)\b"
)
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7",
          "viii": "8", "ix": "9", "x": "10", "one": "1", "two": "2", "three": "3",
          "four": "4", "five": "5"}  # fmt: skip
_JOURNAL_STOP = frozenset(
    [
        "the",
        "of",
        "and",
        "for",
        "in",
        "on",
        "de",
        "la",
        "der",
        "und",
        "fur",
        "et",
        "des",
        "du",
        "le",
        "s",  # "Women's" folds to "women s"
    ]
)
_CONFERENCE_WORDS = re.compile(
    r"\b(?:conference|congress|symposium|meeting|workshop|annual scientific sessions|"
    r"colloquium|summit|conf|congr|symp|annu meet|sci meet)\b"
)
_SPACE = re.compile(r"\s+")
# PubMed brackets a translated title and notes the language; some sources say "(author's transl)"
_TRANSLATED = re.compile(r"^\s*\[|\[(?:article|text) in \w+|author'?s transl", re.IGNORECASE)
_ET_AL = re.compile(r"^\s*(?:et\.?\s*al\.?|and others)\s*$", re.IGNORECASE)
_THOUSANDS = re.compile(r"\b(\d{1,3}) (\d{3})\b")  # "10 000" and "10,000" → "10000"
_SUPPL = re.compile(r"\bsuppl?\.?(?:ement)?\b\s*\d*\s*:?", re.IGNORECASE)
_JOURNAL_CONFERENCE = re.compile(r"\.?\s*conference\s*:", re.IGNORECASE)
_JOURNAL_NOTE = re.compile(r"[\[(][^\])]*[\])]")
_JOURNAL_BRACKETED = re.compile(r"\[([^\]]+)\]")


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: entities, markup, accents, Greek and
    punctuation folded away. ``"<i>β</i>-Café &amp; co."`` → ``"beta cafe co"``."""
    if not text:
        return ""
    if text.isascii() and "&" not in text and "<" not in text:
        return _NON_WORD.sub(" ", text.lower()).strip()
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    text = text.translate(_FOLD)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_FOLD)
        text = text.encode("ascii", "ignore").decode("ascii")
    return _NON_WORD.sub(" ", text.lower()).strip()


def normalise_doi(value: str) -> str:
    """``https://doi.org/10.1000/ABC.`` → ``10.1000/abc``; "" when there is no DOI."""
    if not value:
        return ""
    value = html.unescape(value.strip())
    value = _DOI_PREFIX.sub("", value)
    match = _DOI_BODY.search(value)
    if not match:
        return ""
    doi = match.group(0).lower().rstrip(".,;)]}")
    # URL-encoded DOIs ("10.1002/%28SICI%29…") compare equal to their plain form
    if "%" in doi:
        from urllib.parse import unquote

        doi = unquote(doi)
    return doi


def is_preprint_doi(doi: str) -> bool:
    return doi.startswith(PREPRINT_DOI_PREFIXES)


def _strip_notes(title: str) -> tuple[str, str, bool]:
    """Drop trailing bracketed notes; return (title, translated title, erratum-citation)."""
    erratum = False
    alt = ""
    for _ in range(6):
        title = title.rstrip(" .")
        if not title or title[-1] not in ")]":
            break
        close = title[-1]
        start = _matching_open(title, "(" if close == ")" else "[")
        if start <= 0:
            break
        inner = title[start + 1 : -1].strip()
        lowered = inner.lower()
        if _ERRATUM_CITATION.match(lowered):
            erratum = True  # "Title (vol 360, pg 542, 2009)": a correction to that article
        elif not (_NOTE.match(lowered) or len(inner.split()) <= 3):
            if close == "]" and not alt:
                alt = inner  # "English title [Original title]"
            else:
                break
        title = title[:start]
    return title, alt, erratum


def _strip_unclosed_note(title: str) -> str:
    """``"Title.[Erratum appears in J X. 2003 Jun"`` (cut off by a field length limit) →
    ``"Title."``; an unclosed bracket opening the title is just dropped."""
    match = _UNCLOSED_NOTE.search(title)
    if match is None:
        return title
    if match.start() == 0 or not title[: match.start()].strip():
        return title.lstrip(" [(")
    inner = match.group(0).strip().lstrip("[(").lower()
    return title[: match.start()] if _NOTE.match(inner) else title


def _matching_open(text: str, opener: str) -> int:
    closer = ")" if opener == "(" else "]"
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch == closer:
            depth += 1
        elif ch == opener:
            depth -= 1
            if depth == 0:
                return i
    return -1


def split_title(raw: str) -> tuple[str, str]:
    """The title and a second (translated or original-language) title, both folded.

    PubMed brackets translated titles (``"[Effect of …]."``); other databases append the
    original title in brackets (``"Effect of … [Wirkung von …]"``). Notes databases append
    (``"[Article in German]"``, ``"[Review] [43 refs]"``, ``"[Erratum appears in …]"``,
    ``"(Provisional abstract)"``, ``"(author's transl)"``) are dropped.
    """
    title, alts, _ = _title_and_flags(raw)
    return title, alts[0] if alts else ""


def _halves(title: str) -> tuple[str, ...]:
    """``"Original title; English title"`` (some databases give both in one field): the two
    halves, when both are titles of their own (four words or more); () otherwise."""
    first, semicolon, second = title.partition("; ")
    if not semicolon or ";" in second or first.count("(") != first.count(")"):
        return ()  # none, several, or inside brackets ("protein (MCP; CD46) in …")
    halves = tuple(_THOUSANDS.sub(r"\1\2", fold(h)) for h in (first, second))
    return halves if min(len(h.split()) for h in halves) >= _HEADED_TITLE_WORDS else ()


def _title_and_flags(raw: str) -> tuple[str, tuple[str, ...], bool]:
    """The folded title, its other titles (a bracketed translation or original, the halves
    of an "original; translation" title) and whether it cites a corrected article."""
    title = html.unescape(raw or "").strip()
    if "<" in title:
        title = _TAG.sub(" ", title)
    title = _RETRACTED_PREFIX.sub("", title).strip()
    if ";" in title:
        title = _TRAILING_CITATION.sub("", title)
    bare = title.rstrip(" .")
    if bare.startswith("[") and bare.endswith("]") and _matching_open(bare, "[") == 0:
        title = bare[1:-1]  # the whole title bracketed: PubMed's translated title
    title = _strip_unclosed_note(title)
    title, alt, erratum = _strip_notes(title)
    if title.startswith("[") and title.endswith("]"):
        title = title[1:-1]
    alts = tuple(a for a in (fold(alt), *_halves(title)) if a)
    return _THOUSANDS.sub(r"\1\2", fold(title)), alts, erratum


def title_after_heading(raw: str) -> str:
    """The folded title after a short leading heading (``"Thrombotic microangiopathy: can
    liver-kidney transplantation cure aHUS?"`` → ``"can liver kidney transplantation cure
    ahus"``); "" when the title has no such heading. Only used to compare a title with the
    same title printed without its heading: the part after the colon must be a title of its
    own (four words or more)."""
    head, colon, tail = (raw or "").partition(":")
    if not colon or not head.strip() or len(head.split()) > _HEADING_WORDS:
        return ""
    folded, _alts, _erratum = _title_and_flags(tail)
    return folded if len(folded.split()) >= _HEADED_TITLE_WORDS else ""


def printed_as_abstract(record: RecordData, first: str, last: str) -> bool:
    """A journal record that is itself an abstract in print: in a supplement (``"Suppl 2"``,
    ``"S2"``, pages ``S12``) or on a single page (``507-507``)."""
    where = f"{record.volume} {record.issue}".lower()
    if "suppl" in where or re.search(r"(?:^|\s)s\d+\b", where):
        return True
    if first[:1] == "s" and first[1:2].isdigit():
        return True
    return bool(first) and last == first


def title_parts(title: str) -> frozenset[str]:
    """Part/phase numbers named in a folded title (``"part ii"`` → {"2"})."""
    found = {_ROMAN.get(m.group(1), m.group(1)) for m in _PART.finditer(title)}
    return frozenset(found)


def title_numbers(title: str) -> tuple[str, ...]:
    """The numbers in a folded title, sorted (a different number is a different paper)."""
    return tuple(sorted(_DIGITS.findall(title)))


def notice_kind(raw_title: str, publication_types: list[str]) -> str:
    """The kind of notice a title announces: erratum, retraction, reply, comment, or ""
    (an article)."""
    title = html.unescape(raw_title or "").strip().lstrip("[").lower()
    if _REPLY_SUFFIX.search(title.rstrip(" .]")):
        return "reply"  # "<title of the letter> - Reply"
    for kind, pattern in _NOTICES:
        if pattern.search(title):
            return kind
    for ptype in publication_types:
        kind = _PUBLICATION_TYPE_NOTICE.get(ptype.strip().lower(), "")
        if kind:
            return kind
    return ""


def is_generic_title(title: str) -> bool:
    return title in _GENERIC_PHRASES or len(title.split()) <= 2


@lru_cache(maxsize=1 << 18)
def surname(display: str) -> str:
    """``"Smith JA"`` → ``"smith"``; ``"van der Berg J"`` → ``"vanderberg"``; a collective
    name folds whole."""
    name = display.strip()
    if "," in name:
        name = name.split(",", 1)[0]
    else:
        parts = name.split()
        if len(parts) >= 2:
            tail = parts[-1].replace(".", "").replace("-", "")
            if tail.isupper() and len(tail) <= 4 and tail.isalpha():
                parts = parts[:-1]
        name = " ".join(parts)
    return fold(name).replace(" ", "")


def surnames_of(authors: list[str]) -> tuple[str, ...]:
    """Folded surnames of the first twelve authors, "et al." dropped."""
    found = (surname(a) for a in authors[:12] if a.strip() and not _ET_AL.match(a))
    return tuple(s for s in found if s)


def _words(text: str) -> tuple[str, ...]:
    return tuple(w for w in fold(text).split() if w not in _JOURNAL_STOP)


def journal_words(text: str) -> tuple[str, ...]:
    """Words of a journal name without medium notes (``"(Online)"``, ``"[Electronic
    Resource]"``) or a conference suffix (``"Blood.Conference: 53rd …"``)."""
    text = _JOURNAL_CONFERENCE.split(text, 1)[0]
    return _words(_JOURNAL_NOTE.sub(" ", text))


@lru_cache(maxsize=1 << 18)
def journal_variants(*names: str) -> tuple[tuple[str, ...], ...]:
    """Every name a journal goes by in ``names``: the whole name, the parts either side of a
    subtitle separator (``"Rinsho Ketsueki - Japanese Journal of Clinical Hematology"``,
    ``"J Clin Virol : the official publication of …"``) and a bracketed original title."""
    found: list[tuple[str, ...]] = []
    for name in names:
        if not name:
            continue
        name = _JOURNAL_CONFERENCE.split(name, 1)[0]
        candidates = [name, _JOURNAL_NOTE.sub(" ", name)]
        candidates += _JOURNAL_BRACKETED.findall(name)
        for part in re.split(r"\s[:\-–]\s|\s?=\s?", candidates[1]):
            candidates.append(part)
        for candidate in candidates:
            words = _words(_JOURNAL_NOTE.sub(" ", candidate))
            if words and words not in found:
                found.append(words)
    return tuple(found)


def pages_of(value: str) -> tuple[str, str]:
    """First and last page; an abbreviated end page is expanded: ``221-8`` → (221, 228),
    ``1090-102`` → (1090, 1102), ``S12-4`` → (s12, s14), ``e0123`` → (e123, ""),
    ``Suppl-11`` → ("", 11)."""
    value = _SUPPL.sub("", (value or "").strip().lower())
    if not value:
        return "", ""
    if value.lstrip().startswith("-"):
        numbers = _DIGITS.findall(value)
        return "", (numbers[0].lstrip("0") or "0") if numbers else ""
    match = _PAGE.match(value)
    if not match:
        return fold(value).replace(" ", ""), ""
    pre1, num1, post1, pre2, num2, post2 = match.groups()
    first_num = num1.lstrip("0") or "0"
    first = f"{pre1}{first_num}{post1}"
    if not num2:
        return first, ""
    last_num = num2.lstrip("0") or "0"
    if len(last_num) < len(first_num):
        last_num = first_num[: len(first_num) - len(last_num)] + last_num
    return first, f"{pre2 or pre1}{last_num}{post2 or post1}"


def _only_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _number(value: str) -> str:
    """Volume or issue: the digits if there are any (``"7 (Suppl 2)"`` → ``"7"``)."""
    value = (value or "").strip()
    match = _DIGITS.search(value)
    if match:
        return match.group(0).lstrip("0") or "0"
    return fold(value).replace(" ", "")


def issue_number(value: str) -> str:
    """The issue, or "" when the field holds something else: some exports put a database
    record number there (``"20130604"``, ``"CN-00869312"``), which says nothing about the
    issue (issues run to four digits: Lancet 9876)."""
    value = (value or "").strip()
    if "suppl" in value.lower() or any(len(run) > 4 for run in _DIGITS.findall(value)):
        return ""
    return _number(value)


def other_starts(value: str) -> tuple[str, ...]:
    """The first pages of the further ranges of a multi-range field (``"233-8, 230-5"`` →
    ("230",)): an article printed in pieces."""
    if "," not in value:
        return ()
    return tuple(_only_digits(pages_of(part)[0]) for part in value.split(",")[1:] if part.strip())


@dataclass(slots=True)
class Prepared:
    """One record's comparable keys. ``index`` is its position in the input list."""

    index: int
    title: str
    title_alts: tuple[str, ...]  # other titles: translated, original, halves (see _halves)
    title_tail: str  # the title after a short "Heading:" prefix, "" without one
    title_numbers: tuple[str, ...]
    parts: frozenset[str]
    notice: str
    translated: bool  # the title is a translation (bracketed, "[Article in French]")
    letters_block: bool  # Embase's "(multiple letters)": a letter and its replies as one item
    generic: bool
    surnames: tuple[str, ...]
    initials: str  # first author's first initial
    year: int | None
    journals: tuple[tuple[str, ...], ...]  # every name the journal goes by
    volume: str
    issue: str
    first_page: str
    last_page: str
    first_digits: str
    more_starts: tuple[str, ...]  # first pages of further ranges ("233-8, 230-5")
    end_digits: str  # digits of the last page, or of the first when there is no last
    doi: str
    preprint: bool
    pmid: str
    abstract: str
    conference: bool
    printed_abstract: bool  # in a supplement or on a single page (see printed_as_abstract)
    kind: str  # article | book | book-chapter | conference | other
    completeness: int


def _first_initial(display: str) -> str:
    parts = display.split()
    if len(parts) >= 2 and parts[-1].replace(".", "").isupper():
        return parts[-1][0].lower()
    if "," in display:
        given = display.split(",", 1)[1].strip()
        return given[:1].lower()
    return ""


def is_conference(record: RecordData) -> bool:
    if record.record_type == "conference":
        return True
    types = " ".join(t.lower() for t in record.publication_types)
    if "congress" in types or "conference" in types or "meeting abstract" in types:
        return True
    return bool(_CONFERENCE_WORDS.search(fold(record.journal)))


def completeness(record: RecordData) -> int:
    """How much a record tells: used to choose the kept record of a group."""
    score = 0
    for value in (
        record.title,
        record.journal,
        record.volume,
        record.issue,
        record.pages,
        record.year,
    ):
        score += 1 if value else 0
    score += 2 if record.authors else 0
    score += 3 if record.abstract else 0
    score += 3 if record.doi else 0
    score += 3 if record.pmid else 0
    return score


def prepare(record: RecordData, index: int) -> Prepared:
    title, alts, erratum_citation = _title_and_flags(record.title)
    vernacular = fold(record.vernacular_title)
    if vernacular and vernacular not in alts:
        alts += (vernacular,)
    if not title and alts:
        title, alts = alts[0], alts[1:]
    first, last = pages_of(record.pages)
    doi = normalise_doi(record.doi)
    authors = record.authors
    return Prepared(
        index=index,
        title=title,
        title_alts=alts,
        title_tail=title_after_heading(record.title) if ":" in record.title else "",
        title_numbers=title_numbers(title),
        parts=title_parts(title),
        notice="erratum"
        if erratum_citation
        else notice_kind(record.title, record.publication_types),
        translated=bool(_TRANSLATED.search(record.title) or vernacular),
        letters_block="(multiple letters)" in record.title.lower(),
        generic=is_generic_title(title),
        surnames=surnames_of(authors),
        initials=_first_initial(authors[0]) if authors else "",
        year=record.year,
        journals=journal_variants(record.journal, record.journal_abbrev),
        volume=_number(record.volume),
        issue=issue_number(record.issue),
        first_page=first,
        last_page=last,
        first_digits=_only_digits(first),
        more_starts=other_starts(record.pages),
        end_digits=_only_digits(last or first),
        doi=doi,
        preprint=is_preprint_doi(doi),
        pmid=(record.pmid or "").strip(),
        abstract=fold(record.abstract[:600])[:400] if record.abstract else "",
        conference=is_conference(record),
        printed_abstract=printed_as_abstract(record, first, last),
        kind=record.record_type or "other",
        completeness=completeness(record),
    )


def prepare_all(records: list[RecordData]) -> list[Prepared]:
    return [prepare(record, i) for i, record in enumerate(records)]


def one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()
