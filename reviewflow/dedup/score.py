"""Stage 3: score a candidate pair field by field (rapidfuzz similarities in 0..1).

A similarity is ``None`` when either record lacks the field: missing is not disagreement. For
the exact fields (year, volume, issue, first page, DOI, PMID) the comparison is one of
``SAME``, ``DIFFER`` or ``MISSING``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import Indel

from reviewflow.dedup.normalise import Prepared

SAME, DIFFER, MISSING = "same", "differ", "missing"
_AUTHORS_COMPARED = 10
_ABSTRACT_CHARS = 400
# below this title similarity (and with no identifier, page or prefix in common) no rule in
# classify.py can call a pair anything but distinct
FIRST_LOOK = 0.8


@dataclass(slots=True)
class PairScores:
    title: float | None
    title_prefix: bool  # one title is the other with its subtitle cut off
    title_heading: bool  # one title is the other without a leading "Heading:"
    authors: float | None
    first_author: bool | None
    year_gap: int | None
    journal: float | None
    volume: str
    issue: str
    pages: str
    doi: str
    pmid: str
    abstract: float | None

    def overall(self) -> float:
        """One number for ordering the manual queue: the mean of the similarities present."""
        values = [
            v for v in (self.title, self.authors, self.journal, self.abstract) if v is not None
        ]
        for exact in (self.volume, self.issue, self.pages, self.doi):
            if exact != MISSING:
                values.append(1.0 if exact == SAME else 0.0)
        if self.year_gap is not None:
            values.append(1.0 if self.year_gap == 0 else 0.5 if self.year_gap == 1 else 0.0)
        return round(sum(values) / len(values), 4) if values else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ratio(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return Indel.normalized_similarity(a, b)


def title_similarity(a: Prepared, b: Prepared) -> tuple[float | None, bool]:
    if not a.title or not b.title:
        return None, False
    best = ratio(a.title, b.title)
    if best < 1.0 and (a.title_alts or b.title_alts):
        for x in (a.title, *a.title_alts):
            for y in (b.title, *b.title_alts):
                best = max(best, ratio(x, y))
    prefix = False
    if best < 0.95:
        short, long_ = (a.title, b.title) if len(a.title) < len(b.title) else (b.title, a.title)
        prefix = short.count(" ") >= 4 and long_.startswith(short)
    return best, prefix


def same_but_heading(a: Prepared, b: Prepared) -> bool:
    """One title is exactly the other after dropping a short leading ``"Heading:"``."""
    return bool(
        (a.title_tail and a.title_tail == b.title) or (b.title_tail and b.title_tail == a.title)
    )


def author_similarity(a: Prepared, b: Prepared) -> tuple[float | None, bool | None]:
    if not a.surnames or not b.surnames:
        return None, None
    n = min(len(a.surnames), len(b.surnames), _AUTHORS_COMPARED)
    first = a.surnames[0] == b.surnames[0]
    if n == 1 and (len(a.surnames) > 1 or len(b.surnames) > 1):
        # one source keeps only the first author ("Smith J et al.")
        return (1.0 if first else ratio(a.surnames[0], b.surnames[0])), first
    return ratio(" ".join(a.surnames[:n]), " ".join(b.surnames[:n])), first


def _abbreviates(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """``("j", "clin", "oncol")`` abbreviates ``("journal", "clinical", "oncology")``: word
    by word, same first letter, the abbreviation's letters in order in the full word."""
    if len(short) != len(full):
        return False
    for s, f in zip(short, full, strict=True):
        if s == f:
            continue
        if not s or s[0] != f[0]:
            return False
        pos = 0
        for ch in s:
            pos = f.find(ch, pos) + 1
            if pos == 0:
                return False
    return True


