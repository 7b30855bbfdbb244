"""The report's tables as rows (lists of dicts): the search log (PRISMA-S), screening agreement,
the included studies, the pooled results; and the two ways they are written (CSV, Markdown)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from reviewflow.cells import safe_cell
from reviewflow.store import Store
from reviewflow.store.models import SearchRun

Rows = list[dict[str, Any]]

SEARCH_LOG_COLUMNS = [
    "run", "database", "method", "kind", "date_searched", "date_utc", "query_name", "query",
    "translation", "date_limits", "file", "file_sha256", "count", "records_added", "status",
    "notes",
]  # fmt: skip


def search_log(store: Store) -> Rows:
    """One row per search or imported file, in the order they ran (PRISMA-S items 1-3, 8, 13:
    the database, the date searched, the full query and PubMed's translation, the limits, the
    number of records found and how many were new to the review). Each file is its own row,
    with its name, its number of records and its SHA-256 (the file itself, as exported).

    ``date_searched`` is the day a search ran, or for an import the day given with
    ``--searched`` (empty when it was not given); ``date_utc`` is when reviewflow ran either."""
    with store.read() as s:
        runs = s.execute(select(SearchRun).order_by(col(SearchRun.id))).scalars().all()
        rows: Rows = []
        for run in runs:
            limits = ""
            if run.date_from or run.date_to:
                limits = f"{run.date_from or '…'} to {run.date_to or '…'}"
            rows.append(
                {
                    "run": run.id,
                    "database": run.source,
                    "method": run.method,
                    "kind": run.kind,
                    "date_searched": run.searched_on
                    or (f"{run.started_at:%Y-%m-%d}" if run.kind == "search" else ""),
                    "date_utc": run.started_at.strftime("%Y-%m-%d %H:%M"),
                    "query_name": run.query_name,
                    "query": run.query,
                    "translation": run.translation,
                    "date_limits": limits,
                    "file": run.file_name,
                    "file_sha256": run.file_sha256,
                    "count": "" if run.count is None else run.count,
                    "records_added": run.records_added,
                    "status": run.status,
                    "notes": run.notes,
                }
            )
    return rows


SEARCH_TOTAL_COLUMNS = ["database", "method", "runs", "count", "records_added"]


def search_totals(rows: Rows) -> Rows:
    """The search log summed per database (PRISMA-S item 13): ``runs`` searches and imported
    files (a database's export split into several files is one row per file above), ``count``
    the records in its files or its searches' hits, ``records_added`` the records new to the
    review, which is the number PRISMA's identification box gives for that database."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        total = totals.setdefault(
            (row["database"], row["method"]),
            {"database": row["database"], "method": row["method"], "runs": 0, "count": 0,
             "records_added": 0},
        )  # fmt: skip
        total["runs"] += 1
        total["count"] += row["count"] or 0
        total["records_added"] += row["records_added"]
    return list(totals.values())


AGREEMENT_COLUMNS = [
    "stage", "reviewer_a", "reviewer_b", "double_screened", "agreed", "percent_agreement",
    "kappa", "kappa_se", "ci95_low", "ci95_high",
]  # fmt: skip


def agreement_rows(store: Store, reviewers_per_record: int, reasons: Sequence[str]) -> Rows:
    """Cohen's kappa per stage and pair of reviewers (the screening stage's own function)."""
    from reviewflow.screening.agreement import agreement
    from reviewflow.screening.decisions import ScreeningRules

    rules = ScreeningRules(reviewers_per_record, tuple(reasons))
    return [a.to_dict() for a in agreement(store, rules)]


@dataclass(frozen=True)
class PooledRow:
    """One outcome's pooled estimate (a proportion, a mean, a ratio or a difference), in the
    words and numbers of a results table."""

    outcome: str
    label: str
    measure_label: str  # Proportion, Risk ratio, Mean difference, …
    k: int
    patients: int
    events: int | None  # None for continuous outcomes
    result: str  # 43% (95% CI 34% to 53%) · 0.49 (95% CI 0.34 to 0.70)
    prediction_interval: str
    heterogeneity: str
    i2: float
    tau2: float
    estimate: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    method: str
    measure: str
    forest_plot: str
    studies_without_data: str  # settled, and the outcome is not in their consensus
    studies_extraction_pending: str  # not settled yet: no consensus for the outcome so far

    def table_row(self) -> dict[str, Any]:
        return {
            "Outcome": self.label,
            "Measure": self.measure_label,
            "Studies (k)": self.k,
            "Patients": f"{self.patients:,}",
            "Events": "" if self.events is None else f"{self.events:,}",
            "Pooled estimate (95% CI)": self.result,
            "95% prediction interval": self.prediction_interval,
            "I²": f"{self.i2:.0f}%",
        }


