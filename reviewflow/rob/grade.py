"""GRADE summary-of-findings table: per outcome, k, participants and the pooled estimate, with
the review team's ratings of the five GRADE domains beside the numbers that inform them (the
share of weight from studies at high risk of bias, I², the CI, Egger's test where k ≥ 10), and
the certainty that follows (Guyatt et al., J Clin Epidemiol 2011;64:383-394 and the series).

The ratings are judgements, set by the adjudicator (``reviewflow grade set``) and kept in the
database, one row per outcome and domain (table ``grade_rating``):

- ``design``: randomised | observational (certainty starts high (4) or low (2));
- ``risk_of_bias``, ``inconsistency``, ``indirectness``, ``imprecision``: not serious |
  serious (-1) | very serious (-2);
- ``publication_bias``: undetected | strongly suspected (-1);
- ``upgrade``: 0 | 1 | 2 (large effect, dose-response, plausible confounding).

A downgrade or an upgrade needs a reason. Every change writes an audit row (entity
``grade_rating``, actions ``grade.set`` / ``grade.clear``, ``before``/``after`` =
``{"outcome", "domain", "value", "reason"}``). An outcome whose design and five domains are not
all rated shows "not rated" where a rating is missing, and no certainty.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import select

from reviewflow.access.guard import require_lead
from reviewflow.errors import InputError
from reviewflow.rob.tools import LEVEL
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import GradeRating, utcnow

ENTITY = "grade_rating"
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
SERIOUSNESS = ("not serious", "serious", "very serious")
ALLOWED: dict[str, tuple[str, ...]] = {
    "design": ("randomised", "observational"),
    **{d: SERIOUSNESS for d in DOMAINS[:4]},
    "publication_bias": ("undetected", "strongly suspected"),
    "upgrade": ("0", "1", "2"),
}
LABELS = {"design": "design", "risk_of_bias": "risk of bias", "inconsistency": "inconsistency",
          "indirectness": "indirectness", "imprecision": "imprecision",
          "publication_bias": "publication bias", "upgrade": "upgrade"}  # fmt: skip
DOWNGRADE = {"not serious": 0, "serious": 1, "very serious": 2, "undetected": 0,
             "strongly suspected": 1}  # fmt: skip
START = {"randomised": 4, "observational": 2}
CERTAINTY = {4: "high", 3: "moderate", 2: "low", 1: "very low"}
NOT_RATED = "not rated"


@dataclass(frozen=True)
class Rating:
    """One outcome's ratings so far: domain → value, and the reasons given."""

    outcome: str
    values: dict[str, str]
    reasons: dict[str, str] = field(default_factory=dict)
    decided_by: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(d in self.values for d in ("design", *DOMAINS))

    @property
    def certainty(self) -> str | None:
        """high | moderate | low | very low, or None until the design and every domain are
        rated."""
        if not self.complete:
            return None
        level = START[self.values["design"]] - sum(DOWNGRADE[self.values[d]] for d in DOMAINS)
        return CERTAINTY[max(1, min(4, level + int(self.values.get("upgrade", "0"))))]

    @property
    def notes(self) -> str:
        return "; ".join(f"{LABELS[d]}: {self.reasons[d]}" for d in ALLOWED if d in self.reasons)


def normalise(domain: str, value: str) -> tuple[str, str]:
    """``risk-of-bias`` → ``risk_of_bias``, ``not-serious`` → ``not serious``."""
    return domain.strip().replace("-", "_"), " ".join(value.replace("-", " ").split())


def _needs_reason(domain: str, value: str) -> bool:
    return DOWNGRADE.get(value, 0) > 0 or (domain == "upgrade" and value not in ("", "0"))


def _state(outcome: str, domain: str, value: str, reason: str) -> dict[str, str]:
    return {"outcome": outcome, "domain": domain, "value": value, "reason": reason}


def set_ratings(
    store: Store, actor: str, outcome: str, values: Mapping[str, str],
    reasons: Mapping[str, str] | None = None, outcomes: Collection[str] | None = None,
) -> Rating:  # fmt: skip
    """Set (``""`` clears) ratings of ``outcome`` in one transaction, after checking them all
    (a bad one sets none); ``outcomes``: the outcomes the forms know, when given. The
    adjudicator's; audited. Returns the outcome's ratings after it."""
    require_lead(store, "GRADE ratings", "the review team's certainty judgements")
    reasons = dict(reasons or {})
    where = f"grade: {outcome}"
    if outcomes is not None and outcome not in outcomes:
        known = ", ".join(sorted(outcomes)) or "none"
        raise InputError(f"{where}: no outcome of that name in the forms (outcomes: {known})")
    if not values:
        raise InputError(f"{where}: give at least one DOMAIN=RATING")
    for domain in reasons:
        if domain not in values:
            raise InputError(f"{where}: a reason for {domain!r}, which is not being rated")
    for domain, value in values.items():
        if domain not in ALLOWED:
            raise InputError(f"{where}: no GRADE domain {domain!r} ({', '.join(ALLOWED)})")
        if value and value not in ALLOWED[domain]:
            raise InputError(
                f"{where}: {value!r} is not a rating of {domain} ({' / '.join(ALLOWED[domain])})"
            )
        if _needs_reason(domain, value) and not reasons.get(domain, "").strip():
            change = "an upgrade" if domain == "upgrade" else "a downgrade"
            raise InputError(
                f"{where}: {domain} = {value!r} is {change} and needs a reason "
                f"(--reason {domain}=TEXT)"
            )
    with store.write() as s:
        rows = {r.domain: r for r in s.exec(select(GradeRating).where(
            GradeRating.outcome == outcome)).all()}  # fmt: skip
        for domain, value in values.items():
            row, reason = rows.get(domain), reasons.get(domain, "").strip()
            before = None if row is None else _state(outcome, domain, row.value, row.reason)
            if not value:
                if row is not None:
                    s.delete(row)
                    audit(s, actor, "grade.clear", ENTITY, row.id, before, None)
                continue
            if row is not None and (row.value, row.reason) == (value, reason):
                continue
            row = row or GradeRating(outcome=outcome, domain=domain, value=value)
            row.value, row.reason, row.decided_by, row.decided_at = value, reason, actor, utcnow()
            s.add(row)
            s.flush()
            audit(s, actor, "grade.set", ENTITY, row.id, before,
                  _state(outcome, domain, value, reason))  # fmt: skip
    return ratings(store).get(outcome, Rating(outcome, {}))


def ratings(store: Store) -> dict[str, Rating]:
    """outcome → its ratings, for every outcome with at least one."""
    out: dict[str, Rating] = {}
    with store.read() as s:
        for row in s.exec(select(GradeRating).order_by(GradeRating.outcome)).all():
            r = out.setdefault(row.outcome, Rating(row.outcome, {}))
            r.values[row.domain] = row.value
            r.decided_by[row.domain] = row.decided_by
            if row.reason:
                r.reasons[row.domain] = row.reason
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
    value = NOT_RATED if rating is None else rating.values.get(domain, NOT_RATED)
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
        certainty=(rating and rating.certainty) or NOT_RATED,
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
    "the ratings are the review team's (reviewflow grade set), the numbers in brackets are "
    "reviewflow's."
)
