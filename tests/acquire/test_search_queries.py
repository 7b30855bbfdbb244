"""Saved search strategies (queries/*.toml): the shipped one reads, bad ones fail in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewflow.acquire.strategy import load_query
from reviewflow.errors import InputError

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_rescue_stenting_strategy() -> None:
    saved = load_query(REPO / "queries" / "rescue_stenting.toml")
    assert saved.name == "rescue_stenting" and saved.database == "pubmed"
    assert (saved.mindate, saved.maxdate, saved.datetype) == ("", "", "pdat")
    # four concept blocks joined by AND, and the animal-only hedge
    assert saved.query.count(") AND (") == 3
    assert saved.query.endswith('NOT ("Animals"[Mesh] NOT "Humans"[Mesh])')
    for term in ('"Thrombectomy"[Mesh]', '"Stents"[Mesh]', "rescue[tiab]", "bailout[tiab]",
                 '"Ischemic Stroke"[Mesh]', '"large vessel occlusion*"[tiab]'):  # fmt: skip
        assert term in saved.query
    assert saved.query.count("(") == saved.query.count(")")
    assert "\n" not in saved.query  # whitespace folded to single spaces
    assert "PRISMA-S" in saved.notes


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "q.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_dates_and_defaults(tmp_path: Path) -> None:
    saved = load_query(_write(tmp_path, 'query = "a AND b"\nmindate = 2010\nmaxdate = "2024-06"\n'))
    assert (saved.name, saved.mindate, saved.maxdate, saved.datetype) == (
        "q",
        "2010",
        "2024/06",
        "pdat",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\n', "'query' is missing or empty"),
        (
            'query = "a"\ndatabase = "embase"\n',
            "database 'embase' cannot be searched by reviewflow",
        ),
        ('query = "a"\nmindate = "2010/13"\n', "mindate '2010/13' is not a date"),
        ('query = "a"\nmindate = "2020"\nmaxdate = "2019"\n', "mindate 2020 is after maxdate 2019"),
        (
            'query = "a"\ndatetype = "year"\n',
            "datetype 'year' is not one of pdat, edat, mdat, crdt",
        ),
        ('query = "a"\nlimit = 5\n', "unknown key 'limit'"),
        ('query = ["a"]\n', "'query' must be a string"),
        ('query = "a\n', "invalid TOML"),
    ],
)
def test_a_bad_strategy_is_one_line_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_query(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_query(tmp_path / "absent.toml")
