"""PRISMA 2020 counts on a constructed review (every box), the diagram and the app's CSV."""

from __future__ import annotations

import csv
import io
import json
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlmodel import select

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.report.prisma import NO_REASON, prisma_counts
from reviewflow.report.prisma_csv import COLUMNS, other_row, prisma_csv
from reviewflow.report.prisma_files import save_image
from reviewflow.report.prisma_layout import build_diagram, plain, text_width, wrap
from reviewflow.report.prisma_svg import diagram_svg
from reviewflow.store import Store, open_store
from reviewflow.store.models import Decision, Record, Reviewer
from reviewflow.workspace import Workspace
from tests.conftest import run_cli
from tests.report.builder import EXPECTED, NOT_PRIMARY, WRONG_DESIGN, WRONG_POP, build_review
from tests.screening.helpers import nsaids_records

TEMPLATE = Path(__file__).parents[1] / "data" / "prisma" / "PRISMA.csv"
SVG = "{http://www.w3.org/2000/svg}"
REASONS = [WRONG_POP, WRONG_DESIGN, NOT_PRIMARY]


def test_every_box_counts_the_constructed_review(store: Store) -> None:
    build_review(store)
    c = prisma_counts(store, exclusion_reasons=REASONS, title="t")
    boxes = c.boxes()
    for key in (
        "database_results", "register_results", "other_results", "duplicates",
        "excluded_automatic", "excluded_other", "records_screened", "records_excluded",
        "dbr_sought_reports", "dbr_notretrieved_reports", "dbr_assessed", "dbr_excluded",
        "other_not_sought", "other_sought_reports", "other_notretrieved_reports",
        "other_assessed", "other_excluded", "new_studies", "new_reports",
    ):  # fmt: skip
        assert boxes[key]["n"] == EXPECTED[key], key
    assert boxes["database_results"]["sources"] == [
        {"name": "PubMed", "n": 40},
        {"name": "Embase", "n": 12},
    ]
    assert boxes["register_results"]["sources"] == [{"name": "ClinicalTrials.gov", "n": 3}]
    assert boxes["other_results"]["sources"] == [{"name": "Citation searching", "n": 5}]
    assert boxes["records_awaiting_screening"] == {"n": 3, "pending": 2, "conflicts": 1}
    assert boxes["dbr_awaiting_assessment"]["n"] == EXPECTED["dbr_awaiting"]
    assert [(r["reason"], r["n"]) for r in boxes["dbr_excluded"]["reasons"]] == [
        (WRONG_DESIGN, 2), (NOT_PRIMARY, 1), (NO_REASON, 1),
    ]  # fmt: skip
    assert [(r["reason"], r["n"]) for r in boxes["other_excluded"]["reasons"]] == EXPECTED[
        "other_reasons"
    ]
    assert boxes["other_not_sought"] | {} == {
        "n": 2, "duplicates": 1, "removed_before_screening": 0,
        "excluded_on_title_abstract": 1, "awaiting_screening": 0,
    }  # fmt: skip


def test_the_numbers_add_up_and_the_checks_say_what_is_unfinished(store: Store) -> None:
    build_review(store)
    c = prisma_counts(store, exclusion_reasons=REASONS)
    db, ot = c.databases, c.other
    with store.read() as s:
        records = len(s.exec(select(Record.id)).all())
    assert db.identified + ot.identified == records == 60
    for col_ in (db, ot):
        assert (
            col_.identified - col_.duplicates - col_.removed_automation - col_.removed_other
            == col_.screened
        )
        assert col_.screened == (
            col_.screened_excluded + col_.sought + col_.screening_pending + col_.screening_conflicts
        )
        assert col_.sought - col_.not_retrieved == col_.assessed
        assert col_.assessed == (
            col_.assessed_excluded + col_.included_reports + col_.assessment_pending
            + col_.assessment_conflicts
        )  # fmt: skip
        assert sum(n for _, n in col_.exclusion_reasons) == col_.assessed_excluded
    assert db.included_reports + ot.included_reports == c.reports
    checks = {ch.name: ch for ch in c.checks}
    assert all(ch.ok for name, ch in checks.items() if "add up" in name)
    failed = {name for name, ch in checks.items() if not ch.ok}
    assert failed == {
        "title/abstract screening complete",
        "full-text assessment complete",
        "every full-text exclusion has a reason",
        "every included report belongs to a study",
        "other methods: every record identified was sought for retrieval",
    }
    assert (
        "2 records awaiting decisions, 1 conflict"
        in checks["title/abstract screening complete"].detail
    )
    assert checks["duplicates removed before screening counted once"].ok
    assert not c.complete


