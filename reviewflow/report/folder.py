"""``reviewflow report --out DIR``: a folder a reviewer can attach to a manuscript.

Files (all relative to DIR, all linked from ``index.html``):

- ``prisma.svg`` / ``.png`` / ``.pdf``, ``prisma_counts.json``, ``prisma2020_app.csv``
- ``pooled_results.csv`` / ``.md`` and ``forest_<outcome>.svg`` / ``.png`` per outcome (every
  outcome type of the form: proportions, means, two-group binary and continuous)
- ``extraction.csv`` (the consensus extraction, one row per study)
- ``search_log.csv`` / ``.md`` (PRISMA-S), ``screening_agreement.csv``
- ``included_studies.csv`` / ``.ris`` (the reports of the included studies)

A section whose data is absent (no extraction form, no consensus values yet, fewer studies
than pooling needs) says so on the page; only real errors (an unwritable folder) stop the
report. Callers such as the demo pass ``notices`` (for example "decisions were simulated",
"data from …") that the page shows at the top.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from reviewflow.access.guard import require_lead
from reviewflow.cells import safe_frame
from reviewflow.errors import InputError, ReviewflowError
from reviewflow.report import html
from reviewflow.report.prisma import PrismaCounts, review_prisma
from reviewflow.report.prisma_csv import prisma_csv
from reviewflow.report.prisma_files import diagram_of, save_image, write_text
from reviewflow.report.prisma_svg import diagram_svg
from reviewflow.report.tables import (
    AGREEMENT_COLUMNS,
    POOLED_CSV_COLUMNS,
    SEARCH_LOG_COLUMNS,
    PooledRow,
    agreement_rows,
    pooled_row,
    search_log,
    to_csv,
    to_markdown,
)
from reviewflow.store import Store
from reviewflow.text import plural
from reviewflow.workspace import Workspace

INDEX = "index.html"


@dataclass
class ReportResult:
    index: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # sections that had nothing to show, and why
    pooled: list[PooledRow] = field(default_factory=list)
    prisma: PrismaCounts | None = None


class _Writer:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: list[Path] = []
        self.pooled: dict[str, Any] = {}  # outcome key → its pooled result (summary of findings)

    def text(self, name: str, content: str) -> str:
        write_text(self.out / name, content)
        self.files.append(self.out / name)
        return name


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create the report folder ({exc.strerror})") from None


def _prisma_section(w: _Writer, counts: PrismaCounts) -> html.Section:
    diagram = diagram_of(counts)
    svg = diagram_svg(diagram, "PRISMA 2020 flow diagram")
    w.text("prisma.svg", svg)
    for fmt in ("png", "pdf"):
        save_image(diagram, w.out / f"prisma.{fmt}", fmt)
        w.files.append(w.out / f"prisma.{fmt}")
    w.text("prisma_counts.json", json.dumps(counts.to_dict(), indent=2, ensure_ascii=False) + "\n")
    w.text("prisma2020_app.csv", prisma_csv(counts))
    inline = svg.split("?>", 1)[1] if svg.startswith("<?xml") else svg
    failed = [c for c in counts.checks if not c.ok]
    body = [f'<div class="prisma">{inline}</div>']
    if failed:
        body.append("<p>The flow is not final yet:</p><ul class=checks>")
        body += [f'<li class="fail">{escape(c.detail)}</li>' for c in failed]
        body.append("</ul>")
    return html.Section(
        "prisma",
        "PRISMA 2020 flow diagram",
        body,
        [
            ("prisma.svg", "SVG"),
            ("prisma.png", "PNG, 200 dpi"),
            ("prisma.pdf", "PDF"),
            ("prisma_counts.json", "every box with its count, and the checks"),
            ("prisma2020_app.csv", "for the PRISMA2020 app"),
        ],
    )


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "outcome"


def _extraction_sections(
    w: _Writer, store: Store, ws: Workspace, form_name: str | None, method: str
) -> tuple[html.Section, html.Section, list[PooledRow]]:
    pooled = html.Section("pooled", "Pooled results")
    extraction = html.Section("extraction", "Extraction table")
    rows: list[PooledRow] = []
    from reviewflow.extraction.export import as_typed, extraction_frame, outcome_table
    from reviewflow.extraction.forms import find_form

    try:
        form = find_form(ws.forms_dir, form_name)
    except ReviewflowError as exc:
        extraction.absent = f"No extraction form, so no extraction table: {exc.message}"
        pooled.absent = "Nothing pooled: there is no extraction form."
        return pooled, extraction, rows
    rpr = ws.config.reviewers_per_record
    frame = extraction_frame(store, form, rpr)
    if frame.empty:
        extraction.absent = "No study has been extracted yet (no included study, no consensus)."
        pooled.absent = "Nothing pooled: no study has consensus extraction values yet."
        return pooled, extraction, rows
    w.text("extraction.csv", safe_frame(as_typed(frame)).to_csv(index=False, lineterminator="\r\n"))
    extraction.files.append(("extraction.csv", f"{len(frame)} studies, consensus values"))
    extraction.body.append(html.table(_labelled(form, frame)))
    # a study without any consensus value yet is pending, not "without the outcome"
    fields = [f.key for f in form.fields]
    pending = set(frame.loc[frame[fields].isna().all(axis=1), "study"].astype(str))

    from reviewflow.pooling.forest import forest_plot
    from reviewflow.pooling.request import PoolRequest, run
    from reviewflow.rob.report import forest_column

    rob_column = forest_column(store)
    absent: list[str] = []
    for outcome in form.outcomes:
        table, skipped = outcome_table(store, form, outcome.key, rpr)
        if table.empty:
            absent.append(f"{outcome.label}: no study has all of {'/'.join(outcome.parts())} yet")
            continue
        request = PoolRequest(
            roles={part: part for part in outcome.parts()},
            study="study",
            measure=outcome.measure or None,
            method=method,
        )
        try:
            result = run(request, table, f"outcome {outcome.key}").result
        except InputError as exc:
            absent.append(f"{outcome.label}: not pooled ({exc.message})")
            continue
        name = f"forest_{_safe(outcome.key)}"
        for suffix in (".svg", ".png"):
            forest_plot(result, w.out / f"{name}{suffix}", title=outcome.label,
                        groups=outcome.groups, extra_columns=rob_column)  # fmt: skip
        w.pooled[outcome.key] = result
        w.files += [w.out / f"{name}.svg", w.out / f"{name}.png"]
        rows.append(pooled_row(outcome.key, outcome.label, result, f"{name}.svg", skipped))
    if rows:
        w.text("pooled_results.csv", to_csv([vars(r) for r in rows], POOLED_CSV_COLUMNS))
        md = to_markdown([r.table_row() for r in rows])
        w.text("pooled_results.md", md)
        pooled.body.append(
            html.table(
                [r.table_row() for r in rows], numeric=["Studies (k)", "Patients", "Events", "I²"]
            )
        )
        pooled.body.append(f"<p class=meta>{escape(_methods_note(rows, method))}</p>")
        for r in rows:
            pooled.body.append(
                f"<h3>{escape(r.label)}</h3><p>{escape(r.measure_label)}: "
                f"{escape(r.result)}, k = {r.k}, "
                f"{r.patients:,} patients</p>"
                f'<img class="forest" src="{escape(r.forest_plot, quote=True)}" '
                f'alt="Forest plot: {escape(r.label, quote=True)}">'
            )
            waiting = [s for s in r.studies_without_data.split("; ") if s in pending]
            lacking = [s for s in r.studies_without_data.split("; ") if s and s not in pending]
            if lacking:
                pooled.body.append(
                    f"<p class=meta>Studies without this outcome: {escape('; '.join(lacking))}</p>"
                )
            if waiting:
                pooled.body.append(
                    "<p class=meta>Extraction pending (no consensus values yet): "
                    f"{escape('; '.join(waiting))}</p>"
                )
            pooled.files.append((r.forest_plot, f"forest plot, {r.label}"))
            png = r.forest_plot.removesuffix(".svg") + ".png"
            pooled.files.append((png, "PNG"))
        pooled.files[:0] = [
            ("pooled_results.csv", "every estimate with its numbers"),
            ("pooled_results.md", "the table for a manuscript"),
        ]
    if absent:
        pooled.body.append("<ul>" + "".join(f"<li>{escape(a)}</li>" for a in absent) + "</ul>")
    if not rows:
        pooled.absent = "No outcome could be pooled yet."
    return pooled, extraction, rows


_SCALES = {"PLO": "logit", "PLN": "log", "PFT": "Freeman–Tukey double-arcsine",
           "PAS": "arcsine square-root", "PR": "raw proportion"}  # fmt: skip


def _methods_note(rows: list[PooledRow], method: str) -> str:
    """How the table's numbers were pooled, from what the rows hold."""
    from reviewflow.pooling.measures import MEASURES

    model = "Common-effect model" if method == "EE" else f"Random-effects models ({method})"
    parts = [model]
    for r in rows:
        if r.measure in _SCALES:
            parts.append(
                f"{r.label}: a proportion on the {_SCALES[r.measure]} scale, "
                "study intervals Clopper-Pearson"
            )
        elif MEASURES[r.measure].exp:
            parts.append(f"{r.label}: {r.measure_label.lower()} on the log scale")
        else:
            parts.append(f"{r.label}: {r.measure_label[0].lower()}{r.measure_label[1:]}")
    note = "; ".join(parts) + ". Heterogeneity: "
    return note + "; ".join(f"{r.label}: {r.heterogeneity}" for r in rows) + "."


