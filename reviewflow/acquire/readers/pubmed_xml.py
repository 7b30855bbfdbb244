"""PubMed XML: efetch output (``PubmedArticleSet``) and NLM baseline files (``MedlineCitationSet``).

Streamed with lxml ``iterparse``: each ``PubmedArticle`` / ``PubmedBookArticle`` (or, in a
baseline file, each top-level ``MedlineCitation``) is read into a :class:`RecordData` and then
cleared, so memory stays flat on a 30,000-record file. Gzip files are read as they are.

No DTD is loaded and no entity is fetched: PubMed's DTD only declares structure, and the
character entities PubMed uses are numeric.
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
from reviewflow.records import RecordData

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "MedlineCitation", "DeleteCitation")
_SETS = ("PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet")
_MATHML = "{http://www.w3.org/1998/Math/MathML}"
_SPACES = re.compile(r"\s+")
_TRANSLATED = re.compile(r"^\[(.+)\](\.?)$", re.DOTALL)


def read_pubmed_xml(path: Path | str) -> list[RecordData]:
    """Every record in a PubMed XML file (plain or gzip), in file order."""
    return list(iter_pubmed_xml(path))


def iter_pubmed_xml(path: Path | str) -> Iterator[RecordData]:
    """Records one at a time; raises :class:`InputError` naming the file and line on bad XML."""
    path = Path(path)
    with _open(path) as stream:
        context = etree.iterparse(
            stream,
            events=("end",),
            tag=_RECORD_TAGS,
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            remove_comments=True,
            huge_tree=True,
        )
        count = 0
        try:
            for _event, elem in context:
                tag = elem.tag
                if tag == "MedlineCitation":
                    parent = elem.getparent()
                    if parent is None or parent.tag != "MedlineCitationSet":
                        continue  # read with its PubmedArticle
                    yield _article(elem, None, path)
                elif tag == "PubmedArticle":
                    yield _article(elem.find("MedlineCitation"), elem.find("PubmedData"), path)
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
            message = exc.msg or str(exc)
            if "Document is empty" in message or "Start tag expected" in message:
                raise fail(path, "", "empty file or not XML") from None
            raise fail(path, f"line {line}", f"malformed or truncated XML ({message})") from None
        except (EOFError, OSError, zlib.error) as exc:  # truncated or corrupt gzip
            raise fail(path, "", f"unreadable gzip data ({exc})") from None
        root = context.root
    if root is None:
        raise fail(path, "", "empty file or not XML")
    if root.tag not in _SETS and count == 0:
        errors = [_text(e) for e in root.iter("ERROR")]
        if errors:
            raise fail(path, "", "the response is an E-utilities error: " + "; ".join(errors))
        raise fail(path, "line 1", f"not PubMed XML (root element <{root.tag}>)")


def _open(path: Path) -> IO[bytes]:
    try:
        stream = path.open("rb")
        magic = stream.read(2)
        stream.seek(0)
    except OSError as exc:
        raise fail(path, "", f"cannot read the file ({exc.strerror or exc})") from None
    if magic == b"\x1f\x8b":
        stream.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return stream


# --- text ------------------------------------------------------------------------------


def _text(elem: Any) -> str:
    """The text of an element with its inline markup dropped, spaces collapsed.

    ``<i>``, ``<sup>``, ``<sub>``, ``<b>``, ``<u>`` join their neighbours without a space
    (``r<sup>2</sup>`` → ``r2``); MathML keeps its tokens and drops its layout whitespace.
    """
    if elem is None:
        return ""
    if len(elem) == 0:
        text = elem.text
        return _SPACES.sub(" ", text).strip() if text else ""
    parts: list[str] = [elem.text or ""]
    for child in elem:
        tag = child.tag
        if isinstance(tag, str) and tag.startswith(_MATHML):
            parts.append("".join(t.strip() for t in child.itertext()))
        else:
            parts.append(_text_raw(child))
        parts.append(child.tail or "")
    return _SPACES.sub(" ", "".join(parts)).strip()


def _text_raw(elem: Any) -> str:
    parts: list[str] = [elem.text or ""]
    for child in elem:
        tag = child.tag
        if isinstance(tag, str) and tag.startswith(_MATHML):
            parts.append("".join(t.strip() for t in child.itertext()))
        else:
            parts.append(_text_raw(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _texts(parent: Any, path: str) -> list[str]:
    if parent is None:
        return []
    return [t for t in (_text(e) for e in parent.iterfind(path)) if t]


# --- one record ------------------------------------------------------------------------


def _article(citation: Any, pubmed_data: Any, path: Path) -> RecordData:
    if citation is None:
        raise fail(path, _where(pubmed_data), "PubmedArticle without MedlineCitation")
    pmid = _text(citation.find("PMID"))
    article = citation.find("Article")
    record = RecordData(pmid=pmid, source_key=pmid, record_type="article")
    extra = record.extra
    status = citation.get("Status")
    if status:
        extra["status"] = status
    if article is not None:
        _title(record, article)
        journal = article.find("Journal")
        if journal is not None:
            record.journal = _text(journal.find("Title"))
            record.journal_abbrev = _text(journal.find("ISOAbbreviation"))
            record.issn = _text(journal.find("ISSN"))
            issue = journal.find("JournalIssue")
            if issue is not None:
                record.volume = _text(issue.find("Volume"))
                record.issue = _text(issue.find("Issue"))
                _date(record, issue.find("PubDate"))
        if record.year is None:
            record.year = year_of(_text(article.find("ArticleDate/Year")))
        record.pages = _pages(article.find("Pagination"))
        _abstract(record, article.find("Abstract"))
        record.authors = _authors(article.find("AuthorList"))
        record.language = _texts(article, "Language")
        record.publication_types = _texts(article, "PublicationTypeList/PublicationType")
        for eloc in article.iterfind("ELocationID"):
            kind, value = eloc.get("EIdType", ""), _text(eloc)
            if eloc.get("ValidYN", "Y") != "Y" or not value:
                continue
            extra.setdefault("elocation_ids", {})[kind] = value
            if kind == "doi" and not record.doi:
                record.doi = clean_doi(value)
    info = citation.find("MedlineJournalInfo")
    if info is not None:
        if not record.journal_abbrev:
            record.journal_abbrev = _text(info.find("MedlineTA"))
        if not record.issn:
            record.issn = _text(info.find("ISSNLinking"))
    record.mesh_terms = _texts(citation, "MeshHeadingList/MeshHeading/DescriptorName")
    record.keywords = _texts(citation, "KeywordList/Keyword")
    record.comments_corrections = _links(citation.find("CommentsCorrectionsList"))
    others = [_text(a) for a in citation.iterfind("OtherAbstract")]
    if any(others):
        extra["other_abstracts"] = [a for a in others if a]
    _ids(record, pubmed_data.find("ArticleIdList") if pubmed_data is not None else None)
    return record


def _book(elem: Any, path: Path) -> RecordData:
    document = elem.find("BookDocument")
    if document is None:
        raise fail(path, _where(elem), "PubmedBookArticle without BookDocument")
    pmid = _text(document.find("PMID"))
    record = RecordData(pmid=pmid, source_key=pmid)
    extra = record.extra
    book = document.find("Book")
    book_title = _text(book.find("BookTitle")) if book is not None else ""
    if document.find("ArticleTitle") is not None:
        _title(record, document)
        record.record_type = "book-chapter"
        record.journal = book_title
    else:
        record.title = book_title
        record.record_type = "book"
    if book_title:
        extra["book_title"] = book_title
    if book is not None:
        publisher = _text(book.find("Publisher/PublisherName"))
        if publisher:
            extra["publisher"] = publisher
        _date(record, book.find("PubDate"))
        record.volume = _text(book.find("Volume"))
        record.issn = _text(book.find("Isbn"))
        editors = [
            a
            for lst in book.iterfind("AuthorList")
            if lst.get("Type") == "editors"
            for a in _authors(lst)
        ]
        if editors:
            extra["editors"] = editors
    authors: list[str] = []
    for lst in document.iterfind("AuthorList"):
        if lst.get("Type", "authors") != "editors":
            authors.extend(_authors(lst))
    record.authors = authors
    _abstract(record, document.find("Abstract"))
    record.language = _texts(document, "Language")
    record.publication_types = _texts(document, "PublicationType")
    record.keywords = _texts(document, "KeywordList/Keyword")
    _ids(record, document.find("ArticleIdList"))
    book_data = elem.find("PubmedBookData")
    if book_data is not None:
        _ids(record, book_data.find("ArticleIdList"))
    return record


def _title(record: RecordData, holder: Any) -> None:
    title = _text(holder.find("ArticleTitle"))
    translated = _TRANSLATED.match(title)
    if translated:  # NLM brackets an English translation of a non-English title
        title = translated.group(1).strip() + translated.group(2)
        record.extra["title_translated"] = True
    record.title = title
    record.vernacular_title = _text(holder.find("VernacularTitle"))


def _date(record: RecordData, pub_date: Any) -> None:
    if pub_date is None:
        return
    medline_date = _text(pub_date.find("MedlineDate"))
    if medline_date:
        record.year = year_of(medline_date)
        record.extra["pub_date"] = medline_date
        return
    parts = [_text(pub_date.find(name)) for name in ("Year", "Season", "Month", "Day")]
    year = parts[0]
    record.year = year_of(year)
    shown = " ".join(p for p in parts if p)
    if shown:
        record.extra["pub_date"] = shown


def _pages(pagination: Any) -> str:
    if pagination is None:
        return ""
    pages = _text(pagination.find("MedlinePgn"))
    if pages:
        return pages
    start, end = _text(pagination.find("StartPage")), _text(pagination.find("EndPage"))
    return f"{start}-{end}" if start and end else start


def _abstract(record: RecordData, abstract: Any) -> None:
    if abstract is None:
        return
    sections = []
    paragraphs = []
    for part in abstract.iterfind("AbstractText"):
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
    copyright_ = _text(abstract.find("CopyrightInformation"))
    if copyright_:
        record.extra["abstract_copyright"] = copyright_


def _authors(author_list: Any) -> list[str]:
    if author_list is None:
        return []
    names = []
    for author in author_list.iterfind("Author"):
        if author.get("ValidYN", "Y") != "Y":
            continue  # a name PubMed has since corrected; the corrected one follows
        collective = author.find("CollectiveName")
        if collective is not None:
            name = _text(collective)
        else:
            name = display_name(
                _text(author.find("LastName")),
                _text(author.find("ForeName")),
                _text(author.find("Initials")),
            )
            suffix = _text(author.find("Suffix"))
            if suffix and name:
                name = f"{name} {suffix}"
        if name:
            names.append(name)
    return names


def _links(corrections: Any) -> list[dict[str, str]]:
    """Links to other PMIDs: errata, retractions, comments, updates (not plain citations)."""
    if corrections is None:
        return []
    links = []
    for item in corrections.iterfind("CommentsCorrections"):
        kind = item.get("RefType", "")
        if kind == "Cites":
            continue  # a reference list entry, not a correction
        link = {"type": kind, "pmid": _text(item.find("PMID"))}
        source = _text(item.find("RefSource"))
        if source:
            link["source"] = source
        links.append(link)
    return links


def _ids(record: RecordData, id_list: Any) -> None:
    if id_list is None:
        return
    for article_id in id_list.iterfind("ArticleId"):
        kind, value = article_id.get("IdType", ""), _text(article_id)
        if not value:
            continue
        if kind == "doi":
            record.doi = clean_doi(value) or record.doi
        elif kind == "pmc" and not record.pmcid:
            record.pmcid = value
        elif kind == "pubmed" and not record.pmid:
            record.pmid = record.source_key = value
        elif kind not in ("pubmed", "pmc"):
            record.extra.setdefault("article_ids", {})[kind] = value


def _where(elem: Any) -> str:
    line = getattr(elem, "sourceline", None)
    return f"line {line}" if line else ""
