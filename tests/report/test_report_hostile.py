"""Hostile text in every field the report shows: it is written as text, never as markup.

Records come from outside (other databases' exports, PubMed) and from colleagues (study labels,
extraction values, reasons, review.toml); the report is opened in a browser. Each field below
carries its own payload (a ``<script>``, an attribute break-out with an event handler, a
``javascript:`` link, mathtext that matplotlib cannot draw), and the test reads the written files
with real parsers: the payload must come back as the text of the page, and the page must hold no
script, no event handler and no ``javascript:`` URL.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlmodel import col, select, update

from reviewflow.report.folder import build_report
from reviewflow.store import open_store
from reviewflow.store.models import ConsensusValue, Decision, Record, SearchRun, Study
from reviewflow.workspace import Workspace, find_workspace
from tests.conftest import run_cli
from tests.report.builder import WRONG_DESIGN, build_review
from tests.report.test_report_folder import EXTRACTION, _add_pritz1997


def payload(field: str) -> str:
    return (
        f'{field} <script>alert(1)</script> "><img src=x onerror=alert(2)> '
        f"<a href='javascript:alert(3)'>x</a> ]]> --> $\\nope{{$ &amp;"
    )


FIELDS = ["title", "reason", "form", "field", "outcome", "study", "value", "record", "authors",
          "journal", "source", "query", "file"]  # fmt: skip


class Page(HTMLParser):
    """Every tag and attribute of a page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.text.append(data)


def _no_active_content(tag: str, attrs: dict[str, str | None], where: str) -> None:
    name = tag.rsplit("}", 1)[-1].lower()
    assert name not in ("script", "iframe", "object", "embed", "foreignobject"), (where, tag)
    for key, value in attrs.items():
        key = key.rsplit("}", 1)[-1].lower()
        assert not key.startswith("on"), (where, tag, key)
        if key in ("href", "src", "action", "xlink:href"):
            assert not (value or "").strip().lower().startswith(("javascript:", "data:text")), (
                where,
                value,
            )


def _words(text: str) -> str:
    return "".join(text.split())  # the diagram wraps long lines (not only at spaces)


def _check_svg(path: Path, expected: list[str]) -> None:
    root = ET.parse(path).getroot()  # well-formed: nothing broke out of an element
    for el in root.iter():
        _no_active_content(el.tag, dict(el.attrib), path.name)
    text = _words(" ".join(root.itertext()))
    for field in expected:
        assert _words(payload(field)) in text, (path.name, field)


@pytest.fixture
def hostile(sqlite_workspace: Workspace) -> Workspace:
    ws = sqlite_workspace
    toml = ws.root / "review.toml"
    toml.write_text(
        toml.read_text()
        .replace('title = "Test review"', f"title = {json.dumps(payload('title'))}")
        .replace('"Wrong study design",', f"{json.dumps(payload('reason'))},")
    )
    for old in ws.forms_dir.glob("*.toml"):
        old.unlink()
    form = (EXTRACTION / "vasospasm.toml").read_text()
    form = form.replace(
        'title = "Hyperdynamic therapy for cerebral vasospasm (Pritz 1997)"',
        f'title = {json.dumps(payload("form"))}\n\n[[fields]]\nkey = "country"\n'
        f'label = {json.dumps(payload("field"))}\ntype = "text"',
    ).replace('label = "Clinical improvement"', f"label = {json.dumps(payload('outcome'))}")
    (ws.forms_dir / "vasospasm.toml").write_text(form)
    store = open_store(ws.database_url())
    try:
        ids = build_review(store)
        _add_pritz1997(store)
        with store.write() as s:
            s.execute(update(Decision).where(col(Decision.reason) == WRONG_DESIGN)
                      .values(reason=payload("reason")))  # fmt: skip
            # a pritz1997 study (pooled: in the forest plot) and an included one (Study A)
            pooled = s.execute(select(Study).where(col(Study.label) == "Giannotta et al."))
            first = pooled.scalars().one()
            assert first.id is not None
            first.label = payload("study")
            s.add(ConsensusValue(study_id=first.id, field="country", value=payload("value"),
                                 source="imported"))  # fmt: skip
            # the studies the report lists as included (A 1998 and B 2001) and their records
            for rid in ids["included"]:
                rec = s.get(Record, rid)
                assert rec is not None
                rec.title, rec.journal = payload("record"), payload("journal")
                rec.authors = [payload("authors")]
            s.execute(update(Study).where(col(Study.label) == "Study A 1998")
                      .values(label=payload("included study")))  # fmt: skip
            run = s.execute(select(SearchRun).order_by(col(SearchRun.id))).scalars().first()
            assert run is not None
            run.source, run.query = payload("source"), payload("query")
            run.file_name = payload("file")
    finally:
        store.dispose()
    return find_workspace(ws.root)