def _labelled(form: Any, frame: Any) -> list[dict[str, Any]]:
    """The extraction table for people: the form's labels as headings (``Mortality: events``),
    numbers as typed (6, not 6.0), empty cells empty."""
    heading = {"study": "Study", "reports": "Reports"}
    for f in form.fields:
        outcome = next((o.label for o in form.outcomes if o.key == f.outcome), "")
        part = {"sd": "SD", "n": "n"}.get(f.part, f.part)
        heading[f.key] = f"{outcome}: {part}" if outcome and part else f.label
    rows = []
    for record in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        row = {}
        for key, value in record.items():
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            row[heading.get(str(key), str(key))] = "" if value is None else value
        rows.append(row)
    return rows


def _search_section(w: _Writer, store: Store) -> html.Section:
    rows = search_log(store)
    section = html.Section("search", "Search log (PRISMA-S)")
    if not rows:
        section.absent = "No search has been run and no file imported yet."
        return section
    w.text("search_log.csv", to_csv(rows, SEARCH_LOG_COLUMNS))
    for row in rows:  # PRISMA-S asks for the date of every search: say when it is missing
        row["date_searched"] = row["date_searched"] or "not given (import --searched)"
    shown = ["run", "database", "method", "date_searched", "query", "translation", "date_limits",
             "file", "count", "records_added", "status"]  # fmt: skip
    w.text("search_log.md", to_markdown(rows, shown))
    section.body.append(
        html.table(
            rows,
            shown,
            numeric=["run", "count", "records_added"],
            classes={"query": "query", "translation": "query"},
        )  # fmt: skip
    )
    section.files += [("search_log.csv", "every column"), ("search_log.md", "Markdown")]
    return section


