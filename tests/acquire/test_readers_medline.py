"""MEDLINE text (.nbib) reader: the real Biopython files against Bio.Medline, and a modern
.nbib export built from NLM's documented field list (no recent real export was available)."""

from __future__ import annotations

from pathlib import Path

import pytest
from Bio import Medline

from reviewflow.acquire.readers import detect_format, read_file, read_medline
from reviewflow.errors import InputError

DATA = Path(__file__).parent.parent / "data" / "pubmed" / "biopython"
FILES = sorted(DATA.glob("medline_*.txt"))


def spaced(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_agrees_with_bio_medline(path: Path) -> None:
    with path.open(encoding="utf-8") as handle:
        theirs = list(Medline.parse(handle))
    ours = read_medline(path)
    assert detect_format(path) == "medline"
    assert [r.pmid for r in ours] == [t["PMID"] for t in theirs]
    for record, expected in zip(ours, theirs, strict=True):
        assert record.title == spaced(expected["TI"])
        assert record.abstract == spaced(expected.get("AB", ""))
        assert len(record.authors) == len(expected.get("AU", [])) + len(expected.get("CN", []))
        dois = [a.removesuffix(" [doi]") for a in expected.get("AID", []) if a.endswith("[doi]")]
        assert record.doi == (dois[0] if dois else "")
        assert record.journal == expected.get("JT", "") and record.volume == expected.get("VI", "")
        assert record.publication_types == expected.get("PT", [])
        assert len(record.mesh_terms) == len(expected.get("MH", []))


def test_result2_details() -> None:
    records = read_medline(DATA / "medline_pubmed_result2.txt")
    assert [r.pmid for r in records] == ["16403221", "16377612", "14871861", "14630660"]
    scop = records[0]
    assert scop.authors == ["Casbon JA", "Crooks GE", "Saqi MA"]  # AU lines, not FAU
    assert scop.doi == "10.1186/1471-2105-7-10" and scop.extra["article_ids"] == {
        "pii": "1471-2105-7-10"
    }
    assert scop.pmcid == "PMC1373603" and scop.year == 2006
    assert scop.mesh_terms[:2] == ["Database Management Systems", "Databases, Protein"]
    assert scop.abstract.startswith("BACKGROUND: Benchmarking algorithms")
    assert records[2].authors[0] == "de Hoon MJ"


def test_result3_lid_and_two_is_lines_stay_apart() -> None:
    (record,) = read_medline(DATA / "medline_pubmed_result3.txt")
    assert record.doi == "10.1118/1.4748329"
    assert record.extra["issns"] == ["0094-2405 (Print)", "0094-2405 (Linking)"]
    assert record.issn == "0094-2405"
    # a MeSH heading continued on the next line
    assert "High-Intensity Focused Ultrasound Ablation" in record.mesh_terms
    with (DATA / "medline_pubmed_result3.txt").open() as handle:
        (bio,) = Medline.parse(handle)
    assert bio["IS"] == "0094-2405 (Print) 0094-2405 (Linking)"  # what Bio.Medline does


# BUILT from NLM's "MEDLINE/PubMed Data Element (Field) Descriptions": a current PubMed
# "Save → PubMed format" export with LID/AID doi+pii, CN, AUID, CIN/EIN, OT, PMC and a blank
# continuation line. No recent real .nbib was available offline.
MODERN_NBIB = """
PMID- 36000001
OWN - NLM
STAT- MEDLINE
DCOM- 20230110
IS  - 1524-4628 (Electronic)
IS  - 0039-2499 (Linking)
VI  - 54
IP  - 1
DP  - 2023 Jan
TI  - Permanent stenting as rescue therapy after failed mechanical thrombectomy: a
      multicentre cohort.
PG  - 120-128
LID - 10.1161/STROKEAHA.122.000001 [doi]
LID - S0039-2499(22)00001-1 [pii]
AB  - BACKGROUND: Rescue stenting is used when thrombectomy fails.
@BLANK@
      METHODS: A cohort of 160 patients.
CI  - (c) 2023 American Heart Association, Inc.
FAU - Müller, Anna-Lena
AU  - Müller AL
AUID- ORCID: 0000-0002-1825-0097
AD  - Department of Neurology, University Hospital, Basel, Switzerland.
FAU - van der Berg, Jan
AU  - van der Berg J
CN  - RESCUE-ST Investigators
LA  - eng
PT  - Journal Article
PT  - Multicenter Study
PT  - Retracted Publication
DEP - 20221201
PL  - United States
TA  - Stroke
JT  - Stroke
JID - 0235266
SB  - IM
CIN - Stroke. 2023 Jan;54(1):130-131. PMID: 36000002
EIN - Stroke. 2023 Mar;54(3):e99. PMID: 36000003
RIN - Stroke. 2024 Jan;55(1):e1. PMID: 38000002
MH  - Humans
MH  - *Ischemic Stroke/surgery/therapy
MH  - Stents/*adverse effects
OTO - NOTNLM
OT  - rescue stenting
OT  - thrombectomy
EDAT- 2022/12/02 06:00
PMC - PMC9999999
AID - 10.1161/STROKEAHA.122.000001 [doi]
AID - S0039-2499(22)00001-1 [pii]
PST - ppublish
SO  - Stroke. 2023 Jan;54(1):120-128. doi: 10.1161/STROKEAHA.122.000001.

PMID- 36000004
TI  - A second record.
DP  - 2015 Oct-Dec
AU  - Roe R
""".replace("@BLANK@", " " * 6)  # a continuation line with nothing on it


def test_modern_nbib(tmp_path: Path) -> None:
    path = tmp_path / "pubmed-export.nbib"
    path.write_text(MODERN_NBIB, encoding="utf-8")
    first, second = read_file(path)
    assert first.title == (
        "Permanent stenting as rescue therapy after failed mechanical thrombectomy: a "
        "multicentre cohort."
    )
    assert first.abstract == (
        "BACKGROUND: Rescue stenting is used when thrombectomy fails. METHODS: A cohort of "
        "160 patients."
    )
    assert first.doi == "10.1161/STROKEAHA.122.000001"
    assert first.extra["article_ids"] == {"pii": "S0039-2499(22)00001-1"}
    assert first.authors == ["Müller AL", "van der Berg J", "RESCUE-ST Investigators"]
    assert first.extra["author_ids"] == ["ORCID: 0000-0002-1825-0097"]
    assert first.issn == "1524-4628" and first.pmcid == "PMC9999999"
    assert (first.year, first.volume, first.issue, first.pages) == (2023, "54", "1", "120-128")
    assert first.mesh_terms == ["Humans", "Ischemic Stroke", "Stents"]
    assert first.keywords == ["rescue stenting", "thrombectomy"]
    assert "Retracted Publication" in first.publication_types
    assert [(c["type"], c["pmid"]) for c in first.comments_corrections] == [
        ("CommentIn", "36000002"), ("ErratumIn", "36000003"), ("RetractionIn", "38000002"),
    ]  # fmt: skip
    assert (second.pmid, second.year, second.authors) == ("36000004", 2015, ["Roe R"])
    # Bio.Medline glues the two LID lines into one string; we keep them apart
    bio = next(Medline.parse(MODERN_NBIB.splitlines(keepends=True)[1:]))
    assert bio["LID"] == "10.1161/STROKEAHA.122.000001 [doi] S0039-2499(22)00001-1 [pii]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"^bad\.nbib: the file is empty"),
        ("PMID- 1\nTI  - x\n  badly indented\n", r"^bad\.nbib: record 1 \(line 3\): "),
        ("PMID- 1\nTI  - x\n\nnot a tag line\n", r"^bad\.nbib: record 2 \(line 4\): not a MEDLINE line"),
    ],
)  # fmt: skip
def test_bad_medline(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.nbib"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_medline(path)


def test_wrong_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin.nbib"
    path.write_bytes("PMID- 1\nTI  - Müller\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"^latin\.nbib: line 2: not valid utf-8"):
        read_file(path)
    assert read_file(path, encoding="latin-1")[0].title == "Müller"
