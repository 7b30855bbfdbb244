"""The bibliographic record as it crosses module boundaries.

Readers produce :class:`RecordData`; dedup compares them; the store saves them. It is a plain
value: no database session, no ORM object.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RecordData:
    """One bibliographic record, as read from a source.

    ``authors`` holds display names "Last Initials" (``"Smith JA"``) or a collective name
    (``"Canadian Respiratory Research Network"``), in the source's order.
    ``source_key`` is the record's identifier inside its source (PMID, RIS ID, CSV row id…).
    """

    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    journal_abbrev: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    issn: str = ""
    language: list[str] = field(default_factory=list)
    publication_types: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    vernacular_title: str = ""
    # links to other PMIDs: [{"type": "ErratumFor", "pmid": "123"}, …]
    comments_corrections: list[dict[str, str]] = field(default_factory=list)
    # "article" | "book" | "book-chapter" | "conference" | "other"
    record_type: str = "article"
    url: str = ""
    source_key: str = ""
    # anything else a reader wants to keep (the raw date string, the structured abstract parts…)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
