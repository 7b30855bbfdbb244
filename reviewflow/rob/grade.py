"""GRADE summary-of-findings table: per outcome, k, participants and the pooled estimate, with
the reviewers' ratings of the five GRADE domains beside the numbers that inform them (the share
of weight from studies at high risk of bias, I², the CI, Egger's test where k ≥ 10), and the
certainty that follows (Guyatt et al., J Clin Epidemiol 2011;64:383-394 and the series).

The ratings are the reviewers' judgements, kept in the workspace's ``certainty.toml`` (versioned
with the review), one table per outcome::

    [mortality]
    design = "observational"        # or "randomised": certainty starts high (4) or low (2)
    risk_of_bias = "serious"        # not serious | serious (-1) | very serious (-2)
    inconsistency = "not serious"
    indirectness = "not serious"
    imprecision = "serious"
    publication_bias = "undetected" # undetected | strongly suspected (-1)
    upgrade = 0                     # 0-2: large effect, dose-response, plausible confounding
    notes = "why, in a sentence or two"

An outcome without ratings is shown with its numbers and "not rated".
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from reviewflow.errors import InputError
from reviewflow.rob.tools import LEVEL

CERTAINTY_FILE = "certainty.toml"
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOWNGRADE = {"not serious": 0, "serious": 1, "very serious": 2, "undetected": 0,
             "strongly suspected": 1}  # fmt: skip
START = {"randomised": 4, "observational": 2}
CERTAINTY = {4: "high", 3: "moderate", 2: "low", 1: "very low"}
KEYS = {*DOMAINS, "design", "upgrade", "notes"}
NOT_RATED = "not rated"


@dataclass(frozen=True)
class Rating:
    design: str
    domains: dict[str, str]
    upgrade: int
    notes: str

    @property
    def certainty(self) -> str:
        level = START[self.design] - sum(DOWNGRADE[v] for v in self.domains.values())
        return CERTAINTY[max(1, min(4, level + self.upgrade))]


def load_ratings(path: Path) -> dict[str, Rating]:
    """The ratings of ``certainty.toml`` (none when the file does not exist)."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: not valid TOML ({exc})") from None
    out = {}
    for outcome, table in data.items():
        where = f"{path.name}: [{outcome}]"
        if not isinstance(table, dict):
            raise InputError(f"{where}: expected a table of ratings")
        unknown = set(table) - KEYS
        if unknown:
            raise InputError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        design = table.get("design", "")
        if design not in START:
            raise InputError(f"{where}: design must be one of {', '.join(START)}")
        domains = {}
        for d in DOMAINS:
            value = table.get(d, "")
            allowed = (
                ("undetected", "strongly suspected")
                if d == "publication_bias"
                else ("not serious", "serious", "very serious")
            )
            if value not in allowed:
                raise InputError(f"{where}: {d} must be one of {', '.join(allowed)}")
            domains[d] = value
        upgrade = table.get("upgrade", 0)
        if not isinstance(upgrade, int) or not 0 <= upgrade <= 2:
            raise InputError(f"{where}: upgrade must be 0, 1 or 2")
        out[outcome] = Rating(design, domains, upgrade, str(table.get("notes", "")))
    return out


@dataclass(frozen=True)
class SofRow:
    outcome: str
    label: str
    k: int
    participants: int
    estimate: str  # the pooled result as written in the results table
    risk_of_bias: str
    inconsistency: str
    indirectness: str
    imprecision: str
    publication_bias: str
    certainty: str
    notes: str

    def table_row(self) -> dict[str, Any]:
        return {
            "Outcome": self.label,
            "Studies (k)": self.k,
            "Participants": f"{self.participants:,}",
            "Pooled estimate (95% CI)": self.estimate,
            "Risk of bias": self.risk_of_bias,
            "Inconsistency": self.inconsistency,
            "Indirectness": self.indirectness,
            "Imprecision": self.imprecision,
            "Publication bias": self.publication_bias,
            "Certainty": self.certainty,
            "Notes": self.notes,
        }


