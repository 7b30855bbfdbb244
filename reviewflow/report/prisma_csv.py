"""The PRISMA2020 app's CSV template with the review's counts in its ``n`` column.

The template (``PRISMA2020_template.csv``) is ``inst/extdata/PRISMA.csv`` of
prisma-flowdiagram/PRISMA2020 v1.1.4 (MIT licence, © Neal R Haddaway; Haddaway NR et al.,
Campbell Systematic Reviews 2022;18:e1230). The file written keeps its rows, columns and order;
only ``n`` changes, so it loads in the Shiny app (https://estech.shinyapps.io/prisma_flowdiagram/)
or in R with ``PRISMA2020::PRISMA_data(read.csv(F))``.

The app reads a list cell as ``name, n; name, n`` and cuts a name at its first comma, so commas
and semicolons inside source names and exclusion reasons are replaced by ``/``. Other-methods
sources go to the template's three rows by name: citation/reference/snowball searching to
``citations_results``, organisations to ``organisation_results``, anything else (websites,
trial registries of other methods, experts) to ``website_results``; the app cannot list them
by name. The meta-analysis rows stay empty unless counts are given.
"""

from __future__ import annotations

import csv
import io
import re
from importlib.resources import files
from pathlib import Path

from reviewflow.cells import safe_cell
from reviewflow.report.prisma import PrismaCounts

TEMPLATE = "PRISMA2020_template.csv"
COLUMNS = ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"]


def template_rows() -> list[dict[str, str]]:
    text = files("reviewflow.report").joinpath(TEMPLATE).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _clean(name: str) -> str:
    return re.sub(r"\s*[,;]\s*", "/", name).strip()


def _pairs(items: list[tuple[str, int]]) -> str:
    return "; ".join(f"{_clean(name)}, {k}" for name, k in items)


def other_row(source: str) -> str:
    """Which of the template's other-methods rows a source belongs to."""
    low = source.lower()
    if re.search(r"citation|reference|snowball|backward|forward", low):
        return "citations_results"
    if re.search(r"organi[sz]ation", low):
        return "organisation_results"
    return "website_results"


def prisma_values(
    counts: PrismaCounts, meta_analysis: tuple[int, int] | None = None
) -> dict[str, str]:
    """The template's ``data`` key → the value for its ``n`` cell."""
    db, ot = counts.databases, counts.other
    by_method = {
        m: [(s.name, s.n) for s in counts.sources if s.method == m]
        for m in ("database", "register", "other")
    }
    other_rows = {"website_results": 0, "organisation_results": 0, "citations_results": 0}
    for name, k in by_method["other"]:
        other_rows[other_row(name)] += k
    values: dict[str, int | str] = {
        "previous_studies": 0,
        "previous_reports": 0,
        "database_results": counts.source_total("database"),
        "database_specific_results": _pairs(by_method["database"]),
        "register_results": counts.source_total("register"),
        "register_specific_results": _pairs(by_method["register"]),
        **other_rows,
        "duplicates": db.duplicates,
        "excluded_automatic": db.removed_automation,
        "excluded_other": db.removed_other,
        "records_screened": db.screened,
        "records_excluded": db.screened_excluded,
        "dbr_sought_reports": db.sought,
        "dbr_notretrieved_reports": db.not_retrieved,
        "other_sought_reports": ot.sought if counts.has_other else 0,
        "other_notretrieved_reports": ot.not_retrieved if counts.has_other else 0,
        "dbr_assessed": db.assessed,
        "dbr_excluded": _pairs(db.exclusion_reasons),
        "other_assessed": ot.assessed if counts.has_other else 0,
        "other_excluded": _pairs(ot.exclusion_reasons) if counts.has_other else "",
        "new_studies": counts.studies,
        "new_reports": counts.reports,
        "total_studies": counts.studies,  # no previous version of the review
        "total_reports": counts.reports,
        "total_studies_ma": meta_analysis[0] if meta_analysis else "",
        "total_reports_ma": meta_analysis[1] if meta_analysis else "",
    }
    return {k: str(v) for k, v in values.items()}


def prisma_csv(counts: PrismaCounts, meta_analysis: tuple[int, int] | None = None) -> str:
    values = prisma_values(counts, meta_analysis)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)  # "\r\n": a "\r" in a reason is quoted
    writer.writeheader()
    for row in template_rows():
        key = row["data"]
        if key in values:
            row["n"] = safe_cell(values[key])  # reasons and source names are text
        writer.writerow(row)
    return out.getvalue()


def write_prisma_csv(
    counts: PrismaCounts, out: Path, meta_analysis: tuple[int, int] | None = None
) -> None:
    out.write_text(prisma_csv(counts, meta_analysis), encoding="utf-8")
