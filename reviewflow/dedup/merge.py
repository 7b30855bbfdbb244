"""Stage 6: merge a group — choose the record to keep, and fill its gaps from the others.

The kept (canonical) record is the most complete one (identifiers and an abstract count most;
ties go to the record read first). Nothing is thrown away: the merged view lists every source
record it came from, and the review keeps every record as a row with a link to the kept one.
"""

from __future__ import annotations

from dataclasses import replace

from reviewflow.dedup.normalise import completeness
from reviewflow.records import RecordData

_FILLABLE = (
    "title", "abstract", "authors", "year", "journal", "journal_abbrev", "volume", "issue",
    "pages", "doi", "pmid", "pmcid", "issn", "vernacular_title", "url",
)  # fmt: skip


def choose_kept(records: list[RecordData], members: list[int]) -> int:
    """The member to keep: most complete, then first read."""
    return max(members, key=lambda i: (completeness(records[i]), -i))


def merged_record(records: list[RecordData], members: list[int]) -> RecordData:
    """The kept record with empty fields filled from the other members (most complete first);
    ``extra["merged_from"]`` lists every member's ``source_key`` (or position)."""
    kept = choose_kept(records, members)
    others = sorted((i for i in members if i != kept), key=lambda i: (-completeness(records[i]), i))
    merged = replace(records[kept], extra=dict(records[kept].extra))
    for i in others:
        donor = records[i]
        for name in _FILLABLE:
            if not getattr(merged, name) and getattr(donor, name):
                setattr(merged, name, getattr(donor, name))
    merged.extra["merged_from"] = [records[i].source_key or str(i) for i in sorted(members)]
    return merged