POOLED_CSV_COLUMNS = [
    "outcome", "label", "measure_label", "k", "patients", "events", "result",
    "prediction_interval", "i2", "tau2", "heterogeneity", "estimate", "ci_lower", "ci_upper",
    "pi_lower", "pi_upper", "method", "measure", "forest_plot", "studies_without_data",
    "studies_extraction_pending",
]  # fmt: skip
_PATIENTS = ("total", "total1", "total2", "n", "n1", "n2")
_EVENTS = ("events", "events1", "events2")


def pooled_row(
    outcome: str,
    label: str,
    result: Any,
    forest: str,
    skipped: Sequence[str],
    pending: Sequence[str] = (),
) -> PooledRow:
    """A :class:`PooledRow` from the pooling stage's ``PooledResult`` (proportions) or
    ``EffectResult`` (every other measure); ``skipped``: the studies that do not report the
    outcome, ``pending``: those whose extraction of it is not settled yet."""
    from reviewflow.pooling import format as fmt
    from reviewflow.pooling.measures import MEASURES

    if result.measure in ("PLO", "PFT", "PAS", "PR", "PLN"):  # a PooledResult
        d = fmt.percent_decimals(result.estimate)
        text = fmt.format_proportion(
            result.estimate, result.ci_lower, result.ci_upper, result.level, d
        )
        pi = f"{fmt.percent(result.pi_lower, d)} to {fmt.percent(result.pi_upper, d)}"
        data = [{"events": s.events, "total": s.total} for s in result.studies]
    else:
        fixed = MEASURES[result.measure].fixed_decimals or result.transform == "exp"
        d = fmt.effect_decimals(result.ci_lower, result.ci_upper, fixed)
        text = fmt.format_effect(result.estimate, result.ci_lower, result.ci_upper, result.level, d)
        pi = f"{fmt.number(result.pi_lower, d)} to {fmt.number(result.pi_upper, d)}"
        data = [s.data for s in result.studies]
    binary = any("events" in c for c in (data[0] if data else {}))
    return PooledRow(
        outcome=outcome,
        label=label,
        measure_label=MEASURES[result.measure].label,
        k=result.k,
        patients=int(sum(row.get(c, 0) for row in data for c in _PATIENTS)),
        events=int(sum(row.get(c, 0) for row in data for c in _EVENTS)) if binary else None,
        result=text,
        prediction_interval="" if result.method in ("EE", "MH", "PETO") else pi,
        heterogeneity=fmt.format_heterogeneity(result),
        i2=result.i2,
        tau2=result.tau2,
        estimate=result.estimate,
        ci_lower=result.ci_lower,
        ci_upper=result.ci_upper,
        pi_lower=result.pi_lower,
        pi_upper=result.pi_upper,
        method=result.method,
        measure=result.measure,
        forest_plot=forest,
        studies_without_data="; ".join(skipped),
        studies_extraction_pending="; ".join(pending),
    )


def to_csv(rows: Rows, columns: Sequence[str]) -> str:
    out = io.StringIO()
    # RFC 4180 line ends: with "\n" alone, csv would not quote a field holding a "\r"
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else safe_cell(row.get(k)) for k in columns})
    return out.getvalue()


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&])")


def _md_cell(value: Any) -> str:
    """A cell as text in any Markdown renderer: markup characters backslash-escaped, so a title
    holding ``<script>`` or ``[x](javascript:…)`` is not raw HTML or a link (pandoc keeps HTML)."""
    text = "" if value is None else str(value)
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def md_text(value: Any) -> str:
    """A line of text for Markdown, escaped as a table cell is."""
    return _md_cell(value)


def to_markdown(rows: Rows, columns: Sequence[str] | None = None) -> str:
    """A GitHub/pandoc pipe table."""
    if not rows and not columns:
        return ""
    columns = list(columns or rows[0].keys())
    lines = [
        "| " + " | ".join(_md_cell(c) for c in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    lines += ["| " + " | ".join(_md_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"
