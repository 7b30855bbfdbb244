"""What the demo simulates, in one place, so it is easy to see and to say.

Two things cannot be had offline as real data and are simulated here, deterministically (a
fixed seed), from real records:

- a second database's export of some of the same papers (an "Embase" RIS file built from real
  PubMed records, re-formatted the way other databases format them), so deduplication has
  overlap to find;
- the two reviewers' key presses. Reviewer 1 follows the original review's published labels
  (Cohen et al. 2006); reviewer 2 agrees except for a seeded few disagreements and "maybe"s; the
  adjudicator settles conflicts with the original label. Full-text exclusion reasons and two
  "not retrieved" reports are seeded choices, not the original reviewers'.
- the two reviewers' risk-of-bias answers (RoB 2 signalling questions) for the included
  studies: seeded draws, mostly towards low risk; reviewer 2 answers a few questions
  differently; the adjudicator settles those with reviewer 1's answer. They are NOT an
  appraisal of these trials.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from reviewflow.records import RecordData

SEED = 2006
EXPORT_SHARE = 0.15  # of the PubMed records, also "found" in the simulated second database
FLIP = 0.06  # reviewer 2 decides the opposite way
MAYBE = 0.03  # reviewer 2 is unsure
FULLTEXT_FLIP = 0.05
NOT_RETRIEVED = 2


def _ris_author(display: str) -> str:
    """``"Wiklund I"`` → ``"Wiklund, I."`` (how Embase and Scopus exports write names)."""
    last, _, initials = display.rpartition(" ")
    if not last or not initials.isupper():
        return display
    return f"{last}, {'. '.join(initials)}."


def simulated_export(records: list[RecordData], seed: int = SEED) -> tuple[str, dict[str, str]]:
    """An RIS file re-formatting a seeded share of ``records`` as another database would:
    "Last, I." authors, no PMID, titles without the final full stop and sometimes in lower
    case, now and then no abstract. Returns the RIS text and {RIS ID: PMID it was made from}."""
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(records)), round(len(records) * EXPORT_SHARE)))
    lines: list[str] = []
    origin: dict[str, str] = {}
    for n, i in enumerate(chosen, 1):
        rec = records[i]
        ris_id = f"EMB{n:04d}"
        origin[ris_id] = rec.pmid
        title = rec.title.rstrip(".")
        if rng.random() < 0.3:
            title = title[:1] + title[1:].lower()
        lines += ["TY  - JOUR", f"ID  - {ris_id}", f"TI  - {title}"]
        lines += [f"AU  - {_ris_author(a)}" for a in rec.authors]
        if rec.year:
            lines.append(f"PY  - {rec.year}")
        if rec.abstract and rng.random() > 0.1:
            lines.append(f"AB  - {rec.abstract}")
        lines += ["DB  - Embase (simulated by reviewflow demo)", "ER  - ", ""]
    return "\n".join(lines), origin


@dataclass(frozen=True)
class Keystrokes:
    """The simulated decisions of one record at one stage."""

    reviewer1: str
    reviewer2: str
    final: str  # what the adjudicator settles on, if they disagree
    reason1: str = ""
    reason2: str = ""


class Screeners:
    """Seeded reviewers who follow the original review's labels."""

    def __init__(self, reasons: list[str], seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.reasons = reasons

    def title_abstract(self, label: str | None) -> Keystrokes:
        truth = "include" if label == "1" else "exclude"  # no label: not an NSAIDs record
        draw = self.rng.random()
        if label is None or draw >= FLIP + MAYBE:
            second = truth
        elif draw < FLIP:
            second = "exclude" if truth == "include" else "include"
        else:
            second = "maybe"
        return Keystrokes(truth, second, truth)

    def full_text(self, label: str | None) -> Keystrokes:
        if label == "1":
            flip = self.rng.random() < FULLTEXT_FLIP
            reason2 = self.rng.choice(self.reasons) if flip else ""
            return Keystrokes("include", "exclude" if flip else "include", "include", "", reason2)
        reason = self.rng.choice(self.reasons)
        return Keystrokes("exclude", "exclude", "exclude", reason, reason)

    def not_retrieved(self, record_ids: list[int]) -> list[int]:
        return sorted(self.rng.sample(record_ids, min(NOT_RETRIEVED, len(record_ids))))


ROB_FLIP = 0.04  # reviewer 2 answers a signalling question differently
GOOD_IS_YES = frozenset({"1.1", "1.2", "2.5", "2.6", "3.1", "3.2", "5.1"})  # else "no" is good


class RobAssessors:
    """Seeded RoB 2 answers: each signalling question answered, mostly in the low-risk
    direction, sometimes "no information" or the other way."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)

    def _answer(self, question: str, allowed: tuple[str, ...]) -> str:
        good, bad = (
            (("Y", "PY"), ("N", "PN")) if question in GOOD_IS_YES else (("N", "PN"), ("Y", "PY"))
        )
        draw = self.rng.random()
        pick = good if draw < 0.8 else ("NI",) if draw < 0.9 else bad
        options = [a for a in pick if a in allowed] or [a for a in good if a in allowed]
        return self.rng.choice(options)

    def assess(
        self, questions: list[tuple[str, tuple[str, ...]]]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Reviewer 1's and reviewer 2's answers to ``questions`` (key, allowed answers)."""
        first = {q: self._answer(q, allowed) for q, allowed in questions}
        second = dict(first)
        for q, allowed in questions:
            if self.rng.random() < ROB_FLIP:
                second[q] = self.rng.choice([a for a in allowed if a not in ("NA", first[q])])
        return first, second