def _agreement_section(w: _Writer, store: Store, ws: Workspace) -> html.Section:
    cfg = ws.config
    rows = agreement_rows(store, cfg.reviewers_per_record, cfg.exclusion_reasons)
    section = html.Section("agreement", "Screening agreement (Cohen's kappa)")
    from reviewflow.screening.prioritise import stop_notes

    # the methods text of a decision to stop screening (rule, parameters, estimate)
    section.body += [f"<p>{escape(note)}</p>" for note in stop_notes(store)]
    if not rows:
        section.absent = "No record has been screened by two reviewers yet."
        return section
    w.text("screening_agreement.csv", to_csv(rows, AGREEMENT_COLUMNS))

    def fmt(v: float | None, digits: int = 2) -> str:
        return "not defined" if v is None else f"{v:.{digits}f}"

    shown = [
        {
            "Stage": r["stage"],
            "Reviewers": f"{r['reviewer_a']} and {r['reviewer_b']}",
            "Records both screened": r["double_screened"],
            "Agreement": "" if r["percent_agreement"] is None else f"{r['percent_agreement']:.1f}%",
            "Kappa (95% CI)": fmt(r["kappa"])
            + ("" if r["kappa"] is None else f" ({fmt(r['ci95_low'])} to {fmt(r['ci95_high'])})"),
        }
        for r in rows
    ]
    section.body.append(html.table(shown, numeric=["Records both screened", "Agreement"]))
    section.files.append(("screening_agreement.csv", "with standard errors"))
    return section


