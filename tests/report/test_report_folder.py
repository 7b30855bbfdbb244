"""``reviewflow report --out DIR`` on a constructed review with a real published extraction."""

from __future__ import annotations

import csv
import json
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
import rispy
from sqlmodel import select

from reviewflow.report.folder import build_report
from reviewflow.store import Store, open_store
from reviewflow.store.models import ConsensusValue, Study
from reviewflow.workspace import Workspace, find_workspace
from tests.conftest import run_cli
from tests.report.builder import EXPECTED, build_review

EXTRACTION = Path(__file__).parents[1] / "data" / "extraction"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        for key in ("href", "src"):
            if a.get(key):
                self.targets.append(str(a[key]))


def _add_pritz1997(store: Store) -> None:
    """dat.pritz1997's 14 studies as imported consensus values (real published counts)."""
    with (EXTRACTION / "pritz1997.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with store.write() as s:
        for row in rows:
            study = Study(label=row["study"])
            s.add(study)
            s.flush()
            assert study.id is not None
            for key in ("outcome.improvement.events", "outcome.improvement.total"):
                s.add(
                    ConsensusValue(study_id=study.id, field=key, value=row[key], source="imported")
                )


@pytest.fixture
def review(workspace: Workspace) -> Workspace:
    for form in workspace.forms_dir.glob("*.toml"):
        form.unlink()
    shutil.copy(EXTRACTION / "vasospasm.toml", workspace.forms_dir / "vasospasm.toml")
    store = open_store(workspace.database_url())
    try:
        build_review(store)
        _add_pritz1997(store)
    finally:
        store.dispose()
    return find_workspace(workspace.root)


def _check_links(index: Path) -> Links:
    parser = Links()
    parser.feed(index.read_text(encoding="utf-8"))
    assert parser.targets
    for target in parser.targets:
        assert "://" not in target, target  # nothing fetched from elsewhere
        if target.startswith("#"):
            assert target[1:] in parser.ids, target
            continue
        path = index.parent / target
        assert path.is_file() and path.stat().st_size > 0, target
    return parser


def test_report_folder_has_every_part_and_links_resolve(review: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, stdout, err = run_cli("report", "--out", str(out), cwd=review.root)
    assert code == 0, err
    assert f"report written to {out / 'index.html'}" in stdout
    expected = [
        "index.html", "prisma.svg", "prisma.png", "prisma.pdf", "prisma_counts.json",
        "prisma2020_app.csv", "pooled_results.csv", "pooled_results.md",
        "forest_improvement.svg", "forest_improvement.png", "extraction.csv", "search_log.csv",
        "search_log.md", "screening_agreement.csv", "included_studies.csv",
        "included_studies.ris",
    ]  # fmt: skip
    for name in expected:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    links = _check_links(out / "index.html")
    linked = {t for t in links.targets if not t.startswith("#")}
    assert set(expected) - {"index.html"} <= linked
    ET.parse(out / "forest_improvement.svg")

    # pooled: metafor rma(measure="PLO", method="REML") on dat.pritz1997 gives logit estimate
    # 1.13891 (CI 0.66562 to 1.61220), i.e. 76% (66% to 83%); 326 patients, 246 improved
    md = (out / "pooled_results.md").read_text()
    assert "| Clinical improvement | Proportion | 14 | 326 | 246 | 76% (95% CI 66% to 83%) |" in md
    pooled = list(csv.DictReader((out / "pooled_results.csv").open()))
    assert pooled[0]["k"] == "14" and abs(float(pooled[0]["estimate"]) - 0.757473) < 1e-4
    index = (out / "index.html").read_text()
    assert "76% (95% CI 66% to 83%)" in index
    meta = index.split('<p class="meta">', 1)[1].split("</p>", 1)[0]
    url = review.database_url()
    if url.startswith("sqlite"):  # named by its file, never by the author's own folders
        path = Path(url.removeprefix("sqlite:///"))
        assert f"SQLite database ({path.name})" in meta or "db/reviewflow.sqlite" in meta
        assert str(path.parent) not in index

    counts = json.loads((out / "prisma_counts.json").read_text())
    assert counts["boxes"]["records_screened"]["n"] == 43
    inline = index.split('<g id="records_screened">', 1)[1].split("</g>", 1)[0]  # the diagram
    assert "Records screened" in inline and "(n\u00a0=\u00a043)" in inline

    log = list(csv.DictReader((out / "search_log.csv").open()))
    assert [r["database"] for r in log] == [
        "PubMed", "Embase", "ClinicalTrials.gov", "Citation searching",
    ]  # fmt: skip
    assert [r["records_added"] for r in log] == ["40", "12", "3", "5"]
    assert log[2]["method"] == "register" and log[3]["method"] == "other"
    assert {r["date_searched"] for r in log} == {""}  # imports without --searched
    assert (out / "search_log.md").read_text().count("not given (import --searched)") == 4

    agreement = list(csv.DictReader((out / "screening_agreement.csv").open()))
    ta = next(r for r in agreement if r["stage"] == "title-abstract")
    assert (ta["reviewer_a"], ta["reviewer_b"]) == ("anna", "ben")
    # both decided 41 database records (9 + 1 resolved + 1 conflict + 30 excluded) and 4
    # citation-searching records; they disagreed on two (the resolved one and the conflict)
    assert (ta["double_screened"], ta["agreed"]) == ("45", "43")

    included = list(csv.DictReader((out / "included_studies.csv").open()))
    assert len(included) == 4
    assert [r["study"] for r in included[:3]] == ["Study A 1998", "Study A 1998", "Study B 2001"]
    assert included[3]["study"] == ""  # the citation-searching report has no study yet
    with (out / "included_studies.ris").open(encoding="utf-8") as fh:
        entries = rispy.load(fh)
    assert len(entries) == 4 and entries[0]["notes"][0] == "study: Study A 1998"
    assert {e["accession_number"] for e in entries} == {r["pmid"] for r in included}

    extraction = list(csv.DictReader((out / "extraction.csv").open()))
    assert len(extraction) == 16  # 14 pritz1997 studies + the 2 included studies (no values yet)
    assert {r["outcome.improvement.total"] for r in extraction} >= {"58", ""}  # not 58.0
    table = index.split('<section id="extraction">', 1)[1].split("</section>", 1)[0]
    assert "<th>Clinical improvement: events</th>" in table and "outcome.improvement" not in table
    # the two included studies have no consensus yet: pending, not "without this outcome"
    assert "Extraction pending (no consensus values yet): Study A 1998; Study B 2001" in index
    assert "Studies without this outcome" not in index

    # PRISMA 2020 item 16b: every report excluded at full text with its reason, the same
    # reasons (and counts) as the PRISMA boxes that builder.py sets up by hand
    excluded = list(csv.DictReader((out / "excluded_full_text.csv").open()))
    assert len(excluded) == EXPECTED["dbr_excluded"] + EXPECTED["other_excluded"]
    assert Counter(r["reason"] for r in excluded) == Counter(
        dict(EXPECTED["dbr_reasons"]) | dict(EXPECTED["other_reasons"])
    )
    assert "Reports excluded at full text, with reasons" in index
    assert "Question and eligibility criteria" in index  # said absent: the template has none


def test_report_shows_the_question_and_criteria(review: Workspace, tmp_path: Path) -> None:
    toml = review.root / "review.toml"
    toml.write_text(
        toml.read_text()
        .replace('question = ""', 'question = "Do NSAIDs <reduce> pain & harm?"')
        .replace("include = []", 'include = ["Randomised trials"]', 1)
        .replace("exclude = []", 'exclude = ["Animal studies"]', 1)
    )
    out = tmp_path / "report"
    code, _, err = run_cli("report", "--out", str(out), cwd=review.root)
    assert code == 0, err
    index = (out / "index.html").read_text()
    section = index.split('<section id="criteria">', 1)[1].split("</section>", 1)[0]
    assert "Do NSAIDs &lt;reduce&gt; pain &amp; harm?" in section
    assert "<h3>Inclusion criteria</h3><ul><li>Randomised trials</li></ul>" in section
    assert "<h3>Exclusion criteria</h3><ul><li>Animal studies</li></ul>" in section


def test_sections_without_data_say_so(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    """An empty review: every section says plainly that there is nothing yet; no failure."""
    out = tmp_path / "empty"
    store = open_store(sqlite_workspace.database_url())
    try:
        result = build_report(
            store, sqlite_workspace, out, notices=["Decisions in this review were simulated."]
        )
    finally:
        store.dispose()
    index = (out / "index.html").read_text()
    assert "Decisions in this review were simulated." in index
    for phrase in (
        "No study has been extracted yet",
        "Nothing pooled",
        "No search has been run and no file imported yet.",
        "No record has been screened by two reviewers yet.",
        "No report has been included at full text yet.",
        "No study has a consensus risk-of-bias assessment yet.",
        "No outcome was pooled, so there is no summary of findings.",
        "No report has been excluded at full text yet.",
        "review.toml gives no question and no eligibility criteria.",
    ):
        assert phrase in index, phrase
    assert len(result.notes) == 9  # one per section above
    assert not (out / "pooled_results.csv").exists()
    _check_links(out / "index.html")
    assert (out / "prisma.svg").stat().st_size > 0


def test_report_refuses_a_file_as_folder(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("not a folder")
    code, _out, err = run_cli("report", "--out", str(target), cwd=sqlite_workspace.root)
    assert code == 1 and str(target) in err and "not a folder" in err


def test_report_json_lists_the_files_and_empty_sections(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    code, stdout, err = run_cli(
        "report", "--out", str(tmp_path / "r"), "--json", cwd=sqlite_workspace.root
    )
    assert code == 0, err
    data = json.loads(stdout)
    assert data["index"] == str(tmp_path / "r" / "index.html")
    assert all(Path(f).is_file() for f in data["files"])
    assert data["pooled"] == [] and any("Search log" in n for n in data["notes"])


def _pending_and_not_reported(review: Workspace) -> None:
    """Study A 1998: both reviewers finished, their events differ and nobody settled it yet:
    pending. Study B 2001: both finished with the outcome left empty: not reported."""
    from reviewflow.extraction.consensus import accept_agreements
    from reviewflow.extraction.forms import find_form
    from reviewflow.extraction.values import mark_finished, save_value

    form = find_form(review.forms_dir)
    store = open_store(review.database_url())
    try:
        with store.read() as s:
            ids = {st.label: st.id for st in s.exec(select(Study)).all()}
        a, b = ids["Study A 1998"], ids["Study B 2001"]
        for who, events in (("anna", "10"), ("ben", "11")):
            save_value(store, who, form, a, "outcome.improvement.events", events)
            save_value(store, who, form, a, "outcome.improvement.total", "20")
            mark_finished(store, who, form, a)
            mark_finished(store, who, form, b)
        accept_agreements(store, form, "anna")  # Study A's total: agreed; its events: differ
    finally:
        store.dispose()


def test_pooled_results_tell_pending_extraction_from_an_outcome_not_reported(
    review: Workspace, tmp_path: Path
) -> None:
    _pending_and_not_reported(review)
    out = tmp_path / "report"
    code, _, err = run_cli("report", "--out", str(out), cwd=review.root)
    assert code == 0, err
    (pooled,) = csv.DictReader((out / "pooled_results.csv").open(encoding="utf-8"))
    assert pooled["k"] == "14"
    assert pooled["studies_without_data"] == "Study B 2001"
    assert pooled["studies_extraction_pending"] == "Study A 1998"
    md = (out / "pooled_results.md").read_text(encoding="utf-8")
    assert (
        "- Clinical improvement: extraction pending (no consensus values yet): Study A 1998" in md
    )
    assert "- Clinical improvement: not reported by Study B 2001" in md
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Studies without this outcome: Study B 2001</p>" in index
    assert "Extraction pending (no consensus values yet): Study A 1998</p>" in index


def test_pool_outcome_tells_pending_extraction_from_an_outcome_not_reported(
    review: Workspace,
) -> None:
    _pending_and_not_reported(review)
    code, out, err = run_cli("pool", "--outcome", "improvement", "--json", cwd=review.root)
    assert code == 0, err
    assert json.loads(out)["k"] == 14
    lines = err.splitlines()
    assert "1 study without events/total for improvement left out: Study B 2001" in lines
    # pool links the included report not yet in a study (Silverstein 2000): nobody began it
    pending = "Silverstein 2000, Study A 1998"
    assert f"2 studies pending extraction of events/total for improvement left out: {pending}" in (
        lines
    )
