"""The whole pure pipeline on a list of records: normalise → block → score → classify →
cluster → merge. No database, no files: the CLI and the review mode call this."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reviewflow.dedup.block import candidate_pairs
from reviewflow.dedup.classify import (
    DISTINCT,
    DUPLICATE,
    MAYBE,
    DedupSettings,
    Verdict,
    classify,
)
from reviewflow.dedup.cluster import Clusters
from reviewflow.dedup.merge import choose_kept
from reviewflow.dedup.normalise import Prepared, prepare_all
from reviewflow.dedup.score import PairScores, plainly_different, score_pair
from reviewflow.records import RecordData

_METHOD_RANK = {"manual": 0, "pmid": 1, "doi": 2, "auto": 3}


@dataclass(frozen=True)
class Pair:
    """A scored pair of records (positions in the input list, ``a < b``)."""

    a: int
    b: int
    label: str
    method: str
    reason: str
    score: float
    scores: dict[str, Any]
    veto: bool = False


@dataclass(frozen=True)
class Link:
    """``record`` is a duplicate of ``kept`` (positions in the input list)."""

    record: int
    kept: int
    method: str
    score: float


@dataclass
class DedupResult:
    """Groups of duplicates (singletons included, kept record first), the duplicate links, and
    the pairs a person must decide (never merged here)."""

    groups: list[list[int]]
    links: list[Link]
    maybe: list[Pair]
    pairs_scored: int
    group_of: list[int] = field(default_factory=list)

    @property
    def duplicates_removed(self) -> int:
        return len(self.links)


def classify_pairs(
    prepared: list[Prepared], settings: DedupSettings
) -> tuple[list[Pair], list[tuple[int, int]], int]:
    """Every candidate pair classified. Returns the duplicate and maybe pairs, the pairs a rule
    vetoed (they constrain the clustering), and how many pairs were compared."""
    kept: list[Pair] = []
    vetoed: list[tuple[int, int]] = []
    pairs = candidate_pairs(prepared, settings.max_block)
    for i, j in pairs:
        a, b = prepared[i], prepared[j]
        if plainly_different(a, b):
            continue
        scores = score_pair(a, b)
        verdict = classify(a, b, scores, settings)
        if verdict.veto:
            vetoed.append((i, j))
        if verdict.label != DISTINCT:
            kept.append(_pair(i, j, verdict, scores))
    return kept, vetoed, len(pairs)


def _pair(i: int, j: int, verdict: Verdict, scores: PairScores) -> Pair:
    return Pair(
        i,
        j,
        verdict.label,
        verdict.method,
        verdict.reason,
        scores.overall(),
        scores.to_dict(),
        verdict.veto,
    )


def deduplicate(
    records: list[RecordData],
    settings: DedupSettings | None = None,
    *,
    known_distinct: Iterable[tuple[int, int]] = (),
    known_duplicate: Iterable[tuple[int, int]] = (),
) -> DedupResult:
    """Find the duplicate groups in ``records``.

    ``known_distinct`` and ``known_duplicate`` are pairs (positions) a person has already
    decided: the first are never put in one group (nor offered again), the second are joined.
    """
    settings = settings or DedupSettings()
    prepared = prepare_all(records)
    pairs, vetoed, scored = classify_pairs(prepared, settings)
    decided_distinct = {(min(i, j), max(i, j)) for i, j in known_distinct}
    decided_duplicate = {(min(i, j), max(i, j)) for i, j in known_duplicate}
    decided = decided_distinct | decided_duplicate
    pairs = [p for p in pairs if (p.a, p.b) not in decided]
    pairs += [
        Pair(i, j, DUPLICATE, "manual", "confirmed by a person", 1.0, {})
        for i, j in sorted(decided_duplicate)
    ]
    vetoed += sorted(decided_distinct)
    clusters = Clusters(prepared, vetoed)
    duplicates = sorted(
        (p for p in pairs if p.label == DUPLICATE),
        key=lambda p: (_METHOD_RANK.get(p.method, 3), -p.score, p.a, p.b),
    )
    maybe = [p for p in pairs if p.label == MAYBE]
    method_of: dict[int, tuple[str, float]] = {}
    for p in duplicates:
        if clusters.union(p.a, p.b, force=p.method == "manual"):
            for r in (p.a, p.b):
                best = method_of.get(r)
                if best is None or _METHOD_RANK[p.method] < _METHOD_RANK[best[0]]:
                    method_of[r] = (p.method, p.score)
        else:
            reason = f"{p.reason}; joining would put conflicting records in one group"
            maybe.append(Pair(p.a, p.b, MAYBE, "", reason, p.score, p.scores))
    groups: list[list[int]] = []
    links: list[Link] = []
    group_of = [0] * len(records)
    for members in clusters.components():
        kept = choose_kept(records, members)
        ordered = [kept] + [m for m in members if m != kept]
        for m in ordered:
            group_of[m] = len(groups)
        groups.append(ordered)
        for m in ordered[1:]:
            method, score = method_of.get(m, ("auto", 0.0))
            links.append(Link(m, kept, method, score))
    # a maybe pair inside one group is already settled
    maybe = [p for p in maybe if group_of[p.a] != group_of[p.b]]
    maybe.sort(key=lambda p: (-p.score, p.a, p.b))
    return DedupResult(groups, links, maybe, scored, group_of)