def test_a_finished_review_has_every_check_passing(store: Store) -> None:
    """One source, every record decided by both reviewers: the flow is final."""
    records = nsaids_records(12)
    with store.write() as s:
        a, b = Reviewer(name="a"), Reviewer(name="b")
        s.add_all([a, b])
        run = start_run(s, kind="search", source="PubMed", method="database", count=12)
        store_records(s, run, records)
        s.flush()
        ids = s.exec(select(Record.id).order_by(Record.id)).all()
        for i, rid in enumerate(ids):
            d = "include" if i < 3 else "exclude"
            for r in (a, b):
                s.add(Decision(record_id=rid, reviewer_id=r.id, stage="title-abstract", decision=d))
        for rid in ids[:3]:
            for r in (a, b):
                s.add(Decision(record_id=rid, reviewer_id=r.id, stage="full-text",
                               decision="exclude", reason=WRONG_DESIGN))  # fmt: skip
    c = prisma_counts(store)
    assert c.complete, [ch for ch in c.checks if not ch.ok]
    assert not c.has_other and "other_results" not in c.boxes()
    assert (c.databases.screened, c.databases.screened_excluded, c.databases.assessed) == (12, 9, 3)
    assert (c.studies, c.reports) == (0, 0)


def test_svg_is_well_formed_and_shows_every_number(store: Store) -> None:
    build_review(store)
    c = prisma_counts(store, exclusion_reasons=REASONS)
    svg = diagram_svg(build_diagram(c))
    root = ET.fromstring(svg.encode())
    assert root.tag == f"{SVG}svg"
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text")).replace("\u00a0", " ")
    for phrase in (
        "Identification of studies via databases and registers",
        "Identification of studies via other methods",
        "Identification", "Screening", "Included",
        "PubMed (n = 40)", "Embase (n = 12)", "Databases (n = 52)", "Registers (n = 3)",
        "Citation searching (n = 5)", "removed (n = 9)", "tools (n = 2)", "(n = 1)",
        "Records screened (n = 43)", "Records excluded (n = 30)",
        "Awaiting a decision (n = 2)", "Conflicts to resolve (n = 1)",
        "retrieval (n = 10)", "Reports not retrieved (n = 2)", "eligibility (n = 8)",
        "Reports excluded (n = 4):", "Wrong study design (n = 2)", "Wrong population (n = 1)",
        "Studies included in review (n = 3)", "studies (n = 4)",
        "retrieval (n = 3)", "eligibility (n = 2)",
    ):  # fmt: skip
        assert phrase in text, phrase
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert {"database_results", "records_screened", "dbr_excluded", "other_assessed",
            "new_studies", "identification", "screening", "included"} <= ids  # fmt: skip
    # databases column: 4 side arrows + 4 downward; other methods: 3 side + 2 down + 1 elbow
    assert len(list(root.iter(f"{SVG}polyline"))) == 14


def test_text_is_wrapped_inside_its_box(store: Store) -> None:
    build_review(store)
    diagram = build_diagram(prisma_counts(store, exclusion_reasons=REASONS))
    for box in diagram.boxes:
        if box.vertical:
            continue
        for line in box.lines:
            width = text_width(line.text, bold=line.bold)
            left = line.x - width / 2 if box.centred else line.x
            assert box.x <= left and left + width <= box.x + box.w, (box.id, line.text)
            assert box.y <= line.y <= box.y + box.h, (box.id, line.text)
    assert wrap("Reports sought for retrieval (n\u00a0=\u00a010)", 120)[-1].endswith("10)")


# a source name as another program may write it: CR LF, a tab, a vertical tab, SOH, a C1
# control, a line separator, U+FFFF; and a reason with a form feed
NASTY_SOURCE = "PubMed\r\nvia\tOvid\x0b\x01\x85x\u2028y\uffff"
NASTY_REASON = "Wrong\x0cdose"