def _acronym(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """``("jama",)`` for ``("journal", "american", "medical", "association")``: one word of
    three letters or more, the initials of every word of the full name."""
    return (
        len(short) == 1
        and len(full) >= 3
        and len(short[0]) == len(full)
        and short[0] == "".join(w[0] for w in full)
    )


@lru_cache(maxsize=200_000)
def journal_similarity_of(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if a == b:
        return 1.0
    if _abbreviates(a, b) or _abbreviates(b, a) or _acronym(a, b) or _acronym(b, a):
        return 1.0
    similarity = ratio(" ".join(a), " ".join(b))
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    if short and (long_[: len(short)] == short or _abbreviates(short, long_[: len(short)])):
        # "Nephron" and "Nephron Clinical Practice": a journal and its section
        similarity = max(similarity, 0.8)
    return similarity


def journal_similarity(a: Prepared, b: Prepared) -> float | None:
    if not a.journals or not b.journals:
        return None
    return max(journal_similarity_of(x, y) for x in a.journals for y in b.journals)


def _exact(x: str, y: str) -> str:
    if not x or not y:
        return MISSING
    return SAME if x == y else DIFFER


def _pages(a: Prepared, b: Prepared) -> str:
    """SAME when the first pages agree (``c37`` and ``37`` agree); DIFFER when neither the
    first nor the last pages agree; MISSING when they cannot be compared (an electronic
    article number against printed pages, a typo in one end)."""
    x, y = a.first_page, b.first_page
    if x and y and (x == y or (a.first_digits and a.first_digits == b.first_digits)):
        return SAME
    if (a.more_starts or b.more_starts) and {a.first_digits, *a.more_starts} & {
        b.first_digits,
        *b.more_starts,
    } - {""}:
        return SAME  # one range of a multi-range field ("233-8, 230-5" and "230-235")
    last_a, last_b = a.end_digits, b.end_digits
    if not last_a or not last_b:
        return MISSING
    if last_a.endswith(last_b) or last_b.endswith(last_a):
        return MISSING  # "Suppl-12" against "S109-S112": the same end page, abbreviated
    if x and y and x[0].isdigit() != y[0].isdigit():
        return MISSING
    return DIFFER


def _shifted(a: Prepared, b: Prepared) -> bool:
    """``a`` lost its volume and every later field moved up one column (volume "", issue 26,
    pages 9 against volume 26, issue 9, pages 1746): a known export fault, not a conflict."""
    return (
        not a.volume
        and not a.last_page
        and bool(a.issue)
        and a.issue == b.volume
        and bool(b.issue)
        and a.first_page == b.issue
    )


def _places(a: Prepared, b: Prepared) -> tuple[str, str, str]:
    """Volume, issue and pages compared, a one-column shift in either record repaired."""
    if _shifted(a, b) or _shifted(b, a):
        return SAME, SAME, MISSING
    return _exact(a.volume, b.volume), _exact(a.issue, b.issue), _pages(a, b)


def plainly_different(a: Prepared, b: Prepared) -> bool:
    """A cheap first look: no shared identifier, titles far apart, and not at the same
    volume and page. Such pairs cannot be duplicates or maybes, so they are not scored."""
    if not a.title or not b.title:
        return False
    if (a.doi and a.doi == b.doi) or (a.pmid and a.pmid == b.pmid):
        return False
    if a.first_digits and a.first_digits == b.first_digits and a.volume == b.volume:
        return False
    short, long_ = (a.title, b.title) if len(a.title) < len(b.title) else (b.title, a.title)
    if long_.startswith(short):
        return False  # a title without its subtitle
    cutoff = FIRST_LOOK
    if Indel.normalized_similarity(a.title, b.title, score_cutoff=cutoff):
        return False
    if not (a.title_alts or b.title_alts):
        return True
    return not any(
        Indel.normalized_similarity(x, y, score_cutoff=cutoff)
        for x in (a.title, *a.title_alts)
        for y in (b.title, *b.title_alts)
    )


def score_pair(a: Prepared, b: Prepared) -> PairScores:
    title, prefix = title_similarity(a, b)
    authors, first = author_similarity(a, b)
    abstract = None
    if a.abstract and b.abstract:
        abstract = ratio(a.abstract[:_ABSTRACT_CHARS], b.abstract[:_ABSTRACT_CHARS])
    volume, issue, pages = _places(a, b)
    return PairScores(
        title=title,
        title_prefix=prefix,
        title_heading=same_but_heading(a, b),
        authors=authors,
        first_author=first,
        year_gap=abs(a.year - b.year) if a.year and b.year else None,
        journal=journal_similarity(a, b),
        volume=volume,
        issue=issue,
        pages=pages,
        doi=_exact(a.doi, b.doi),
        pmid=_exact(a.pmid, b.pmid),
        abstract=abstract,
    )
