"""Any record text gives keys and groups, never a crash (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewflow.dedup.normalise import pages_of, prepare
from reviewflow.dedup.pipeline import deduplicate
from reviewflow.records import RecordData

text = st.text(max_size=80)
records = st.builds(
    RecordData,
    title=text,
    authors=st.lists(text, max_size=4),
    year=st.one_of(st.none(), st.integers(1900, 2030)),
    journal=text,
    volume=st.text(max_size=8),
    issue=st.text(max_size=8),
    pages=st.text(max_size=12),
    doi=text,
    pmid=st.text("0123456789", max_size=8),
    abstract=text,
    publication_types=st.lists(text, max_size=2),
)


@given(records)
def test_prepare_never_crashes(record: RecordData) -> None:
    prepared = prepare(record, 0)
    assert prepared.title == prepared.title.strip()
    assert prepared.title.isascii()


@given(st.text(max_size=20))
def test_pages_never_crash(value: str) -> None:
    first, last = pages_of(value)
    assert isinstance(first, str) and isinstance(last, str)


@settings(max_examples=50)
@given(st.lists(records, max_size=8))
def test_groups_partition_the_records(batch: list[RecordData]) -> None:
    doubled = batch + [RecordData(**r.to_dict()) for r in batch]  # exact copies
    result = deduplicate(doubled)
    members = sorted(i for group in result.groups for i in group)
    assert members == list(range(len(doubled)))
    assert result.duplicates_removed == len(doubled) - len(result.groups)