def test_hostile_text_is_shown_as_text_everywhere(hostile: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "report"
    store = open_store(hostile.database_url())
    try:
        result = build_report(store, hostile, out)
    finally:
        store.dispose()
    assert result.pooled, "the hostile labels must not stop pooling or the forest plot"

    index = (out / "index.html").read_text(encoding="utf-8")
    page = Page()
    page.feed(index)
    for tag, attrs in page.tags:
        _no_active_content(tag, attrs, "index.html")
    images = [a.get("src") for t, a in page.tags if t == "img"]
    assert images == [result.pooled[0].forest_plot]
    text = _words(" ".join(page.text))
    for field in ("title", "reason", "outcome", "study", "included study", "value", "record", "authors", "journal",
                  "source", "query", "file"):  # fmt: skip
        assert _words(payload(field)) in text, field
    assert "<script>" not in index and "onerror=alert" not in index.replace(
        "onerror=alert(2)&gt;", ""
    )

    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert len(csp) == 1 and csp[0]["http-equiv"] == "Content-Security-Policy"
    policy = {
        d.split()[0]: d.split()[1:] for d in (csp[0]["content"] or "").split(";") if d.strip()
    }
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy  # no script at all
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'none'"]

    # the Markdown tables, through a CommonMark renderer that passes raw HTML (as pandoc does)
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark").enable("table")
    for name, fields in (
        ("pooled_results.md", ["outcome"]),
        ("search_log.md", ["source", "query"]),
    ):
        rendered = Page()
        rendered.feed(markdown.render((out / name).read_text(encoding="utf-8")))
        for tag, attrs in rendered.tags:
            _no_active_content(tag, attrs, name)
        shown = _words(" ".join(rendered.text))
        assert all(_words(payload(f)) in shown for f in fields), name

    _check_svg(out / "prisma.svg", ["reason", "source"])
    _check_svg(out / "forest_improvement.svg", ["outcome", "study"])
    assert (out / "prisma.png").stat().st_size > 0 and (out / "prisma.pdf").stat().st_size > 0


def test_pool_plots_draw_hostile_labels_as_text(tmp_path: Path) -> None:
    """``pool FILE.csv``: a study label and a moderator column (the bubble plot's axis) that are
    mathtext matplotlib cannot draw, and markup, come out as the plots' text."""
    from tests.pooling.golden_data import DATA

    rows = (DATA / "bcg.csv").read_text(encoding="utf-8").splitlines()
    column = "lat $\\nope{$ <script>"

    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    rows[0] = rows[0].replace('"ablat"', quoted(column))
    rows[1] = rows[1].replace('"Aronson"', quoted(payload("study")))
    data = tmp_path / "bcg hostile.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    forest, funnel, bubble = (tmp_path / f"{n}.svg" for n in ("forest", "funnel", "bubble"))
    code, _out, err = run_cli(
        "pool", str(data), "--events1", "events1", "--total1", "total1", "--events2", "events2",
        "--total2", "total2", "--measure", "RR", "--moderator", column, "--trimfill",
        "--forest", str(forest), "--funnel", str(funnel), "--bubble", str(bubble),
    )  # fmt: skip
    assert code == 0, err
    _check_svg(forest, ["study"])
    for plot in (funnel, bubble):
        root = ET.parse(plot).getroot()
        for el in root.iter():
            _no_active_content(el.tag, dict(el.attrib), plot.name)
    assert _words(column) in _words(" ".join(ET.parse(bubble).getroot().itertext()))