def _criteria_section(ws: Workspace) -> html.Section:
    """The review question and eligibility criteria, as review.toml gives them."""
    cfg = ws.config
    section = html.Section("criteria", "Question and eligibility criteria")
    if not (cfg.question.strip() or cfg.inclusion_criteria or cfg.exclusion_criteria):
        section.absent = "review.toml gives no question and no eligibility criteria."
        return section
    if cfg.question.strip():
        section.body.append(f"<p>{escape(cfg.question.strip())}</p>")
    for heading, items in (("Inclusion criteria", cfg.inclusion_criteria),
                           ("Exclusion criteria", cfg.exclusion_criteria)):  # fmt: skip
        if items:
            listed = "".join(f"<li>{escape(c)}</li>" for c in items)
            section.body.append(f"<h3>{heading}</h3><ul>{listed}</ul>")
    return section


def _excluded_section(w: _Writer, store: Store, ws: Workspace) -> html.Section:
    """PRISMA 2020 item 16b: the reports excluded at full text, each with its reason."""
    from sqlmodel import col, select

    from reviewflow.screening import flow
    from reviewflow.screening.decisions import is_other
    from reviewflow.store.models import Record

    section = html.Section("excluded", "Reports excluded at full text, with reasons")
    with store.read() as s:
        state = flow.review_flow(s, ws.config.reviewers_per_record).full_text
        ids = state.ids(flow.EXCLUDE)
        records = s.execute(select(Record).where(col(Record.id).in_(ids))).scalars().all()
    if not records:
        section.absent = "No report has been excluded at full text yet."
        return section
    rows = [
        {
            "record_id": r.id,
            "authors": (r.authors[0] + " et al.") if len(r.authors) > 1 else "".join(r.authors),
            "year": r.year or "",
            "title": r.title,
            "pmid": r.pmid,
            "doi": r.doi,
            "reason": state.exclusion_reason.get(r.id or 0, "Reason not recorded"),
        }
        for r in sorted(
            records, key=lambda r: (state.exclusion_reason.get(r.id or 0, ""), r.id or 0)
        )
    ]
    w.text("excluded_full_text.csv", to_csv(rows, list(rows[0])))
    section.body.append(f"<p>{plural(len(rows), 'report')} excluded at full text.</p>")
    own = sum(1 for r in rows if is_other(str(r["reason"])))
    if own:
        section.body.append(
            f"<p>{plural(own, 'report')} excluded for a reason the reviewers wrote themselves "
            "(&ldquo;Other: &hellip;&rdquo;), counted as &ldquo;Other reasons&rdquo; in the "
            "flow diagram.</p>"
        )
    section.body.append(html.table(rows, numeric=["record_id"]))
    section.files.append(("excluded_full_text.csv", "one row per report"))
    return section


