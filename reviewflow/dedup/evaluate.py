"""Pairwise precision and sensitivity of a grouping against labelled duplicate groups.

A group of n records stands for n·(n−1)/2 duplicate pairs. Precision is the share of the pairs
merged that are true duplicates; sensitivity (recall) the share of true duplicate pairs merged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path


@dataclass(frozen=True)
class PairwiseMetrics:
    true_pairs: int
    merged_pairs: int
    correct_pairs: int

    @property
    def false_merges(self) -> int:
        return self.merged_pairs - self.correct_pairs

    @property
    def missed(self) -> int:
        return self.true_pairs - self.correct_pairs

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.merged_pairs if self.merged_pairs else 1.0

    @property
    def sensitivity(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def pairs_of(groups: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for group in groups:
        members = sorted(set(group))
        found.update(combinations(members, 2))
    return found


def pairwise(predicted: Iterable[Iterable[str]], truth: Iterable[Iterable[str]]) -> PairwiseMetrics:
    got, want = pairs_of(predicted), pairs_of(truth)
    return PairwiseMetrics(len(want), len(got), len(got & want))


def read_true_groups(path: Path) -> list[list[str]]:
    """A bib-dedupe ``merged_record_ids.csv``: one group per row, ``;``-separated IDs."""
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            [x.strip() for x in row["merged_ids"].split(";") if x.strip()]
            for row in csv.DictReader(fh)
        ]
