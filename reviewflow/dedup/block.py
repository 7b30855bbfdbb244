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

from reviewflow.dedup.normalise import Prepared

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
    if record.title_alt:
        keys.extend(_title_keys(record.title_alt))
    first = record.surnames[0] if record.surnames else ""
    if first and record.year:
        keys.append(f"a{first}|{record.year}")
    if record.volume and record.first_page:
        keys.append(f"v{record.year or ''}|{record.volume}|{record.first_page}")
    return keys


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
        for x in range(size):
            i = members[x]
            for y in range(x + 1, size):
                j = members[y]
                seen.add(i * n + j if i < j else j * n + i)
    return [divmod(code, n) for code in sorted(seen)]