def _included_section(w: _Writer, store: Store, ws: Workspace) -> html.Section:
    import rispy
    from sqlmodel import select

    from reviewflow.acquire.record_export import CSV_COLUMNS, csv_row, iter_records, ris_entry
    from reviewflow.screening import flow
    from reviewflow.store.models import Study, StudyReport

    section = html.Section("included", "Included studies")
    with store.read() as s:
        included = set(flow.review_flow(s, ws.config.reviewers_per_record).full_text.ids("include"))
        labels = dict(s.execute(select(Study.id, Study.label)).all())
        study_of = {
            rid: labels.get(sid, "")
            for rid, sid in s.execute(select(StudyReport.record_id, StudyReport.study_id)).all()
        }
    if not included:
        section.absent = "No report has been included at full text yet."
        return section
    items = [item for item in iter_records(store) if item.record.id in included]
    items.sort(key=lambda it: (study_of.get(it.record.id or 0, "") or "~", it.record.id or 0))
    rows = [{"study": study_of.get(it.record.id or 0, "")} | csv_row(it) for it in items]
    w.text("included_studies.csv", to_csv(rows, ["study", *CSV_COLUMNS]))
    entries = []
    for it in items:
        entry = ris_entry(it)
        label = study_of.get(it.record.id or 0, "")
        if label:
            entry["notes"] = [f"study: {label}", *entry.get("notes", [])]
        entries.append(entry)
    w.text("included_studies.ris", rispy.dumps(entries))
    shown = [
        {
            "Study": r["study"] or "(not linked to a study)",
            "Authors": (r["authors"].split("; ")[0] + " et al.")
            if "; " in r["authors"]
            else r["authors"],
            "Year": r["year"],
            "Title": r["title"],
            "Journal": r["journal"],
            "PMID": r["pmid"],
        }
        for r in rows
    ]
    studies = len({r["study"] for r in rows if r["study"]}) + sum(1 for r in rows if not r["study"])
    section.body.append(f"<p>{studies} studies, {len(rows)} reports.</p>")
    section.body.append(html.table(shown))
    section.files += [
        ("included_studies.csv", "one row per report"),
        ("included_studies.ris", "RIS"),
    ]
    return section


def build_report(
    store: Store,
    ws: Workspace,
    out: Path,
    *,
    form_name: str | None = None,
    notices: Sequence[str] = (),
    method: str = "REML",
) -> ReportResult:
    """Write the report folder ``out`` for the workspace's review; returns what was written.
    Each outcome is pooled by the measure its form names, else its data type's default
    (PLO for proportions, MN for means, RR for two-group binary, MD for two-group
    continuous outcomes)."""
    require_lead(store, "the report")
    _prepare(out)
    w = _Writer(out)
    counts = review_prisma(store, ws.config)
    sections = [_criteria_section(ws), _prisma_section(w, counts)]
    pooled, extraction, rows = _extraction_sections(w, store, ws, form_name, method)
    from reviewflow.rob.report import certainty_section, rob_section

    sections += [
        pooled,
        certainty_section(w.out, store, ws.root, rows, w.pooled, w.files),
        rob_section(w.out, store, w.files, w.pooled),
        extraction,
        _search_section(w, store),
        _agreement_section(w, store, ws),
        _included_section(w, store, ws),
        _excluded_section(w, store, ws),
    ]
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = html.page(ws.config.title, generated, _database_name(store, ws), notices, sections)
    w.text(INDEX, page)
    notes = [f"{s.title}: {s.absent}" for s in sections if s.absent]
    return ReportResult(out / INDEX, w.files, notes, rows, counts)


def _database_name(store: Store, ws: Workspace) -> str:
    """The database as the report names it: a SQLite file by its path in the review folder
    (``db/reviewflow.sqlite``), never the author's own folders; a server by its redacted URL."""
    if not store.is_sqlite:
        return store.display_url
    from sqlalchemy.engine import make_url

    path = Path(make_url(store.url).database or "").resolve()  # the URL is percent-encoded
    try:
        return f"the review's SQLite database {path.relative_to(ws.root.resolve()).as_posix()}"
    except ValueError:
        return f"a SQLite database ({path.name})"


def report_summary(result: ReportResult) -> dict[str, Any]:
    """What a caller (the CLI, the demo) may print: the files and the sections left empty."""
    return {
        "index": str(result.index),
        "files": [str(p) for p in result.files],
        "notes": result.notes,
        "pooled": [{"outcome": r.label, "result": r.result, "k": r.k} for r in result.pooled],
    }
