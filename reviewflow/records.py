"""The bibliographic record as it crosses module boundaries.

Readers produce :class:`RecordData`; dedup compares them; the store saves them. It is a plain
value: no database session, no ORM object.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from json.encoder import encode_basestring_ascii as _json_string  # type: ignore[attr-defined]
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


# RecordData's fields in order, and those the database stores as JSON (a list or a mapping).
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(RecordData))
JSON_FIELDS = frozenset(
    {"authors", "language", "publication_types", "mesh_terms", "keywords",
     "comments_corrections", "extra"}
)  # fmt: skip
_IS_JSON = tuple(name in JSON_FIELDS for name in FIELD_NAMES)
_JSON_AT = tuple(i for i, is_json in enumerate(_IS_JSON) if is_json)
_VALUES = operator.attrgetter(*FIELD_NAMES)


def encode(record: RecordData) -> tuple[Any, ...]:
    """The record's values in :data:`FIELD_NAMES` order, its JSON fields as JSON text: what the
    database stores, and flat strings that pickle and unpickle fast (worker processes send
    records this way)."""
    values = list(_VALUES(record))
    for i in _JSON_AT:
        values[i] = json_text(values[i])
    return tuple(values)


def decode(values: Sequence[Any]) -> RecordData:
    """The record :func:`encode` gave ``values`` for."""
    return RecordData(
        *(json.loads(v) if is_json else v for v, is_json in zip(values, _IS_JSON, strict=True))
    )


def json_text(value: Any) -> str:
    """``json.dumps(value)``, byte for byte; a list of strings is joined directly (a third of
    the time)."""
    if type(value) is list:
        for item in value:
            if type(item) is not str:
                return json.dumps(value)
        return "[" + ", ".join(map(_json_string, value)) + "]"
    return json.dumps(value)
