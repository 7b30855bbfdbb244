"""Stage 5: cluster duplicate pairs into groups with union-find.

Transitivity is where silent false merges come from (A≈B and B≈C, yet A and C are different
papers). A union is refused when it would put into one group two records that a rule says are
different (a vetoed pair), two different non-preprint DOIs, or two different PMIDs; the refused
pair is sent to the manual queue instead. Pairs are joined strongest first (PMID, DOI, then by
score), so the weak link is the one refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from reviewflow.dedup.normalise import Prepared


@dataclass
class _Group:
    members: list[int]
    dois: set[str] = field(default_factory=set)
    pmids: set[str] = field(default_factory=set)


class Clusters:
    """Union-find over record positions, with the constraints above."""

    def __init__(self, records: list[Prepared], cannot_link: Iterable[tuple[int, int]]) -> None:
        self.parent = list(range(len(records)))
        self.groups: dict[int, _Group] = {}
        for r in records:
            group = _Group([r.index])
            if r.doi and not r.preprint:
                group.dois.add(r.doi)
            if r.pmid:
                group.pmids.add(r.pmid)
            self.groups[r.index] = group
        self.enemies: dict[int, set[int]] = {}
        for i, j in cannot_link:
            self.enemies.setdefault(i, set()).add(j)
            self.enemies.setdefault(j, set()).add(i)

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def _compatible(self, a: _Group, b: _Group) -> bool:
        if a.dois and b.dois and a.dois != b.dois:
            return False
        if a.pmids and b.pmids and a.pmids != b.pmids:
            return False
        small, large = (a, b) if len(a.members) <= len(b.members) else (b, a)
        large_set = set(large.members)
        for member in small.members:
            enemies = self.enemies.get(member)
            if enemies and not enemies.isdisjoint(large_set):
                return False
        return True

    def union(self, i: int, j: int, *, force: bool = False) -> bool:
        """Join the groups of ``i`` and ``j``; False (nothing changed) if that is refused.
        ``force`` (a person confirmed the pair) skips the identifier checks."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return True
        a, b = self.groups[ri], self.groups[rj]
        if not force and not self._compatible(a, b):
            return False
        if len(a.members) < len(b.members):
            ri, rj, a, b = rj, ri, b, a
        self.parent[rj] = ri
        a.members.extend(b.members)
        a.dois |= b.dois
        a.pmids |= b.pmids
        del self.groups[rj]
        return True

    def components(self) -> list[list[int]]:
        """Every group (singletons included), members sorted, groups ordered by first member."""
        return sorted((sorted(g.members) for g in self.groups.values()), key=lambda m: m[0])
