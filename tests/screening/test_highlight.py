"""Highlight words: whole words, any case, plurals; ``*`` for any ending."""

from __future__ import annotations

from reviewflow.screening.highlight import highlight_spans
from tests.real_data import nsaids_records


def words(text: str, include: list[str], exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.kind) for s in highlight_spans(text, include, exclude)]


def test_a_word_finds_its_plural_but_not_longer_words() -> None:
    text = "NSAIDs and an NSAID's risk in rats; the ratio of rat studies. Reviews, review."
    assert words(text, ["NSAID"], ("rat", "review")) == [
        ("NSAIDs", "include"), ("NSAID", "include"), ("rats", "exclude"),
        ("rat", "exclude"), ("Reviews", "exclude"), ("review", "exclude"),
    ]  # fmt: skip


def test_star_matches_any_ending_on_a_real_abstract() -> None:
    record = next(r for r in nsaids_records(393) if "randomized" in r.abstract.lower())
    found = {w.lower() for w, _ in words(record.abstract, ["randomi*"])}
    assert found and all(w.startswith("randomi") for w in found)
    assert "randomized" in found
