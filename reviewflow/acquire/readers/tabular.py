"""CSV and TSV: one record per row, columns found by name or given by a mapping.

Header names are matched loosely (case, spaces, ``_`` and punctuation ignored) against the
names other tools write: bib-dedupe/CoLRev (``ID, title, author, year, journal, …``), the
Cohen 2006 screening sets (``record_id, pubmedID, title, authors, abstract, year``), PubMed's
own CSV export (``PMID, Title, Authors, Journal/Book, Publication Year, DOI``), Rayyan,
Covidence and EndNote tab-delimited exports. ``mapping={"title": "Article Name"}`` overrides.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path

from reviewflow.acquire.readers._common import (
    decode,
    fail,
    one_line,
    set_doi,
    split_authors,
    year_of,
)
from reviewflow.records import RecordData

# RecordData field → header names (normalised: lower case, letters and digits only)
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "articletitle", "ti", "primarytitle", "documenttitle", "t1"),
    "abstract": ("abstract", "ab", "abstracttext", "abstractnote", "n2"),
    "authors": ("authors", "author", "au", "authorfullnames", "authorlist", "creators"),
    "year": ("year", "publicationyear", "pubyear", "py", "yearpublished", "date", "pubdate"),
    "journal": (
        "journal", "journalbook", "journaltitle", "sourcetitle", "publicationtitle",
        "secondarytitle", "jf", "jo", "t2", "source", "booktitle",
    ),
    "journal_abbrev": ("journalabbreviation", "isoabbreviation", "ta", "ja", "j2"),
    "volume": ("volume", "vl", "vol"),
    "issue": ("issue", "number", "is", "no"),
    "pages": ("pages", "page", "pagination", "pg"),
    "doi": ("doi", "do", "digitalobjectidentifier"),
    "pmid": ("pmid", "pubmedid", "pubmed", "pmidpubmedid"),
    "pmcid": ("pmcid", "pmc"),
    "issn": ("issn", "sn", "issnisbn"),
    "language": ("language", "la", "languageoforiginaldocument"),
    "keywords": ("keywords", "keyword", "authorkeywords", "kw", "ot"),
    "url": ("url", "link", "ur"),
    "record_type": ("entrytype", "documenttype", "referencetype", "ty"),
    "source_key": ("id", "recordid", "key", "recid", "citationkey", "refid", "accessionnumber"),
}  # fmt: skip
FIELDS = tuple(ALIASES)
_LIST_FIELDS = ("language", "keywords")
_TYPES = {
    "article": "article", "journalarticle": "article", "jour": "article",
    "inproceedings": "conference", "conferencepaper": "conference", "proceedings": "conference",
    "conf": "conference", "book": "book", "incollection": "book-chapter",
    "inbook": "book-chapter", "bookchapter": "book-chapter", "chap": "book-chapter",
}  # fmt: skip


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def find_columns(
    header: list[str], mapping: Mapping[str, str] | None, path: Path | str
) -> dict[str, int]:
    """RecordData field → column index, from the mapping first, then the header names."""
    columns: dict[str, int] = {}
    exact = {name.strip(): i for i, name in enumerate(header)}
    loose: dict[str, int] = {}
    for i, name in enumerate(header):
        loose.setdefault(_key(name), i)
    for field, column in (mapping or {}).items():
        if field not in ALIASES:
            known = ", ".join(FIELDS)
            raise fail(path, "", f"unknown record field {field!r} in the mapping (fields: {known})")
        index = exact.get(column.strip(), loose.get(_key(column)))
        if index is None:
            shown = ", ".join(h for h in header if h)
            raise fail(path, "line 1", f"no column {column!r} for {field} (columns: {shown})")
        columns[field] = index
    taken = set(columns.values())
    for field, names in ALIASES.items():
        if field in columns:
            continue
        for name in names:
            index = loose.get(name)
            if index is not None and index not in taken:
                columns[field] = index
                taken.add(index)
                break
    booktitle = loose.get("booktitle")
    if booktitle is not None and booktitle not in taken:
        columns["_booktitle"] = booktitle  # the journal of a conference paper or chapter
    if not {"title", "pmid", "doi"} & columns.keys():
        shown = ", ".join(h for h in header if h)
        raise fail(
            path,
            "line 1",
            f"no title, pmid or doi column (columns: {shown}); map one, e.g. --map title=COLUMN",
        )
    return columns


def read_table(
    path: Path | str,
    *,
    delimiter: str | None = None,
    mapping: Mapping[str, str] | None = None,
    encoding: str = "utf-8-sig",
) -> list[RecordData]:
    """Every row of a CSV or TSV file with a header line.

    ``delimiter`` defaults to whichever of comma, tab or semicolon (European spreadsheets)
    the header line uses most.
    """
    path = Path(path)
    text = decode(path.read_bytes(), path, encoding)
    if not text.strip():
        raise fail(path, "", "the file is empty")
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = max((",", "\t", ";"), key=first.count)
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(16 * 1024 * 1024)
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    try:
        header = next(reader, [])
        columns = find_columns(header, mapping, path)
        used = set(columns.values())
        unmapped = [i for i, name in enumerate(header) if i not in used and name.strip()]
        records: list[RecordData] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
                raise fail(
                    path,
                    f"line {reader.line_num}",
                    f"{len(row)} fields but the header has {len(header)}",
                )
            record = _record(row, columns, len(records) + 1, reader.line_num)
            others = {header[i]: row[i] for i in unmapped if i < len(row) and row[i].strip()}
            if others:
                record.extra["columns"] = others
            records.append(record)
    except csv.Error as exc:
        raise fail(path, f"line {reader.line_num}", f"not valid CSV ({exc})") from None
    finally:
        csv.field_size_limit(previous_limit)
    return records


def _record(row: list[str], columns: dict[str, int], index: int, line: int) -> RecordData:
    def cell(field: str) -> str:
        i = columns.get(field)
        return row[i].strip() if i is not None and i < len(row) else ""

    record = RecordData()
    for field in ("title", "journal", "journal_abbrev", "volume", "issue", "pages", "issn"):
        setattr(record, field, one_line(cell(field)))
    record.journal = record.journal or one_line(cell("_booktitle"))
    record.abstract = cell("abstract").strip()
    record.authors = split_authors(cell("authors"))
    record.year = year_of(cell("year"))
    set_doi(record, cell("doi"))
    pmid = cell("pmid")
    record.pmid = pmid if pmid.isdigit() else ""
    record.pmcid = cell("pmcid")
    record.url = cell("url")
    for field in _LIST_FIELDS:
        value = cell(field)
        parts = re.split(r"\s*;\s*", value) if value else []
        setattr(record, field, [p for p in parts if p])
    kind = _key(cell("record_type"))
    record.record_type = _TYPES.get(kind, "other") if kind else "article"
    record.source_key = cell("source_key") or record.pmid or str(index)
    record.extra["line"] = line
    return record