SOF_COLUMNS = list(SofRow.__dataclass_fields__)


def _rated(rating: Rating | None, domain: str, shown: str) -> str:
    value = NOT_RATED if rating is None else rating.domains[domain]
    return f"{value} ({shown})" if shown else value


def _participants(study: Any) -> int:
    if hasattr(study, "total"):  # a proportion
        return int(study.total)
    data = getattr(study, "data", {})
    return int(sum(v for k, v in data.items() if k in ("total1", "total2", "n1", "n2", "n")))


def sof_row(
    outcome: str,
    label: str,
    result: Any,
    estimate: str,
    rating: Rating | None,
    overall_rob: Mapping[str, str],
) -> SofRow:
    """One outcome's row from its pooled ``result`` (a PooledResult or EffectResult)."""
    from reviewflow.pooling.small_study import egger

    studies = list(result.studies)
    participants = sum(_participants(s) for s in studies)
    weight = sum(s.weight for s in studies)
    high = sum(s.weight for s in studies if LEVEL.get(overall_rob.get(s.study, ""), 0) >= 2)
    assessed = sum(1 for s in studies if s.study in overall_rob)
    rob_shown = (
        f"{100 * high / weight:.0f}% of weight from studies at high risk"
        if assessed == len(studies) and weight
        else f"{assessed} of {len(studies)} studies assessed"
    )
    ci = estimate.split("(", 1)[1].rstrip(")") if "(" in estimate else ""
    if result.k >= 10:
        usable = [s for s in studies if s.yi is not None and s.vi is not None]
        yi, vi = np.array([s.yi for s in usable]), np.array([s.vi for s in usable])
        test = egger(yi, vi, result.method)
        egger_shown = f"Egger p = {test.pval:.3f}" if test.pval >= 0.001 else "Egger p < 0.001"
    else:
        egger_shown = f"k = {result.k} < 10: Egger not tested"
    return SofRow(
        outcome=outcome,
        label=label,
        k=result.k,
        participants=participants,
        estimate=estimate,
        risk_of_bias=_rated(rating, "risk_of_bias", rob_shown),
        inconsistency=_rated(rating, "inconsistency", f"I² = {result.i2:.0f}%"),
        indirectness=_rated(rating, "indirectness", ""),
        imprecision=_rated(rating, "imprecision", ci),
        publication_bias=_rated(rating, "publication_bias", egger_shown),
        certainty=NOT_RATED if rating is None else rating.certainty,
        notes="" if rating is None else rating.notes,
    )


def write_sof(rows: Sequence[SofRow], out: Path, stem: str = "summary_of_findings") -> list[Path]:
    """Markdown, CSV and a standalone HTML table; returns the paths."""
    from reviewflow.report import html
    from reviewflow.report.tables import to_csv, to_markdown

    shown = [r.table_row() for r in rows]
    paths = [out / f"{stem}.md", out / f"{stem}.csv", out / f"{stem}.html"]
    paths[0].write_text(to_markdown(shown), encoding="utf-8")
    paths[1].write_text(to_csv([vars(r) for r in rows], SOF_COLUMNS), encoding="utf-8")
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Summary of findings'
        f"</title><style>{html.CSS}</style></head><body><h1>Summary of findings (GRADE)</h1>"
        f"{html.table(shown, numeric=['Studies (k)', 'Participants'])}"
        f"<p class=meta>{escape(GRADE_NOTE)}</p></body></html>\n"
    )
    paths[2].write_text(page, encoding="utf-8")
    return paths


GRADE_NOTE = (
    "Certainty starts high for randomised trials and low for observational studies, goes down "
    "one level per serious concern (two per very serious) and up for reasons to upgrade; "
    "the ratings are the reviewers' (certainty.toml), the numbers in brackets are reviewflow's."
)
