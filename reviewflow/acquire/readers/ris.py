"""RIS (EndNote, Zotero, Embase, Scopus, Web of Science exports), read with rispy.

rispy silently drops a last record that has no ``ER`` line and takes a stray ``TY`` inside a
record as data. A first pass over the lines checks the structure (every ``TY`` closed by an
``ER`` before the next ``TY``) so that a truncated file is an error naming the record and the
line, and each record keeps its line number for later messages.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import rispy

from reviewflow.acquire.readers._common import (
    author_name,
    decode,
    fail,
    one_line,
    set_doi,
    year_of,
)
from reviewflow.records import RecordData

_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")

# RIS reference types → RecordData.record_type
_TYPES = {
    "JOUR": "article",
    "JFULL": "article",
    "EJOUR": "article",
    "MGZN": "article",
    "NEWS": "article",
    "ABST": "article",
    "INPR": "article",
    "BOOK": "book",
    "EBOOK": "book",
    "EDBOOK": "book",
    "CHAP": "book-chapter",
    "ECHAP": "book-chapter",
    "CONF": "conference",
    "CPAPER": "conference",
}


def record_lines(text: str, path: Path | str) -> list[int]:
    """The line number of each record's ``TY``; an error if a record is not closed by ``ER``."""
    starts: list[int] = []
    open_at = 0
    for number, line in enumerate(text.splitlines(), start=1):
        match = _TAG.match(line.rstrip())
        if not match:
            continue
        tag = match.group(1)
        if tag == "TY":
            if open_at:
                where = f"record {len(starts)} (line {open_at})"
                raise fail(path, where, f"no ER line before the next TY at line {number}")
            starts.append(number)
            open_at = number
        elif tag == "ER":
            if not open_at:
                raise fail(path, f"line {number}", "ER line outside a record")
            open_at = 0
        elif not open_at:
            where = f"line {number}"
            raise fail(path, where, f"tag {tag} outside a record (missing TY line?)")
    if open_at:
        where = f"record {len(starts)} (line {open_at})"
        raise fail(path, where, "truncated: the record has no ER line")
    return starts


def read_ris(path: Path | str, encoding: str = "utf-8-sig") -> list[RecordData]:
    """Every record in an RIS file."""
    path = Path(path)
    text = decode(path.read_bytes(), path, encoding)
    if not text.strip():
        raise fail(path, "", "the file is empty")
    starts = record_lines(text, path)
    if not starts:
        raise fail(path, "line 1", "no RIS record (no 'TY  - ' line)")
    try:
        entries = rispy.loads(text, skip_unknown_tags=False)
    except Exception as exc:  # rispy raises bare exceptions on odd input
        raise fail(path, "", f"not readable as RIS ({type(exc).__name__}: {exc})") from None
    if len(entries) != len(starts):
        raise fail(path, "", f"found {len(starts)} TY lines but read {len(entries)} records")
    return [_record(entry, i, starts[i - 1]) for i, entry in enumerate(entries, start=1)]


def _first(entry: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            value = next((v for v in value if v and str(v).strip()), "")
        if value and str(value).strip():
            return one_line(str(value))
    return ""


def _record(entry: dict[str, Any], index: int, line: int) -> RecordData:
    kind = _first(entry, "type_of_reference").upper()
    record = RecordData(record_type=_record_type(kind))
    record.title = _first(entry, "title", "primary_title", "short_title")
    record.abstract = _first(entry, "abstract", "notes_abstract")
    people: list[str] = []
    for key in ("authors", "first_authors"):
        people.extend(v for v in entry.get(key) or [] if isinstance(v, str))
    record.authors = [n for n in (author_name(p) for p in people) if n]
    record.year = year_of(_first(entry, "year", "publication_year", "date"))
    journal = _first(entry, "secondary_title", "journal_name", "alternate_title3")
    if record.record_type in ("book", "book-chapter") and not journal:
        journal = _first(entry, "secondary_title", "tertiary_title")
    record.journal = journal
    record.journal_abbrev = _first(entry, "alternate_title2", "alternate_title1")
    record.volume = _first(entry, "volume")
    record.issue = _first(entry, "number")
    start, end = _first(entry, "start_page"), _first(entry, "end_page")
    record.pages = f"{start}-{end}" if start and end and end != start else start
    set_doi(record, _first(entry, "doi"))
    if not record.doi:
        for url in entry.get("urls") or []:
            if "doi.org/" in str(url):
                set_doi(record, str(url))
                break
    record.issn = _first(entry, "issn").split(" ")[0]
    language = _first(entry, "language")
    record.language = [language] if language else []
    record.keywords = [
        one_line(k).lstrip("*") for k in entry.get("keywords") or [] if str(k).strip()
    ]
    urls = [str(u) for u in entry.get("urls") or [] if str(u).strip()]
    record.url = urls[0] if urls else ""
    accession = _first(entry, "accession_number")
    if accession.isdigit() and _looks_like_pubmed(entry):
        record.pmid = accession
    record.source_key = _first(entry, "id") or accession or str(index)
    record.extra["ris_type"] = kind
    record.extra["line"] = line
    publisher = _first(entry, "publisher")
    if publisher:
        record.extra["publisher"] = publisher
    return record


def _record_type(kind: str) -> str:
    if not kind:
        return "article"
    if kind in _TYPES:
        return _TYPES[kind]
    for word, record_type in (
        ("JOUR", "article"), ("CHAP", "book-chapter"), ("SECTION", "book-chapter"),
        ("BOOK", "book"), ("CONF", "conference"),
    ):  # fmt: skip
        if word in kind:
            return record_type
    return "other"


def _looks_like_pubmed(entry: dict[str, Any]) -> bool:
    """AN holds a PMID in PubMed-derived exports (database name PubMed/MEDLINE)."""
    database = _first(entry, "name_of_database", "database_provider").lower()
    return "pubmed" in database or "medline" in database
