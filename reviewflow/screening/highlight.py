"""Where the review's highlight words occur in a text (Rayyan-style include/exclude keywords).

A keyword matches whole words, any case, and their plural in -s/-es (``NSAID`` finds "NSAIDs",
``rat`` finds "rats" but not "ratio"); a trailing ``*`` matches any ending (``random*`` finds
"randomised" and "randomly"). Overlaps go to the longer match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

INCLUDE, EXCLUDE = "include", "exclude"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # include | exclude


def _pattern(word: str) -> str:
    word = word.strip()
    stem = word.endswith("*")
    core = re.escape(word.rstrip("*")).replace(r"\ ", r"\s+")
    ending = r"\w*" if stem else r"(?:e?s)?(?!\w)"
    return r"(?<!\w)" + core + ending


@lru_cache(maxsize=32)
def _compiled(words: tuple[str, ...]) -> re.Pattern[str] | None:
    words = tuple(w for w in words if w.strip().rstrip("*"))
    if not words:
        return None
    longest_first = sorted(words, key=len, reverse=True)
    return re.compile("|".join(_pattern(w) for w in longest_first), re.IGNORECASE)


def highlight_spans(text: str, include: Sequence[str], exclude: Sequence[str]) -> list[Span]:
    """Non-overlapping spans of ``text`` matching the include or exclude words, in order."""
    found: list[Span] = []
    for kind, words in ((INCLUDE, include), (EXCLUDE, exclude)):
        pattern = _compiled(tuple(words))
        if pattern is not None:
            found += [Span(m.start(), m.end(), kind) for m in pattern.finditer(text)]
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    out: list[Span] = []
    for span in found:
        if not out or span.start >= out[-1].end:
            out.append(span)
    return out
