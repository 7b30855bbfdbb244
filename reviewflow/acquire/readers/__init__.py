"""Reading bibliographic files into :class:`RecordData`.

``read_file(path)`` tells the format from the content (and the file name when the content is
not conclusive) and returns every record, or raises :class:`InputError` with one line naming the
file and the place. A file either reads completely or not at all.

Formats: ``pubmed-xml`` (efetch XML, NLM baseline files, gzip too), ``medline`` (.nbib, PubMed
format text), ``ris``, ``csv``, ``tsv``.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Mapping
from pathlib import Path

from reviewflow.acquire.readers._common import bom_encoding, fail
from reviewflow.acquire.readers.medline import read_medline
from reviewflow.acquire.readers.pubmed_xml import iter_pubmed_xml, read_pubmed_xml
from reviewflow.acquire.readers.ris import read_ris
from reviewflow.acquire.readers.tabular import read_table
from reviewflow.records import RecordData

FORMATS = ("pubmed-xml", "medline", "ris", "csv", "tsv")

_BY_SUFFIX = {
    ".xml": "pubmed-xml",
    ".gz": "pubmed-xml",
    ".nbib": "medline",
    ".medline": "medline",
    ".ris": "ris",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
}
_MEDLINE_START = re.compile(r"^PMID- ?\d", re.MULTILINE)
_RIS_START = re.compile(r"^TY  - ", re.MULTILINE)


def detect_format(path: Path | str) -> str:
    """The format of ``path``: from its first bytes, else from its name."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise fail(path, "", f"cannot read the file ({exc.strerror or exc})") from None
    if not head.strip():
        raise fail(path, "", "the file is empty")
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as fh:
                head = fh.read(4096)
        except (OSError, EOFError) as exc:
            raise fail(path, "", f"unreadable gzip data ({exc})") from None
        if not head.strip():
            raise fail(path, "", "the file is empty (after gunzip)")
    sniffed = _sniff(head)
    if sniffed:
        return sniffed
    suffix = path.suffix.lower()
    if suffix in _BY_SUFFIX and suffix not in (".xml", ".gz"):
        return _BY_SUFFIX[suffix]
    raise fail(
        path,
        "",
        "cannot tell the format (PubMed XML, MEDLINE/.nbib, RIS, CSV or TSV); "
        "give it with --format",
    )


def _sniff(head: bytes) -> str | None:
    encoding = bom_encoding(head) or "utf-8"
    text = head.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "pubmed-xml"
    if _MEDLINE_START.search(text[:2000]):
        return "medline"
    if _RIS_START.search(text):
        return "ris"
    first = text.split("\n", 1)[0]
    if first.count("\t") >= 2 and first.count("\t") > first.count(","):
        return "tsv"
    if first.count(",") >= 2 or first.count(";") >= 2:
        return "csv"
    return None


def read_file(
    path: Path | str,
    format: str | None = None,
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str = "utf-8-sig",
) -> list[RecordData]:
    """Every record in ``path``; ``format`` one of :data:`FORMATS` (default: detected).

    ``mapping`` (CSV/TSV only) maps record fields to column names; ``encoding`` applies to the
    text formats (XML declares its own).
    """
    path = Path(path)
    if not path.is_file():
        raise fail(path, "", "no such file" if not path.exists() else "not a file")
    kind = format or detect_format(path)
    if kind not in FORMATS:
        raise fail(path, "", f"unknown format {kind!r} (known: {', '.join(FORMATS)})")
    if mapping and kind not in ("csv", "tsv"):
        raise fail(path, "", "a column mapping applies only to CSV/TSV files")
    if kind == "pubmed-xml":
        return read_pubmed_xml(path)
    if kind == "medline":
        return read_medline(path, encoding)
    if kind == "ris":
        return read_ris(path, encoding)
    return read_table(
        path, delimiter="\t" if kind == "tsv" else None, mapping=mapping, encoding=encoding
    )


__all__ = [
    "FORMATS",
    "detect_format",
    "iter_pubmed_xml",
    "read_file",
    "read_medline",
    "read_pubmed_xml",
    "read_ris",
    "read_table",
]
