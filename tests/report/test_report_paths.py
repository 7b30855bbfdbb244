"""Paths: ``report --out`` into a folder that holds other files leaves them as they were, and a
review whose folders and files have spaces, ``%``, ``?``, ``#`` or non-ASCII letters in their
names works from ``init`` to the report (its database stays inside the review folder)."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest

from reviewflow.workspace import Workspace
from tests.conftest import run_cli
from tests.report.test_report_folder import _check_links

DATA = Path(__file__).parents[1] / "data"
PUBMED = DATA / "entrez" / "efetch_pubmed1.xml"
RIS = DATA / "ris" / "example_full.ris"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_report_into_a_folder_with_other_files_keeps_them(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "manuscript"
    mine = {
        "notes.txt": b"my notes",
        "Entwurf \u00fc 2.docx": b"PK\x03\x04 a draft",
        "drafts/figure 1.svg": b"<svg/>",
        ".hidden": b"x",
        "index.htm": b"<p>mine</p>",
        "forest_old.svg": b"<svg>an older plot</svg>",
    }
    for name, content in mine.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(content)
    for _ in range(2):  # and again over the first report
        code, _out, err = run_cli("report", "--out", str(out), cwd=sqlite_workspace.root)
        assert code == 0, err
        tree = _tree(out)
        assert {k: tree.get(k) for k in mine} == mine
        assert (out / "index.html").is_file() and (out / "prisma.svg").is_file()
    assert not [p for p in out.rglob("*.part")]  # no temporary file left behind


@pytest.mark.parametrize(
    "name", ["R\u00e9vue syst\u00e9matique \u00fc 1", "q?x=1 #2", "pct%41 & co"]
)
def test_a_review_with_any_folder_name_works(tmp_path: Path, name: str) -> None:
    base = tmp_path / name
    base.mkdir()
    root = base / f"{name} review"
    code, _out, err = run_cli("init", str(root), "--title", name)
    assert code == 0, err
    assert (root / "db" / "reviewflow.sqlite").is_file()
    ris = base / f"Embase export \u00e9 {name}.ris"
    shutil.copy(RIS, ris)
    out = base / f"rapport final \u00fc {name}"
    for args in (
        ("import", str(PUBMED), "--source", "PubMed"),
        ("import", str(ris), "--source", "Embase"),
        ("dedup",),
        ("status",),
        ("export", "records", "--format", "csv", "--out", str(base / f"records {name}.csv")),
        ("report", "--out", str(out)),
    ):
        code, stdout, err = run_cli(*args, cwd=root)
        assert code == 0, (args, err)
    # nothing was written beside the review but what was asked for
    assert sorted(p.name for p in base.iterdir()) == sorted(
        [root.name, ris.name, out.name, f"records {name}.csv"]
    )
    assert sorted(p.name for p in (root / "db").iterdir() if p.suffix == ".sqlite") == [
        "reviewflow.sqlite"
    ]
    index = out / "index.html"
    _check_links(index)
    text = index.read_text(encoding="utf-8")
    assert ris.name in text.replace("&amp;", "&")  # the search log names the file
    # the database by its place in the review (decoded from its URL), never the author's folders
    shown = html.unescape(text)
    assert "the review's SQLite database db/reviewflow.sqlite" in shown
    assert str(root) not in shown
