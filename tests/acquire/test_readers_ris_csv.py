"""RIS and CSV/TSV readers on the real fixtures in tests/data/ris and tests/data/csv.

RIS files are compared with an independent ``rispy.load(encoding="utf-8-sig")``; CSV files with
the standard library's ``csv.DictReader``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import rispy

from reviewflow.acquire.readers import detect_format, read_file, read_ris, read_table
from reviewflow.errors import InputError

DATA = Path(__file__).parent.parent / "data"
RIS = sorted((DATA / "ris").glob("*.ris"))


@pytest.mark.parametrize("path", RIS, ids=lambda p: p.name)
def test_ris_agrees_with_rispy(path: Path) -> None:
    theirs = rispy.load(path, encoding="utf-8-sig")
    ours = read_ris(path)
    assert detect_format(path) == "ris"
    assert len(ours) == len(theirs)
    for record, entry in zip(ours, theirs, strict=True):
        title = entry.get("title") or entry.get("primary_title") or entry.get("short_title") or ""
        assert record.title == " ".join(title.split())
        abstract = entry.get("abstract") or entry.get("notes_abstract") or ""
        assert " ".join(record.abstract.split()) == " ".join(abstract.split())
        people = (entry.get("authors") or []) + (entry.get("first_authors") or [])
        assert len(record.authors) == len(people)
        doi = (entry.get("doi") or "").replace("http://dx.doi.org/", "")
        assert record.doi == doi.replace("https://doi.org/", "")


def test_ris_bom_and_doi_only() -> None:
    (record,) = read_ris(DATA / "ris" / "example_bom.ris")
    assert record.doi == "10.1186/s40981-020-0316-0" and record.title == ""


def test_ris_empty_tags_and_doi_url() -> None:
    (r,) = read_ris(DATA / "ris" / "example_empty_tag.ris")
    assert r.pages == ""  # "SP  -" with nothing after it
    assert r.doi == "10.1177/2325967120950040"  # from "http://dx.doi.org/…"
    assert r.authors == ["Fanning E"] and r.year == 2020  # A1, "Y1  - 2020//"
    assert r.journal == "Orthopaedic Journal of Sports Medicine"
    assert r.keywords[0] == "athlete"  # "*athlete": the star marks a major term
    assert r.issn == "2325-9671" and r.source_key == "2006713348"
    assert r.abstract.endswith(
        "Outcome measures are valuable when determining an athlete's safe return to sport..."
    )


def test_ris_numbered_records_and_authors() -> None:
    first, second = read_ris(DATA / "ris" / "example_full.ris")
    assert first.authors == ["Marx K", "Lindgren A"]
    assert (first.title, first.year, first.journal, first.volume, first.issue) == (
        "Title of reference", 2014, "Lorem", "9", "3",
    )  # fmt: skip
    assert first.pages == "e0815" and first.url == "http://example_url.com"
    assert first.extra["line"] == 2 and second.extra["line"] > 20


def test_ris_multiline_values() -> None:
    records = read_ris(DATA / "ris" / "example_multiline.ris")
    assert len(records) == 3
    for r in records:  # "ER then second line" is a continuation, not an end tag
        assert r.abstract == "first line, ER then second line and at the end the last line"


def test_ris_utf8_cyrillic() -> None:
    (r,) = read_ris(DATA / "ris" / "example_utf_chars.ris")
    assert r.title.startswith("Состояние рецепторного аппарата эндометрия")
    assert r.authors[0] == "Dobrokhotova YE" and r.record_type == "article"
    assert (r.pages, r.year, r.journal) == (
        "52-57",
        2009,
        "Gynecology, Obstetrics and Perinatology",
    )


def test_ris_real_wiley_export() -> None:
    (r,) = read_ris(DATA / "ris" / "prisma2020_citation.ris")
    assert r.doi == "10.1002/cl2.1230" and r.year == 2022
    assert r.authors == ["Haddaway NR", "Page MJ", "Pritchard CC", "McGuinness LA"]
    assert r.journal == "Campbell Systematic Reviews" and r.issue == "2" and r.volume == "18"


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (12, r"^cut\.ris: record 1 \(line 1\): truncated: the record has no ER line"),
        (-1, None),
    ],
)
def test_ris_truncated(tmp_path: Path, cut: int, message: str | None) -> None:
    lines = (DATA / "ris" / "prisma2020_citation.ris").read_text().splitlines(keepends=True)
    path = tmp_path / "cut.ris"
    path.write_text("".join(lines[:cut]) if cut > 0 else "".join(lines))
    if message:
        with pytest.raises(InputError, match=message):
            read_file(path)
    else:
        assert len(read_file(path)) == 1


def test_ris_second_record_missing_er(tmp_path: Path) -> None:
    text = (DATA / "ris" / "example_full.ris").read_text()
    path = tmp_path / "two.ris"
    path.write_text(text.replace("ER  - ", "", 1))
    with pytest.raises(
        InputError,
        match=r"^two\.ris: record 1 \(line 2\): no ER line before the next TY at line \d+",
    ):
        read_file(path)


# -- CSV / TSV ------------------------------------------------------------------------------


def test_cohen_screening_csv() -> None:
    path = DATA / "csv" / "Cohen2006_NSAIDS.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    records = read_file(path)
    assert detect_format(path) == "csv"
    assert len(records) == len(rows) == 393
    for record, row in zip(records, rows, strict=True):
        assert record.pmid == row["pubmedID"]
        assert record.title == " ".join(row["title"].split())
        assert record.abstract == row["abstract"].strip()
        assert len(record.authors) == len([a for a in row["authors"].split(";") if a.strip()])
        assert record.source_key == row["record_id"]
        assert record.extra["columns"]["label_included"] == row["label_included"]
    assert records[0].authors[0] == "Wiklund I"
    # "E J Reimer" style names become "Reimer EJ"; study groups stay as they are
    names = [a for r in records for a in r.authors]
    groups = [a for a in names if a.endswith(("Group", "Investigators", "Study", "group"))]
    assert "VIGOR Study Group" in groups
    people = [a for a in names if a not in groups]
    assert all(a.split()[-1].isupper() and len(a.split()) >= 2 for a in people), [
        a for a in people if not a.split()[-1].isupper()
    ]


def test_bibdedupe_csv_bibtex_authors_and_booktitle() -> None:
    records = read_file(DATA / "csv" / "bibdedupe_special_cases.csv")
    assert len(records) == 12
    first = records[0]
    assert first.authors == ["Deng C", "Ravichandran T"]  # "Deng, Chaoqun and Ravichandran, …"
    assert first.record_type == "conference"  # ENTRYTYPE inproceedings
    assert first.journal == "Americas Conference on Information Systems"  # booktitle
    assert first.source_key == "id_0000001" and first.year == 2017


def test_column_mapping_and_tsv(tmp_path: Path) -> None:
    path = tmp_path / "export.tsv"
    path.write_text(
        "Article Name\tWho\tPublished\tDigital Object Identifier\n"
        "Stenting after thrombectomy\tSmith, John; Doe, J.A.\t2021-03-01\thttps://doi.org/10.1000/xyz123\n",
        encoding="utf-8",
    )
    (r,) = read_file(path, mapping={"title": "Article Name", "authors": "Who", "year": "Published"})
    assert (r.title, r.authors, r.year) == (
        "Stenting after thrombectomy",
        ["Smith J", "Doe JA"],
        2021,
    )
    assert r.doi == "10.1000/xyz123"  # found by its header name without a mapping


def test_pubmed_csv_export_headers(tmp_path: Path) -> None:
    """PubMed's own "Save → CSV" header and its comma-separated "Last Initials" authors."""
    path = tmp_path / "csv-rescuestent-set.csv"
    path.write_text(
        "PMID,Title,Authors,Citation,First Author,Journal/Book,Publication Year,Create Date,PMCID,NIHMS ID,DOI\n"
        '36000001,Rescue stenting.,"Müller AL, van der Berg J, Roe R.",Stroke. 2023;54(1):120-128.,Müller AL,Stroke,2023,2022/12/02,PMC9999999,,10.1161/STROKEAHA.122.000001\n',
        encoding="utf-8",
    )
    (r,) = read_file(path)
    assert r.authors == ["Müller AL", "van der Berg J", "Roe R"]
    assert (r.pmid, r.journal, r.year, r.pmcid) == ("36000001", "Stroke", 2023, "PMC9999999")


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        (b"", {}, r"^t\.csv: the file is empty"),
        (b"foo,bar,baz\n1,2,3\n", {}, r"^t\.csv: line 1: no title, pmid or doi column \(columns: foo, bar, baz\)"),
        (b"title,year\nA,2001\n", {"mapping": {"title": "Nope"}}, r"^t\.csv: line 1: no column 'Nope' for title"),
        (b"title,year\nA,2001\n", {"mapping": {"colour": "title"}}, r"^t\.csv: unknown record field 'colour'"),
        (b"title,year\nA,2001\nB,2002,extra,more\n", {}, r"^t\.csv: line 3: 4 fields but the header has 2"),
        (b"title,abstract\nA,caf\xe9\n", {}, r"^t\.csv: line 2: not valid utf-8 text"),
        (b"title\x00,year\n", {}, r"^t\.csv: line 1: contains a NUL byte"),
    ],
)  # fmt: skip
def test_bad_csv(tmp_path: Path, content: bytes, kwargs: dict, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_table(path, **kwargs)


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some words\n")
    with pytest.raises(InputError, match=r"^notes\.txt: cannot tell the format"):
        read_file(path)
    with pytest.raises(InputError, match=r"^missing\.ris: no such file"):
        read_file(tmp_path / "missing.ris")


def test_semicolon_csv_from_a_european_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(
        'Title;Authors;Year;DOI\n"Stenting; a cohort";Smith J, Doe JA;2019;10.1000/abc\n',
        encoding="utf-8-sig",
    )
    (r,) = read_file(path)
    assert (r.title, r.authors, r.year, r.doi) == (
        "Stenting; a cohort", ["Smith J", "Doe JA"], 2019, "10.1000/abc",
    )  # fmt: skip


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-32"])
def test_a_byte_order_mark_decides_the_encoding(tmp_path: Path, encoding: str) -> None:
    """A spreadsheet saved as "Unicode text" (UTF-16 with a BOM) reads like the UTF-8 original."""
    original = DATA / "csv" / "Cohen2006_NSAIDS.csv"
    text = original.read_text(encoding="utf-8")
    copy = tmp_path / "nsaids.csv"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data  # the codec writes no BOM itself
    copy.write_bytes(data)
    assert read_file(copy) == read_file(original)


def test_utf16_without_a_bom_names_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes((DATA / "csv" / "Cohen2006_NSAIDS.csv").read_text("utf-8").encode("utf-16-le"))
    with pytest.raises(
        InputError,
        match=r"^wide\.csv: UTF-16-LE text without a byte-order mark: give --encoding utf-16-le$",
    ):
        read_file(path, format="csv")
    assert read_file(path, encoding="utf-16-le") == read_file(DATA / "csv" / "Cohen2006_NSAIDS.csv")
