"""PubMed XML reader: each edge case tests/data/pubmed/SOURCES.md lists, asserted one by one,
then the known gaps (built from the documented format), then bad files."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewflow.acquire.readers import read_file, read_pubmed_xml
from reviewflow.errors import InputError

DATA = Path(__file__).parent.parent / "data" / "pubmed"


def records(name: str):
    (path,) = DATA.rglob(name)
    return read_pubmed_xml(path)


def one(name: str):
    (record,) = records(name)
    return record


# -- edge cases of the real fixtures ------------------------------------------------------------


def test_pubmed1_season_and_no_doi() -> None:
    kie, old = records("pubmed1.xml")
    assert (kie.pmid, kie.year, kie.extra["pub_date"]) == ("12091962", 1990, "1990 Spring")
    assert kie.abstract == "" and kie.doi == "" and kie.pmcid == ""
    assert kie.authors == ["Olivero JM"]
    assert kie.publication_types == ["Journal Article", "Review"]
    assert kie.keywords == ["Health Care and Public Health", "Legal Approach"]  # KIE keywords
    assert kie.pages == "113-25" and kie.journal_abbrev == "Soc Justice" and kie.issn == "1043-1578"
    assert (old.pmid, old.year, old.doi) == ("9997", 1976, "10.1016/0005-2795(76)90109-4")
    assert old.extra["article_ids"] == {"pii": "0005-2795(76)90109-4"}
    assert "Heme" in old.mesh_terms and len(old.mesh_terms) == 13


def test_pubmed2_pubmed_not_medline_has_no_mesh() -> None:
    statuses = {r.pmid: (r.extra["status"], len(r.mesh_terms)) for r in records("pubmed2.xml")}
    assert any(s == "PubMed-not-MEDLINE" and n == 0 for s, n in statuses.values())
    assert any(s == "MEDLINE" and n > 0 for s, n in statuses.values())


def test_pubmed4_markup_structured_abstract_and_links() -> None:
    r = one("pubmed4.xml")
    assert r.title == (
        "Leucocyte telomere length, genetic variants at the TERT gene region and risk of "
        "pancreatic cancer."
    )
    labels = [s["label"] for s in r.extra["abstract_sections"]]
    assert labels == ["OBJECTIVE", "DESIGN", "RESULTS", "CONCLUSIONS"]
    assert r.abstract.startswith("OBJECTIVE: Telomere shortening occurs")
    assert "\nDESIGN: We measured" in r.abstract
    assert "(linkage disequilibrium r2<0.25)" in r.abstract  # <sup>2</sup> kept as text
    assert "ptrend=0.048" in r.abstract
    assert r.extra["abstract_sections"][3]["text"].startswith("Prediagnostic leucocyte")
    assert r.year == 2017 and r.extra["pub_date"] == "2017 06"  # numeric month
    assert r.doi == "10.1136/gutjnl-2016-312510" and r.extra["elocation_ids"]["doi"] == r.doi
    assert r.pmcid == "PMC5442267" and r.extra["article_ids"]["mid"] == "NIHMS857349"
    # 49 CommentsCorrections: one CommentIn, the rest "Cites" (a reference list, left out)
    assert r.comments_corrections == [
        {"type": "CommentIn", "pmid": "27920200", "source": "Gut. 2017 Jun;66(6):1"}
    ]


def test_pubmed5_in_data_review_with_nlm_categories() -> None:
    r = one("pubmed5.xml")
    assert r.extra["status"] == "In-Data-Review"
    sections = r.extra["abstract_sections"]
    assert all(s["nlm_category"] for s in sections)
    assert all(r.abstract.count(f"{s['label']}: ") >= 1 for s in sections)


def test_pubmed6_quoted_markup_title_and_mathml() -> None:
    r = one("pubmed6.xml")
    assert r.title.startswith('A "Blood Relationship" Between the Overlooked Minimum Lactate')
    assert "maximal oxygen uptake ( V.O2max ) 67.6 ± 4.1 ml·kg-1·min-1]" in r.abstract
    assert "mml" not in r.abstract and "\n" not in r.abstract
    assert (r.year, r.extra["pub_date"]) == (2018, "2018")


def test_pubmed7_collective_name_and_reference_list_ignored() -> None:
    r = one("pubmed7.xml")
    assert r.authors[-1] == "Canadian Respiratory Research Network"
    assert r.authors[:2] == ["Guo F", "Capaldi D"]
    assert len(r.comments_corrections) == 0  # the 49 references are not corrections


def test_book_chapter() -> None:
    r = one("sample_article_20301577_book.xml")
    assert r.record_type == "book-chapter"
    assert r.title == "CACNA1C-Related Disorders"
    assert r.journal == "GeneReviews®" and r.extra["book_title"] == "GeneReviews®"
    assert r.authors == ["Napolitano C", "Priori SG"]
    assert r.extra["editors"][:2] == ["Adam MP", "Feldman J"]  # Type="editors": not authors
    assert r.abstract.startswith("CLINICAL CHARACTERISTICS: The clinical manifestations")
    assert [s["nlm_category"] for s in r.extra["abstract_sections"]] == [""] * 4
    assert r.doi == "" and r.extra["article_ids"] == {"bookaccession": "NBK1403"}
    assert r.extra["publisher"] == "University of Washington, Seattle"


@pytest.mark.parametrize(
    ("name", "collective"),
    [
        ("sample_article_23435529.xml", "TAX 325 Study Group"),
        ("34843274.xml", "Guideline Development Panel for the Treatment of Depressive Disorders"),
        ("38534005.xml", "Task and Finish Group for Urinalysis (TFG-U), European Federation of "
         "Clinical Chemistry and Laboratory Medicine (EFLM)"),
        ("39382274.xml", "GEMARA-SEIMC/CIBERINFEC Study Group on the activity and resistance "
         "mechanisms to new β-lactams and β-lactamase inhibitors (PROTECT)"),
    ],
)  # fmt: skip
def test_collective_name_authors(name: str, collective: str) -> None:
    assert collective in one(name).authors


def test_sub_in_title() -> None:
    assert one("pmid_28731372.xml").title.startswith(
        "Exploring the effect of vitamin D3 supplementation on the anti-EBV antibody"
    )
    # the source has no space after </sub>; we do not invent one
    assert one("38914053.xml").title.startswith("Doped SnO2thin films")


def test_empty_result_set_is_zero_records() -> None:
    assert records("37909814.xml") == []


def test_bracketed_translated_title_and_vernacular_title() -> None:
    r = one("38048813.xml")
    assert r.title == "A Broader Scope - Bio-Psycho-Social Medicine In Global Focus."
    assert r.extra["title_translated"] is True
    assert r.vernacular_title == "A Broader Scope – Bio-psycho-soziale Medizin im globalen Fokus."
    assert r.language == ["ger"] and r.abstract == ""


def test_two_languages_and_elocation_only() -> None:
    r = one("36987902.xml")
    assert r.language == ["eng", "nor"]
    assert r.vernacular_title.startswith("Pasienter over 75 år innlagt")  # no-break space → space
    assert r.pages == "" and r.doi == "10.4045/tidsskr.22.0358"
    assert "title_translated" not in r.extra


@pytest.mark.parametrize(
    ("name", "pubtype", "link"),
    [
        ("38833988.xml", "Published Erratum", ("ErratumFor", "33279609")),
        ("35649368.xml", "Journal Article", ("ErratumIn", None)),
        ("38147649.xml", "Journal Article", ("ErratumIn", None)),
        ("34529508.xml", "Comment", ("CommentOn", "34473563")),
        ("35354777.xml", "Journal Article", ("CommentIn", None)),
        ("36156117.xml", "Journal Article", ("UpdateOf", None)),
        ("39345789.xml", "Journal Article", ("UpdateOf", None)),
        ("pubmed-29768149.xml", "Randomized Controlled Trial", ("CommentIn", "29768146")),
    ],
)
def test_publication_types_and_correction_links(name: str, pubtype: str, link: tuple) -> None:
    r = one(name)
    assert pubtype in r.publication_types
    kind, pmid = link
    found = [c for c in r.comments_corrections if c["type"] == kind]
    assert found and all(c["pmid"].isdigit() for c in found)
    if pmid:
        assert pmid in {c["pmid"] for c in found}


def test_comment_editorial_has_no_abstract() -> None:
    r = one("34529508.xml")
    assert {"Comment", "Editorial"} <= set(r.publication_types) and r.abstract == ""


def test_erratum_without_authors() -> None:
    r = one("38962805.xml")
    assert "Published Erratum" in r.publication_types
    assert r.authors == [] and r.abstract == "" and r.title == "Correction."


@pytest.mark.parametrize(
    ("name", "pubtypes"),
    [
        ("33856845.xml", {"Systematic Review"}),
        ("35830032.xml", {"Meta-Analysis", "Review"}),
        ("35726897.xml", {"Letter"}),
        ("11618220.xml", {"Historical Article"}),
        ("219391.xml", {"Case Reports"}),
    ],
)
def test_publication_types(name: str, pubtypes: set[str]) -> None:
    assert pubtypes <= set(one(name).publication_types)


@pytest.mark.parametrize(
    ("name", "pub_date", "year"),
    [
        ("35830032.xml", "2022 Apr-Jun", 2022),
        ("23657305.xml", "2013 Jan-Mar", 2013),
        ("32292800.xml", "2019 Sep-Dec", 2019),
    ],
)
def test_season_dates(name: str, pub_date: str, year: int) -> None:
    r = one(name)
    assert (r.extra["pub_date"], r.year) == (pub_date, year)


def test_inline_markup_in_abstracts() -> None:
    for name in ("38513076.xml", "32292800.xml", "38914053.xml"):
        r = one(name)
        assert r.abstract and "<" not in r.abstract.replace("<0", "").replace("< ", "")
    assert one("37167981.xml").title.startswith("Monte Carlo simulation of micro-x-ray")


def test_elocation_only_pubmed_not_medline() -> None:
    r = one("24349601.xml")
    assert r.doi == "10.1037/a0030292" and r.pmcid == "PMC3858957"
    assert r.extra["status"] == "PubMed-not-MEDLINE"


def test_gzip_efetch_set() -> None:
    rs = records("test_current_medline.xml.gz")
    assert [r.pmid for r in rs] == ["36400559", "2930949", "11446611", "28786991"]
    assert {"Systematic Review", "Meta-Analysis"} <= set(rs[3].publication_types)
    assert rs[1].doi == "" and rs[2].abstract == ""


# -- known gaps, built from the documented format (PubMed DTD 2025; no real sample offline) --


def _efetch(*articles: str) -> str:
    return (
        '<?xml version="1.0" ?>\n<PubmedArticleSet>\n'
        + "\n".join(articles)
        + "\n</PubmedArticleSet>\n"
    )


def _inner(name: str, tag: str) -> str:
    (path,) = DATA.rglob(name)
    text = path.read_text(encoding="utf-8")
    return text[text.index(f"<{tag}>") : text.rindex(f"</{tag}>") + len(tag) + 3]


def test_mixed_article_and_book_batch(tmp_path: Path) -> None:
    """BUILT: real records from two fixtures in one set (the DTD allows it; no real mixed batch)."""
    path = tmp_path / "mixed.xml"
    path.write_text(
        _efetch(
            _inner("pubmed1.xml", "PubmedArticle"),
            _inner("sample_article_20301577_book.xml", "PubmedBookArticle"),
            _inner("38962805.xml", "PubmedArticle"),
        ),
        encoding="utf-8",
    )
    rs = read_file(path)
    assert [(r.pmid, r.record_type) for r in rs] == [
        ("12091962", "article"), ("9997", "article"), ("20301577", "book-chapter"),
        ("38962805", "article"),
    ]  # fmt: skip


RETRACTED = """<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">
<PMID Version="1">31000001</PMID><Article PubModel="Print-Electronic">
<Journal><ISSN IssnType="Electronic">1524-4628</ISSN><JournalIssue CitedMedium="Internet">
<Volume>50</Volume><Issue>4</Issue><PubDate><MedlineDate>2023 Jan-Feb</MedlineDate></PubDate>
</JournalIssue><Title>Stroke</Title><ISOAbbreviation>Stroke</ISOAbbreviation></Journal>
<ArticleTitle>Rescue stenting after failed thrombectomy: a cohort.</ArticleTitle>
<Pagination><StartPage>100</StartPage><EndPage>108</EndPage><MedlinePgn>100-108</MedlinePgn></Pagination>
<AuthorList CompleteYN="Y"><Author ValidYN="Y"><LastName>Doe</LastName><ForeName>Jane A</ForeName>
<Initials>JA</Initials></Author><Author ValidYN="N"><LastName>Dow</LastName><Initials>J</Initials>
</Author><Author ValidYN="Y"><LastName>Roe</LastName><ForeName>Rick</ForeName><Initials>R</Initials>
<Suffix>Jr</Suffix></Author></AuthorList><Language>eng</Language>
<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>
<PublicationType UI="D016441">Retracted Publication</PublicationType></PublicationTypeList>
</Article><CommentsCorrectionsList><CommentsCorrections RefType="RetractionIn">
<RefSource>Stroke. 2024;55(1):300</RefSource><PMID Version="1">38000002</PMID>
</CommentsCorrections></CommentsCorrectionsList></MedlineCitation>
<PubmedData><ArticleIdList><ArticleId IdType="pubmed">31000001</ArticleId>
<ArticleId IdType="doi">10.1161/STROKEAHA.000.000001</ArticleId></ArticleIdList></PubmedData>
</PubmedArticle>"""


def test_retracted_publication_with_current_medline_date(tmp_path: Path) -> None:
    """BUILT from the DTD: a Retracted Publication with RetractionIn, in the current efetch
    format with a MedlineDate (no real record of either was available offline)."""
    path = tmp_path / "retracted.xml"
    path.write_text(_efetch(RETRACTED), encoding="utf-8")
    (r,) = read_file(path)
    assert "Retracted Publication" in r.publication_types
    assert r.comments_corrections == [
        {"type": "RetractionIn", "pmid": "38000002", "source": "Stroke. 2024;55(1):300"}
    ]
    assert (r.year, r.extra["pub_date"]) == (2023, "2023 Jan-Feb")
    assert r.authors == ["Doe JA", "Roe R Jr"]  # ValidYN="N" left out
    assert r.doi == "10.1161/STROKEAHA.000.000001"


# -- bad files ----------------------------------------------------------------------------------


def test_truncated_xml_names_file_and_line(tmp_path: Path) -> None:
    source = next(DATA.rglob("pubmed4.xml")).read_bytes()
    path = tmp_path / "cut.xml"
    path.write_bytes(source[:5000])
    with pytest.raises(InputError, match=r"^cut\.xml: line \d+: malformed or truncated XML"):
        read_file(path)


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    source = next(DATA.rglob("pubmed4.xml")).read_bytes()
    path = tmp_path / "latin1.xml"
    path.write_bytes(source.replace(b"Leucocyte", b"Leucocyt\xe9", 1))
    line = source[: source.index(b"Leucocyte")].count(b"\n") + 1
    with pytest.raises(InputError, match=rf"^latin1\.xml: line {line}: "):
        read_file(path)


def test_truncated_gzip(tmp_path: Path) -> None:
    source = next(DATA.rglob("test_current_medline.xml.gz")).read_bytes()
    path = tmp_path / "cut.xml.gz"
    path.write_bytes(source[:4000])
    with pytest.raises(InputError, match=r"^cut\.xml\.gz: "):
        read_file(path)


def test_gzip_of_nothing_and_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.xml").write_bytes(b"")
    (tmp_path / "empty.xml.gz").write_bytes(gzip.compress(b""))
    for name in ("empty.xml", "empty.xml.gz"):
        with pytest.raises(InputError, match=rf"^{re.escape(name)}: the file is empty"):
            read_file(tmp_path / name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("esearch1.xml", r"not PubMed XML \(root element <eSearchResult>\)"),
        ("epost2.xml", r"E-utilities error: Invalid db name specified: nothing"),
    ],
)
def test_other_eutilities_replies_are_refused(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_file(next(DATA.rglob(name)))


def test_reference_list_cut_keeps_line_numbers(tmp_path: Path) -> None:
    """An error after a (cut) reference list still names the true line."""
    source = next(DATA.rglob("pubmed7.xml")).read_text(encoding="utf-8")
    assert "<ReferenceList>" in source
    broken = source.replace("</PubmedData>", "</PubmedDat>", 1)
    line = broken[: broken.index("</PubmedDat>")].count("\n") + 1
    path = tmp_path / "broken.xml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(InputError, match=rf"^broken\.xml: line {line}: "):
        read_file(path)


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_reference_list_cut_across_chunk_boundaries(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cut is the same whatever the read size: nested, self-closed and look-alike tags."""
    import io

    from reviewflow.acquire.readers._stream import WithoutReferenceLists

    monkeypatch.setattr(WithoutReferenceLists, "_CHUNK", chunk)
    source = (
        b"<a><ReferenceList>\n<Reference/>\n<ReferenceList><Title>x</Title>\n</ReferenceList>"
        b"</ReferenceList>\n<ReferenceList/><ReferenceListX>kept</ReferenceListX>\n"
        b'<ReferenceList Type="x">\n</ReferenceList></a>'
    )
    stream = WithoutReferenceLists(io.BytesIO(source))
    out = b""
    while piece := stream.read(5):
        out += piece
    assert out == b"<a>\n\n\n\n<ReferenceListX>kept</ReferenceListX>\n\n</a>"
    assert out.count(b"\n") == source.count(b"\n")
    unclosed = WithoutReferenceLists(io.BytesIO(b"<a><ReferenceList><Reference>"))
    assert unclosed.read() == b"<a><ReferenceList><Reference>"  # passed through: lxml reports it


_PIECES = [b"<ReferenceList>", b"</ReferenceList>", b"<ReferenceList/>", b"<ReferenceListX>",
           b'<ReferenceList Type="x">', b"\n", b"<Reference>", b"text", b"<a>", b"<"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    source=st.lists(st.sampled_from(_PIECES), max_size=40).map(b"".join),
    chunk=st.integers(min_value=1, max_value=40),
    read=st.integers(min_value=1, max_value=40),
)
def test_the_reference_list_cut_does_not_depend_on_chunk_or_read_sizes(
    source: bytes, chunk: int, read: int
) -> None:
    """Reading in small chunks and small reads gives what reading all at once gives, and keeps
    every line break."""
    import io

    from reviewflow.acquire.readers._stream import WithoutReferenceLists

    whole = WithoutReferenceLists(io.BytesIO(source)).read()
    stream = WithoutReferenceLists(io.BytesIO(source))
    stream._CHUNK = chunk  # type: ignore[misc]
    out = b""
    while piece := stream.read(read):
        assert len(piece) <= read
        out += piece
    assert out == whole
    assert out.count(b"\n") == source.count(b"\n")
