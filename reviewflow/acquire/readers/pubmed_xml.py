"""PubMed XML: efetch output (``PubmedArticleSet``) and NLM baseline files (``MedlineCitationSet``).

Streamed with lxml ``iterparse``: each ``PubmedArticle`` / ``PubmedBookArticle`` (or, in a
baseline file, each top-level ``MedlineCitation``) is read into a :class:`RecordData` and then
cleared, so memory stays flat on a 30,000-record file. Gzip files are read as they are.

No DTD is loaded, no entity is resolved and nothing is fetched (:mod:`reviewflow.acquire.xml_guard`):
PubMed's DTD only declares structure, and the character entities PubMed uses are numeric. A file
that declares entities is refused.

Reference lists (``<ReferenceList>``, often a third or more of a modern efetch file) are not
records' data here: they are cut out of the byte stream before lxml sees them, keeping their
line breaks so that error messages still name the right line.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lxml import etree

from reviewflow.acquire.readers._common import clean_doi, display_name, fail, year_of
from reviewflow.acquire.readers._stream import WithoutReferenceLists
from reviewflow.acquire.xml_guard import (
    SAFE,
    declared_entities,
    entity_problem,
    expansion_problem,
    is_expansion_error,
)
from reviewflow.records import RecordData

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "MedlineCitation", "DeleteCitation")
_SETS = ("PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet")
_MATHML = "{http://www.w3.org/1998/Math/MathML}"
_TRANSLATED = re.compile(r"^\[(.+)\](\.?)$", re.DOTALL)


def read_pubmed_xml(path: Path | str) -> list[RecordData]:
    """Every record in a PubMed XML file (plain or gzip), in file order."""
    return list(iter_pubmed_xml(path))


def iter_pubmed_xml(
    path: Path | str, byte_range: tuple[int, int] | None = None
) -> Iterator[RecordData]:
    """Records one at a time; raises :class:`InputError` naming the file and line on bad XML.

    ``byte_range`` (start, stop) reads only those bytes of a plain ``PubmedArticleSet`` file,
    cut at record boundaries (see :mod:`reviewflow.acquire.readers.worker`), as a document of its
    own. Its errors name lines of the part, not of the file: the caller re-reads the whole file
    to report one.
    """
    path = Path(path)
    with _open(path, byte_range) as stream:
        context = etree.iterparse(
            stream,
            events=("end",),
            tag=_RECORD_TAGS,
            remove_comments=True,
            huge_tree=True,
            **SAFE,
        )
        count = 0
        try:
            for _event, elem in context:
                if count == 0:
                    _refuse_entities(elem, path)
                tag = elem.tag
                if tag == "MedlineCitation":
                    parent = elem.getparent()
                    if parent is None or parent.tag != "MedlineCitationSet":
                        continue  # read with its PubmedArticle
                    yield _article(elem, None, path)
                elif tag == "PubmedArticle":
                    parts = _children(elem)
                    yield _article(parts.get("MedlineCitation"), parts.get("PubmedData"), path)
                elif tag == "PubmedBookArticle":
                    yield _book(elem, path)
                else:  # DeleteCitation: PMIDs a baseline update withdraws; not records
                    pass
                count += 1
                elem.clear(keep_tail=False)
                while elem.getprevious() is not None:
                    del elem.getparent()[0]
        except etree.XMLSyntaxError as exc:
            line = exc.position[0] if exc.position else exc.lineno
            message = re.sub(r", line \d+, column \d+$", "", exc.msg or str(exc))
            if is_expansion_error(message):
                raise fail(path, f"line {line}", expansion_problem(message)) from None
            if any(m in message for m in ("Document is empty", "Start tag expected", "no element")):
                raise fail(path, "", "empty file or not XML") from None
            if "encoding" in message:
                problem = f"not valid text in the declared encoding, UTF-8 by default ({message})"
            else:
                problem = f"malformed or truncated XML ({message})"
            raise fail(path, f"line {line}", problem) from None
        except (EOFError, OSError, zlib.error) as exc:  # truncated or corrupt gzip
            raise fail(path, "", f"unreadable gzip data ({exc})") from None
        root = context.root
    if root is None:
        raise fail(path, "", "empty file or not XML")
    if count == 0:
        _refuse_entities(root, path)
    if root.tag not in _SETS and count == 0:
        errors = [_text(e) for e in root.iter("ERROR")]
        if errors:
            raise fail(path, "", "the response is an E-utilities error: " + "; ".join(errors))
        raise fail(path, "line 1", f"not PubMed XML (root element <{root.tag}>)")


def _refuse_entities(elem: Any, path: Path) -> None:
    names = declared_entities(elem)
    if names:
        raise fail(path, "DOCTYPE", entity_problem(names))


def _open(path: Path, byte_range: tuple[int, int] | None = None) -> WithoutReferenceLists:
    try:
        stream = path.open("rb")
        magic = stream.read(2)
        stream.seek(0)
    except OSError as exc:
        raise fail(path, "", f"cannot read the file ({exc.strerror or exc})") from None
    if byte_range is not None:
        return WithoutReferenceLists(_Part(stream, *byte_range))
    if magic == b"\x1f\x8b":
        stream.close()
        return WithoutReferenceLists(gzip.open(path, "rb"))
    return WithoutReferenceLists(stream)


class _Part:
    """Bytes ``start:stop`` of a PubMed XML file as a document: wrapped in a ``PubmedArticleSet``
    root where the part lacks the file's own start (``start > 0``) or end (``stop`` before it)."""

    def __init__(self, raw: IO[bytes], start: int, stop: int) -> None:
        raw.seek(0, 2)
        size = raw.tell()
        raw.seek(start)
        self.raw, self.left = raw, stop - start
        self.head = b"<PubmedArticleSet>" if start > 0 else b""
        self.tail = b"</PubmedArticleSet>" if stop < size else b""

    def read(self, size: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head, b""
            return out
        if self.left > 0:
            data = self.raw.read(self.left if size < 0 else min(size, self.left))
            self.left -= len(data)
            if data:
                return data
            self.left = 0
        out, self.tail = self.tail, b""
        return out

    def close(self) -> None:
        self.raw.close()


# --- text ------------------------------------------------------------------------------


def _norm(text: str) -> str:
    """Runs of any white space (new lines, tabs, no-break and thin spaces) → one space."""
    if "  " in text or not text.isprintable():  # \n, \t, \xa0, \u2009 are not printable
        return " ".join(text.split())
    return text.strip()


def _text(elem: Any) -> str:
    """The text of an element with its inline markup dropped, spaces collapsed.

    ``<i>``, ``<sup>``, ``<sub>``, ``<b>``, ``<u>`` join their neighbours without a space
    (``r<sup>2</sup>`` → ``r2``); MathML keeps its tokens and drops its layout whitespace.
    """
    if elem is None:
        return ""
    if len(elem) == 0:
        text = elem.text
        return _norm(text) if text else ""
    return _norm(_text_raw(elem))


def _text_raw(elem: Any) -> str:
    parts: list[str] = [elem.text or ""]
    for child in elem:
        tag = child.tag
        if not isinstance(tag, str):
            pass  # a processing instruction
        elif tag.startswith(_MATHML):
            parts.append("".join(t.strip() for t in child.itertext()))
        else:
            parts.append(_text_raw(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _children(elem: Any) -> dict[str, Any]:
    """Tag → first child with that tag (one pass; lxml's ``find`` is slow on paths)."""
    found: dict[str, Any] = {}
    if elem is not None:
        for child in elem:
            found.setdefault(child.tag, child)
    return found


def _all(elem: Any, tag: str) -> list[str]:
    """The texts of every child ``tag`` of ``elem``, empty ones left out."""
    if elem is None:
        return []
    return [t for t in (_text(c) for c in elem if c.tag == tag) if t]


# --- one record ------------------------------------------------------------------------


def _article(citation: Any, pubmed_data: Any, path: Path) -> RecordData:
    if citation is None:
        raise fail(path, _where(pubmed_data), "PubmedArticle without MedlineCitation")
    record = RecordData(record_type="article")
    extra = record.extra
    status = citation.get("Status")
    if status:
        extra["status"] = status
    medline_ta = issn_linking = ""
    for child in citation:
        tag = child.tag
        if tag == "PMID":
            record.pmid = record.source_key = _text(child)
        elif tag == "Article":
            _article_body(record, child)
        elif tag == "MedlineJournalInfo":
            info = _children(child)
            medline_ta = _text(info.get("MedlineTA"))
            issn_linking = _text(info.get("ISSNLinking"))
        elif tag == "MeshHeadingList":
            record.mesh_terms = [
                _norm(part.text or "")
                for heading in child
                for part in heading
                if part.tag == "DescriptorName"
            ]
        elif tag == "KeywordList":
            record.keywords.extend(_all(child, "Keyword"))
        elif tag == "CommentsCorrectionsList":
            record.comments_corrections = _links(child)
        elif tag == "OtherAbstract":
            other = _text(child)
            if other:
                extra.setdefault("other_abstracts", []).append(other)
    record.journal_abbrev = record.journal_abbrev or medline_ta
    record.issn = record.issn or issn_linking
    if pubmed_data is not None:
        _ids(record, _children(pubmed_data).get("ArticleIdList"))
    return record


def _article_body(record: RecordData, article: Any) -> None:
    extra = record.extra
    article_date = ""
    for child in article:
        tag = child.tag
        if tag == "Journal":
            journal = _children(child)
            record.journal = _text(journal.get("Title"))
            record.journal_abbrev = _text(journal.get("ISOAbbreviation"))
            record.issn = _text(journal.get("ISSN"))
            issue = _children(journal.get("JournalIssue"))
            record.volume = _text(issue.get("Volume"))
            record.issue = _text(issue.get("Issue"))
            _date(record, issue.get("PubDate"))
        elif tag == "ArticleTitle":
            _title(record, child)
        elif tag == "VernacularTitle":
            record.vernacular_title = _text(child)
        elif tag == "Pagination":
            record.pages = _pages(child)
        elif tag == "ELocationID":
            kind, value = child.get("EIdType", ""), _text(child)
            if child.get("ValidYN", "Y") == "Y" and value:
                extra.setdefault("elocation_ids", {})[kind] = value
                if kind == "doi" and not record.doi:
                    record.doi = clean_doi(value)
        elif tag == "Abstract":
            _abstract(record, child)
        elif tag == "AuthorList":
            record.authors = _authors(child)
        elif tag == "Language":
            language = _text(child)
            if language:
                record.language.append(language)
        elif tag == "PublicationTypeList":
            record.publication_types = _all(child, "PublicationType")
        elif tag == "ArticleDate" and not article_date:
            article_date = _text(_children(child).get("Year"))
    if record.year is None:
        record.year = year_of(article_date)


def _book(elem: Any, path: Path) -> RecordData:
    parts = _children(elem)
    document = parts.get("BookDocument")
    if document is None:
        raise fail(path, _where(elem), "PubmedBookArticle without BookDocument")
    fields = _children(document)
    pmid = _text(fields.get("PMID"))
    record = RecordData(pmid=pmid, source_key=pmid)
    extra = record.extra
    book = _children(fields.get("Book"))
    book_title = _text(book.get("BookTitle"))
    if "ArticleTitle" in fields:
        _title(record, fields["ArticleTitle"])
        record.record_type = "book-chapter"
        record.journal = book_title
    else:
        record.title = book_title
        record.record_type = "book"
    record.vernacular_title = _text(fields.get("VernacularTitle"))
    if book_title:
        extra["book_title"] = book_title
    publisher = _text(_children(book.get("Publisher")).get("PublisherName"))
    if publisher:
        extra["publisher"] = publisher
    _date(record, book.get("PubDate"))
    record.volume = _text(book.get("Volume"))
    record.issn = _text(book.get("Isbn"))
    editors = [
        name
        for lst in fields["Book"]
        if lst.tag == "AuthorList" and lst.get("Type") == "editors"
        for name in _authors(lst)
    ] if "Book" in fields else []  # fmt: skip
    if editors:
        extra["editors"] = editors
    for child in document:
        tag = child.tag
        if tag == "AuthorList" and child.get("Type", "authors") != "editors":
            record.authors.extend(_authors(child))
        elif tag == "Abstract":
            _abstract(record, child)
        elif tag == "Language":
            language = _text(child)
            if language:
                record.language.append(language)
        elif tag == "PublicationType":
            record.publication_types.append(_text(child))
        elif tag == "KeywordList":
            record.keywords.extend(_all(child, "Keyword"))
        elif tag == "ArticleIdList":
            _ids(record, child)
    _ids(record, _children(parts.get("PubmedBookData")).get("ArticleIdList"))
    return record


def _title(record: RecordData, title_elem: Any) -> None:
    title = _text(title_elem)
    translated = _TRANSLATED.match(title)
    if translated:  # NLM brackets an English translation of a non-English title
        title = translated.group(1).strip() + translated.group(2)
        record.extra["title_translated"] = True
    record.title = title


def _date(record: RecordData, pub_date: Any) -> None:
    if pub_date is None:
        return
    parts = _children(pub_date)
    medline_date = _text(parts.get("MedlineDate"))
    if medline_date:
        record.year = year_of(medline_date)
        record.extra["pub_date"] = medline_date
        return
    shown = [_text(parts.get(name)) for name in ("Year", "Season", "Month", "Day")]
    record.year = year_of(shown[0])
    if any(shown):
        record.extra["pub_date"] = " ".join(p for p in shown if p)


def _pages(pagination: Any) -> str:
    parts = _children(pagination)
    pages = _text(parts.get("MedlinePgn"))
    if pages:
        return pages
    start, end = _text(parts.get("StartPage")), _text(parts.get("EndPage"))
    return f"{start}-{end}" if start and end else start


def _abstract(record: RecordData, abstract: Any) -> None:
    sections = []
    paragraphs = []
    for part in abstract:
        if part.tag == "CopyrightInformation":
            copyright_ = _text(part)
            if copyright_:
                record.extra["abstract_copyright"] = copyright_
            continue
        if part.tag != "AbstractText":
            continue
        text = _text(part)
        label = (part.get("Label") or "").strip()
        if label:
            sections.append(
                {"label": label, "nlm_category": part.get("NlmCategory", ""), "text": text}
            )
            paragraphs.append(f"{label}: {text}" if text else f"{label}:")
        elif text:
            paragraphs.append(text)
    record.abstract = "\n".join(paragraphs)
    if sections:
        record.extra["abstract_sections"] = sections


def _authors(author_list: Any) -> list[str]:
    names = []
    for author in author_list:
        if author.tag != "Author" or author.get("ValidYN", "Y") != "Y":
            continue  # ValidYN="N": a name PubMed has since corrected; the corrected one follows
        last = initials = suffix = ""
        fore = collective = None
        for part in author:  # names are plain text: read .text, no markup walk
            tag = part.tag
            if tag == "LastName":
                last = part.text or ""
            elif tag == "Initials":
                initials = part.text or ""
            elif tag == "ForeName":
                fore = part
            elif tag == "Suffix":
                suffix = part.text or ""
            elif tag == "CollectiveName":
                collective = part
        if last:
            last = _norm(last)
            initials = _norm(initials)
            name = f"{last} {initials}" if initials else display_name(last, _text(fore))
            if suffix:
                name = f"{name} {_norm(suffix)}"
        else:
            name = _text(collective)
        if name:
            names.append(name)
    return names


def _links(corrections: Any) -> list[dict[str, str]]:
    """Links to other PMIDs: errata, retractions, comments, updates (not plain citations)."""
    links = []
    for item in corrections:
        kind = item.get("RefType", "")
        if item.tag != "CommentsCorrections" or kind == "Cites":
            continue  # "Cites": a reference list entry, not a correction
        parts = _children(item)
        link = {"type": kind, "pmid": _text(parts.get("PMID"))}
        source = _text(parts.get("RefSource"))
        if source:
            link["source"] = source
        links.append(link)
    return links


def _ids(record: RecordData, id_list: Any) -> None:
    if id_list is None:
        return
    for article_id in id_list:
        if article_id.tag != "ArticleId":
            continue
        kind, value = article_id.get("IdType", ""), _text(article_id)
        if not value:
            continue
        if kind == "doi":
            record.doi = clean_doi(value) or record.doi
        elif kind == "pmc":
            record.pmcid = record.pmcid or value
        elif kind == "pubmed":
            if not record.pmid:
                record.pmid = record.source_key = value
        else:
            record.extra.setdefault("article_ids", {})[kind] = value


def _where(elem: Any) -> str:
    line = getattr(elem, "sourceline", None)
    return f"line {line}" if line else ""
