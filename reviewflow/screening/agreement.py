"""Agreement between reviewers, per stage and per pair of reviewers: Cohen's kappa.

The records counted are the stage's records (as :mod:`reviewflow.screening.flow` defines them)
that both reviewers of the pair decided. Categories are the decisions include / exclude / maybe;
at full text two exclusions agree whatever their reasons.

Kappa's standard error is the large-sample (non-null) variance of Fleiss, Cohen and Everitt
(1969), *Psychol Bull* 72:323-327, which is the delta-method variance under multinomial sampling:

    var(k) = ( sum_i p_ii [1 - (p_i. + p_.i)(1 - k)]^2
               + (1 - k)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
               - [k - p_e (1 - k)]^2 ) / ( n (1 - p_e)^2 )

and the 95% CI is k +/- 1.96 SE, clipped to [-1, 1]. When every decision falls in one category
(p_e = 1) kappa is undefined and reported as null.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

from sqlmodel import col, select

from reviewflow.access.guard import require_lead
from reviewflow.screening import flow
from reviewflow.screening.decisions import ScreeningRules
from reviewflow.store.engine import Store
from reviewflow.store.models import DECISIONS, STAGES, Decision, Reviewer

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Kappa:
    n: int
    agreed: int
    percent_agreement: float | None
    kappa: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None


def cohen_kappa(a: Sequence[str], b: Sequence[str], categories: Sequence[str] = DECISIONS) -> Kappa:
    """Cohen's kappa of two raters' paired labels, with its Fleiss-Cohen-Everitt SE."""
    if len(a) != len(b):
        raise ValueError("the two raters must rate the same items")
    n = len(a)
    agreed = sum(1 for x, y in zip(a, b, strict=True) if x == y)
    if n == 0:
        return Kappa(0, 0, None, None, None, None, None)
    cats = list(dict.fromkeys([*categories, *a, *b]))
    index = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    p = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        p[index[x]][index[y]] += 1 / n
    row = [sum(p[i]) for i in range(k)]
    column = [sum(p[i][j] for i in range(k)) for j in range(k)]
    po = sum(p[i][i] for i in range(k))
    pe = sum(row[i] * column[i] for i in range(k))
    if math.isclose(pe, 1.0):
        return Kappa(n, agreed, 100 * po, None, None, None, None)
    kappa = (po - pe) / (1 - pe)
    diag = sum(p[i][i] * (1 - (row[i] + column[i]) * (1 - kappa)) ** 2 for i in range(k))
    off = sum(p[i][j] * (column[i] + row[j]) ** 2 for i in range(k) for j in range(k) if i != j)
    var = (diag + (1 - kappa) ** 2 * off - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2)
    se = math.sqrt(max(var, 0.0))
    low, high = max(-1.0, kappa - Z95 * se), min(1.0, kappa + Z95 * se)
    return Kappa(n, agreed, 100 * po, kappa, se, low, high)


@dataclass(frozen=True)
class PairAgreement:
    stage: str
    reviewer_a: str
    reviewer_b: str
    double_screened: int
    agreed: int
    percent_agreement: float | None
    kappa: float | None
    kappa_se: float | None
    ci95_low: float | None
    ci95_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def agreement(store: Store, rules: ScreeningRules | None = None) -> list[PairAgreement]:
    """Per stage and per pair of reviewers who both decided some records of it."""
    require_lead(store, "agreement")
    rules = rules or ScreeningRules()
    out: list[PairAgreement] = []
    with store.read() as s:
        f = flow.review_flow(s, rules.reviewers_per_record)
        names = {i: n for i, n in s.execute(select(Reviewer.id, Reviewer.name)).all()}
        members = {
            flow.TITLE_ABSTRACT: set(f.title_abstract.outcome),
            flow.FULL_TEXT: set(f.full_text.outcome),
        }
        for stage in STAGES:
            by_record: dict[int, dict[int, str]] = {}
            rows = s.execute(
                select(Decision.record_id, Decision.reviewer_id, Decision.decision)
                .where(Decision.stage == stage)
                .order_by(col(Decision.record_id))
            ).all()
            for rid, reviewer, decision in rows:
                if rid in members[stage]:
                    by_record.setdefault(rid, {})[reviewer] = decision
            pairs = sorted(
                {pair for d in by_record.values() for pair in combinations(sorted(d), 2)}
            )
            for ra, rb in pairs:
                both = [(d[ra], d[rb]) for d in by_record.values() if ra in d and rb in d]
                kap = cohen_kappa([x for x, _ in both], [y for _, y in both])
                out.append(
                    PairAgreement(
                        stage,
                        names.get(ra, "?"),
                        names.get(rb, "?"),
                        kap.n,
                        kap.agreed,
                        kap.percent_agreement,
                        kap.kappa,
                        kap.se,
                        kap.ci_low,
                        kap.ci_high,
                    )  # fmt: skip
                )
    return out