def test_control_characters_are_spaces_in_the_diagram(store: Store, tmp_path: Path) -> None:
    assert plain(NASTY_SOURCE) == "PubMed  via Ovid   x y "
    records = nsaids_records(4)
    with store.write() as s:
        a, b = Reviewer(name="a"), Reviewer(name="b")
        s.add_all([a, b])
        run = start_run(s, kind="search", source=NASTY_SOURCE, method="database", count=4)
        store_records(s, run, records)
        s.flush()
        ids = s.exec(select(Record.id).order_by(Record.id)).all()
        for rid in ids:
            for r in (a, b):
                s.add(Decision(record_id=rid, reviewer_id=r.id, stage="title-abstract",
                               decision="include"))  # fmt: skip
                s.add(Decision(record_id=rid, reviewer_id=r.id, stage="full-text",
                               decision="exclude", reason=NASTY_REASON))  # fmt: skip
    diagram = build_diagram(prisma_counts(store, exclusion_reasons=[NASTY_REASON]))
    root = ET.fromstring(diagram_svg(diagram).encode())  # U+FFFF, SOH: not well-formed XML
    lines = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert all(ch.isprintable() or ch == "\u00a0" for line in lines for ch in line), lines
    text = " ".join(lines).replace("\u00a0", " ")
    assert "PubMed via Ovid x y (n = 4)" in text and "Wrong dose (n = 4)" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib: "Glyph 13 (\r) missing from font(s)"
        for fmt in ("png", "pdf"):
            save_image(diagram, tmp_path / f"prisma.{fmt}", fmt)
    assert (tmp_path / "prisma.png").stat().st_size > 0


def test_csv_keeps_the_template_and_fills_n(store: Store) -> None:
    build_review(store)
    out = prisma_csv(prisma_counts(store, exclusion_reasons=REASONS))
    ours = list(csv.DictReader(io.StringIO(out)))
    with TEMPLATE.open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        template = list(reader)
    assert len(ours) == len(template)
    for mine, theirs in zip(ours, template, strict=True):
        assert {k: v for k, v in mine.items() if k != "n"} == {
            k: v for k, v in theirs.items() if k != "n"
        }
    n = {row["data"]: row["n"] for row in ours if row["data"] != "NA"}
    assert n["database_results"] == "52" and n["register_results"] == "3"
    assert n["database_specific_results"] == "PubMed, 40; Embase, 12"
    assert n["citations_results"] == "5" and n["website_results"] == "0"
    assert (n["duplicates"], n["excluded_automatic"], n["excluded_other"]) == ("9", "2", "1")
    assert (n["records_screened"], n["records_excluded"]) == ("43", "30")
    assert (n["dbr_sought_reports"], n["dbr_notretrieved_reports"], n["dbr_assessed"]) == (
        "10", "2", "8",
    )  # fmt: skip
    # the app cuts a reason at its first comma: the commas inside a reason become "/"
    assert n["dbr_excluded"] == (
        "Wrong study design, 2; Not a primary study (review/editorial/letter), 1; "
        "Reason not recorded, 1"
    )
    assert n["other_excluded"] == "Wrong population, 1"
    assert (n["new_studies"], n["new_reports"], n["total_studies"]) == ("3", "4", "3")
    assert n["total_studies_ma"] == ""  # not known from the flow: left empty, not invented


@pytest.mark.parametrize(
    ("source", "row"),
    [("Citation searching", "citations_results"), ("Reference lists", "citations_results"),
     ("WHO (organisation)", "organisation_results"), ("Google Scholar", "website_results")],
)  # fmt: skip
def test_other_sources_map_to_the_template_rows(source: str, row: str) -> None:
    assert other_row(source) == row


def test_prisma_command_writes_json_svg_png_pdf_csv(workspace: Workspace, tmp_path: Path) -> None:
    store = open_store(workspace.database_url())
    try:
        build_review(store)
    finally:
        store.dispose()
    out = {ext: tmp_path / f"flow.{ext}" for ext in ("svg", "png", "pdf", "csv")}
    code, stdout, err = run_cli(
        "prisma", "--json", "--svg", str(out["svg"]), "--png", str(out["png"]),
        "--pdf", str(out["pdf"]), "--csv", str(out["csv"]), cwd=workspace.root,
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(stdout)
    assert data["boxes"]["records_screened"]["n"] == 43
    assert data["complete"] is False
    assert {"name", "ok", "detail"} == set(data["checks"][0])
    assert out["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out["pdf"].read_bytes()[:5] == b"%PDF-"
    ET.parse(out["svg"])
    assert "records_screened" in out["csv"].read_text()
    code, stdout, err = run_cli("prisma", cwd=workspace.root)
    assert code == 0, err
    assert "records screened: 43, excluded: 30" in stdout
    assert "Not final yet:" in stdout


def test_prisma_command_names_a_bad_output_path(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "flow.svg"
    code, _out, err = run_cli("prisma", "--svg", str(target), cwd=sqlite_workspace.root)
    assert code == 1
    assert str(target) in err and "does not exist" in err and "Traceback" not in err
