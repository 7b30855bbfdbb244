"""hypothesis: any bytes, and mutated real files, give records or an InputError — never another
exception — from every reader and from format detection."""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewflow.acquire.readers import (
    read_file,
    read_medline,
    read_pubmed_xml,
    read_ris,
    read_table,
)
from reviewflow.errors import InputError
from reviewflow.records import RecordData

DATA = Path(__file__).parent.parent / "data"
SEEDS = {
    "xml": (DATA / "pubmed" / "biopython" / "pubmed4.xml").read_bytes(),
    "book": (DATA / "pubmed" / "metapub" / "sample_article_20301577_book.xml").read_bytes(),
    "medline": (DATA / "pubmed" / "biopython" / "medline_pubmed_result2.txt").read_bytes(),
    "ris": (DATA / "ris" / "example_full.ris").read_bytes(),
    "ris_bom": (DATA / "ris" / "example_utf_chars.ris").read_bytes(),
    "csv": (DATA / "csv" / "bibdedupe_special_cases.csv").read_bytes(),
}
READERS: dict[str, Callable[[Path], list[RecordData]]] = {
    "pubmed-xml": read_pubmed_xml,
    "medline": read_medline,
    "ris": read_ris,
    "csv": read_table,
    "detected": read_file,
}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(reader: Callable[[Path], list[RecordData]], data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            records = reader(path)
        except InputError as exc:
            message = str(exc)
            assert message.startswith(f"{name}: ") and "\n" not in message
            return
        assert isinstance(records, list)
        assert all(isinstance(r, RecordData) for r in records)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A real file cut short, with bytes flipped, or with a slice repeated or removed."""
    kind = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[kind])
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["cut", "flip", "insert", "drop", "repeat"]))
        if action == "cut":
            del data[at:]
        elif action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "drop":
            del data[at : at + draw(st.integers(1, 200))]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
    return kind, bytes(data)


@pytest.mark.parametrize("reader", sorted(READERS))
@FUZZ
@given(data=st.binary(max_size=2000))
def test_any_bytes(reader: str, data: bytes) -> None:
    outcome(READERS[reader], data, "input.dat")


@pytest.mark.parametrize("reader", sorted(READERS))
@FUZZ
@given(case=mutated())
def test_mutated_real_files(reader: str, case: tuple[str, bytes]) -> None:
    _kind, data = case
    outcome(READERS[reader], data, "mutated.dat")


@FUZZ
@given(case=mutated())
def test_mutated_gzip(case: tuple[str, bytes]) -> None:
    _kind, data = case
    packed = gzip.compress(data)
    outcome(read_file, packed, "mutated.xml.gz")
    outcome(read_file, packed[: len(packed) // 2], "cut.xml.gz")


@FUZZ
@given(
    text=st.text(
        alphabet=st.sampled_from(list("TYAUERDOPM  -\n\r\t,;\"'<>/x1é\ufeff")), max_size=400
    )
)
def test_structured_noise(text: str) -> None:
    """Text made of the characters the formats are built from (tags, separators, quotes)."""
    data = text.encode("utf-8")
    for name in ("noise.ris", "noise.nbib", "noise.csv", "noise.xml"):
        outcome(read_file, data, name)
