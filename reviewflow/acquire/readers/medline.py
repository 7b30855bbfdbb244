"""MEDLINE text: PubMed's "Save → PubMed format" (.nbib, .txt).

A record is a run of ``TAG - value`` lines (the tag padded to four characters), continuation
lines indented by six spaces, records separated by blank lines. Unlike ``Bio.Medline``, every
repeated tag stays a separate value, so two ``LID`` lines (``10.1/x [doi]`` and ``S0001 [pii]``)
or two ``IS`` lines are not glued into one string.
"""

from __future__ import annotations

import re
from pathlib import Path

from reviewflow.acquire.readers._common import (
    author_name,
    decode,
    display_name,
    fail,
    set_doi,
    year_of,
)
from reviewflow.records import RecordData

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]{0,3}) *- ?(.*)$")
_SUFFIXED = re.compile(r"^(.*?)\s*\[([a-z\-]+)\]\s*$")
_PMID_IN = re.compile(r"PMID:\s*(\d+)")

# MEDLINE comment/correction tags and their XML RefType
LINK_TAGS = {
    "CIN": "CommentIn",
    "CON": "CommentOn",
    "EIN": "ErratumIn",
    "EFR": "ErratumFor",
    "RIN": "RetractionIn",
    "ROF": "RetractionOf",
    "UIN": "UpdateIn",
    "UOF": "UpdateOf",
    "RPI": "RepublishedIn",
    "RPF": "RepublishedFrom",
    "CRI": "CorrectedandRepublishedIn",
    "CRF": "CorrectedandRepublishedFrom",
    "ECI": "ExpressionOfConcernIn",
    "ECF": "ExpressionOfConcernFor",
    "SPIN": "SummaryForPatientsIn",
    "ORI": "OriginalReportIn",
}


def parse_medline(text: str, path: Path | str) -> list[tuple[int, list[tuple[str, str]]]]:
    """Records as (first line number, [(tag, value), …]), repeated tags kept apart."""
    records: list[tuple[int, list[tuple[str, str]]]] = []
    fields: list[tuple[str, str]] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("      ") and fields:  # a continuation line (blank ones too)
            tag, value = fields[-1]
            fields[-1] = (tag, f"{value} {line.strip()}".strip())
            continue
        if not line.strip():
            if fields:
                records.append((start, fields))
                fields = []
            continue
        if line[:1] == " ":
            where = f"record {len(records) + 1} (line {number})"
            if not fields:
                raise fail(path, where, "continuation line before any tag")
            raise fail(path, where, "continuation line not indented by six spaces")
        match = _TAG_LINE.match(line)
        if not match or line[4:6] not in ("- ", "-"):
            where = f"record {len(records) + 1} (line {number})"
            raise fail(path, where, f"not a MEDLINE line: {line[:40]!r}")
        if not fields:
            start = number
        fields.append((match.group(1), match.group(2).strip()))
    if fields:
        records.append((start, fields))
    return records


def read_medline(path: Path | str, encoding: str = "utf-8-sig") -> list[RecordData]:
    """Every record in a MEDLINE/.nbib file."""
    path = Path(path)
    text = decode(path.read_bytes(), path, encoding)
    if not text.strip():
        raise fail(path, "", "the file is empty")
    out = []
    for index, (line, fields) in enumerate(parse_medline(text, path), start=1):
        if fields[0][0] != "PMID" and not any(tag == "TI" for tag, _ in fields):
            raise fail(path, f"record {index} (line {line})", "no PMID or TI line")
        out.append(_record(fields))
    return out


def _record(fields: list[tuple[str, str]]) -> RecordData:
    record = RecordData()
    extra = record.extra
    full_names: list[str] = []
    short_names: list[str] = []
    authors: list[tuple[str, str]] = []  # (kind, name) in file order
    for tag, value in fields:
        if tag == "PMID":
            record.pmid = record.source_key = value
        elif tag == "TI":
            record.title = value
        elif tag == "TT":
            record.vernacular_title = value
        elif tag == "AB":
            record.abstract = value
        elif tag == "FAU":
            full_names.append(value)
            authors.append(("FAU", value))
        elif tag == "AU":
            short_names.append(value)
            authors.append(("AU", value))
        elif tag == "CN":
            authors.append(("CN", value))
        elif tag == "AUID":
            extra.setdefault("author_ids", []).append(value)
        elif tag == "DP":
            record.year = year_of(value)
            extra["pub_date"] = value
        elif tag == "JT":
            record.journal = value
        elif tag == "TA":
            record.journal_abbrev = value
        elif tag == "VI":
            record.volume = value
        elif tag == "IP":
            record.issue = value
        elif tag == "PG":
            record.pages = value
        elif tag in ("LID", "AID"):
            _location(record, value)
        elif tag == "IS":
            extra.setdefault("issns", []).append(value)
            if not record.issn:
                record.issn = value.split(" ")[0]
        elif tag == "LA":
            record.language.append(value)
        elif tag == "PT":
            record.publication_types.append(value)
        elif tag == "MH":
            record.mesh_terms.append(value.split("/")[0].lstrip("*"))
        elif tag == "OT":
            record.keywords.append(value)
        elif tag == "PMC":
            record.pmcid = value
        elif tag == "STAT":
            extra["status"] = value
        elif tag in LINK_TAGS:
            pmid = _PMID_IN.search(value)
            link = {"type": LINK_TAGS[tag], "pmid": pmid.group(1) if pmid else ""}
            link["source"] = _PMID_IN.sub("", value).strip()
            record.comments_corrections.append(link)
        elif tag == "BTI":
            extra["book_title"] = value
            record.record_type = "book"
    record.authors = _authors(authors, bool(full_names), bool(short_names))
    if not record.journal and "book_title" in extra and record.title:
        record.record_type = "book-chapter"
        record.journal = extra["book_title"]
    elif not record.title and "book_title" in extra:
        record.title = extra["book_title"]
    return record


def _location(record: RecordData, value: str) -> None:
    """``LID``/``AID`` values: ``10.1118/1.4748329 [doi]``, ``S0001 [pii]``, ``e123 [pii]``."""
    match = _SUFFIXED.match(value)
    kind, ident = (match.group(2), match.group(1)) if match else ("", value)
    if kind == "doi":
        if not record.doi:
            set_doi(record, ident)
    elif kind:
        record.extra.setdefault("article_ids", {}).setdefault(kind, ident)


def _authors(entries: list[tuple[str, str]], have_full: bool, have_short: bool) -> list[str]:
    """People from AU ("Smith JA", as PubMed prints them; FAU when a file has no AU lines)
    and organisations from CN, in file order."""
    names = []
    for kind, value in entries:
        if kind == "CN":
            names.append(value)
        elif kind == "AU" or (kind == "FAU" and not have_short):
            if kind == "FAU" and "," in value:
                last, _, given = value.partition(",")
                names.append(display_name(last, given))
            else:
                names.append(author_name(value))
    return [n for n in names if n]
