"""Stage 2: blocking — which pairs of records are worth scoring at all.

Each record gets a few cheap keys (its DOI, its PMID, the start and the end of its title, first
author + year, year + volume + first page). Only records sharing a key are compared, so the number
of scored pairs grows roughly linearly with the number of records. Two keys on the title (start
and end) mean a typo has to hit both ends to hide a duplicate; the bibliographic key finds a
record whose title was translated. A key shared by more than ``max_block`` records (a generic
title such as "Editorial", a very common surname in one year) is too vague to use on its own
and is skipped; the other keys still bring the true pairs together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from rapidfuzz.distance import Indel
from rapidfuzz.process import cdist

from reviewflow.dedup.normalise import Prepared
from reviewflow.dedup.score import FIRST_LOOK

MAX_BLOCK = 60
_KEY_CHARS = 24


def _title_keys(title: str) -> Iterable[str]:
    compact = title.replace(" ", "")
    if len(compact) < 8:
        return ()
    return ("s" + compact[:_KEY_CHARS], "e" + compact[-_KEY_CHARS:])


def keys_of(record: Prepared) -> list[str]:
    keys: list[str] = []
    if record.doi:
        keys.append("d" + record.doi)
    if record.pmid:
        keys.append("p" + record.pmid)
    keys.extend(_title_keys(record.title))
    for alt in record.title_alts:
        keys.extend(_title_keys(alt))
    first = record.surnames[0] if record.surnames else ""
    if first and record.year:
        keys.append(f"a{first}|{record.year}")
    if record.volume and record.first_digits:
        keys.append(f"v{record.year or ''}|{record.volume}|{record.first_digits}")
    return keys


def _close_in_title(records: list[Prepared], members: list[int]) -> list[tuple[int, int]]:
    """Pairs of a title-keyed block that may be more than plainly different: titles at least
    80% similar (computed in C for the whole block at once), or one title possibly the other
    without its subtitle, or a record with a second title or none at all. The exact first
    look is :func:`score.plainly_different`; this only avoids a Python loop over hopeless
    pairs."""
    titles = [records[i].title for i in members]
    similar = cdist(
        titles, titles, scorer=Indel.normalized_similarity, score_cutoff=FIRST_LOOK,
        dtype=np.float32, workers=1,
    )  # fmt: skip
    keep = np.triu(similar > 0, 1)
    lengths = np.array([len(t) for t in titles], dtype=np.float32)
    short = np.minimum.outer(lengths, lengths)
    long_ = np.maximum.outer(lengths, lengths)
    keep |= np.triu(short < FIRST_LOOK * long_, 1)  # a ratio below the cutoff: maybe a prefix
    special = [x for x, i in enumerate(members) if records[i].title_alts or not records[i].title]
    for x in special:
        keep[x, x + 1 :] = True
        keep[:x, x] = True
    xs, ys = np.nonzero(keep)
    return [(members[x], members[y]) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)]


def candidate_pairs(records: list[Prepared], max_block: int = MAX_BLOCK) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` with ``i < j`` (indices into ``records``) that share a usable key."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for position, record in enumerate(records):
        for key in set(keys_of(record)):
            blocks[key].append(position)
    n = len(records)
    seen: set[int] = set()
    for key, members in blocks.items():
        size = len(members)
        if size < 2:
            continue
        # identifiers are exact: a big DOI block is a shared supplement DOI, still worth it
        if size > max_block and key[0] not in "dp":
            continue
        if size > 4 * max_block:
            continue
        if key[0] in "sea" and size > 2:
            for i, j in _close_in_title(records, members):
                seen.add(i * n + j if i < j else j * n + i)
            continue
        for x in range(size):
            i = members[x]
            for y in range(x + 1, size):
                j = members[y]
                seen.add(i * n + j if i < j else j * n + i)
    return [divmod(code, n) for code in sorted(seen)]
