"""Shared helpers for the dedup tests: the labelled sets in tests/data/dedup."""

from __future__ import annotations

from pathlib import Path

from reviewflow.acquire.readers import read_file
from reviewflow.dedup.evaluate import PairwiseMetrics, pairwise, read_true_groups
from reviewflow.dedup.pipeline import DedupResult, deduplicate
from reviewflow.records import RecordData

DATA = Path(__file__).parent.parent / "data" / "dedup"
SETS = ("cytology_screening", "haematology", "special_cases")


def labelled(name: str) -> list[RecordData]:
    return read_file(DATA / name / "records_pre_merged.csv", mapping={"source_key": "ID"})


def evaluate(name: str) -> tuple[list[RecordData], DedupResult, PairwiseMetrics]:
    records = labelled(name)
    result = deduplicate(records)
    ids = [r.source_key for r in records]
    groups = [[ids[i] for i in g] for g in result.groups if len(g) > 1]
    truth = read_true_groups(DATA / name / "merged_record_ids.csv")
    return records, result, pairwise(groups, truth)


def merged(a: RecordData, b: RecordData, **kw: object) -> bool:
    """Whether ``deduplicate`` puts the two records in one group."""
    result = deduplicate([a, b], **kw)  # type: ignore[arg-type]
    return result.group_of[0] == result.group_of[1]


def queued(a: RecordData, b: RecordData) -> bool:
    """Whether the pair goes to the manual queue."""
    return bool(deduplicate([a, b]).maybe)


def record(**fields: object) -> RecordData:
    return RecordData(**fields)  # type: ignore[arg-type]
