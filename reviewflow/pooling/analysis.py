"""Meta-analysis of proportions: the functions the CLI, the report and the extraction call.

``pool(frame)`` takes a pandas DataFrame with columns ``study``, ``events``, ``total`` (other
names via arguments), checks it, and returns a :class:`PooledResult` (plain dataclasses,
proportion scale for everything a reader sees, the measure's scale kept alongside).
``pool_subgroups`` fits a separate random-effects model in each subgroup (each with its own
tau²) and tests for subgroup differences with Q-between, the Q statistic of a common-effect
model on the subgroup estimates and their standard errors (the approach metafor's
documentation shows for separate tau² per subgroup; RevMan and meta do the same).
``leave_one_out`` refits without each study in turn (metafor's ``leave1out``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from reviewflow.errors import InputError
from reviewflow.pooling import effects, rma
from reviewflow.pooling.glmm import fit_glmm
from reviewflow.pooling.table import check_study_table

METHODS = ("REML", "DL", "PM", "ML", "EE", "GLMM")


@dataclass(frozen=True)
class StudyResult:
    study: str
    events: int
    total: int
    proportion: float
    ci_lower: float
    ci_upper: float
    weight: float  # percent
    yi: float  # the measure (after the continuity correction)
    vi: float


_POOLED_KEYS = (
    "k", "measure", "method", "estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper",
    "tau2", "i2", "h2", "q", "q_pval", "test", "q_df", "q_kind", "tau2_ci", "theta", "se",
)  # fmt: skip


def pooled_keys(result: Any) -> dict[str, Any]:
    """The ``--json`` keys every pooled result shares, in the contract's order."""
    out = {key: getattr(result, key) for key in _POOLED_KEYS}
    out["tau2_ci"] = list(result.tau2_ci) if result.tau2_ci is not None else None
    return out


def pooled_fields(
    back: Callable[[float], float],
    theta: float,
    se: float,
    pval: float,
    ci: tuple[float, float],
    pi: tuple[float, float],
    tau2: float,
    tau2_ci: tuple[float, float] | None,
    heterogeneity: tuple[float, float, float, float],  # I², H², Q, Q's p-value
) -> dict[str, Any]:
    """The fields of a pooled result from a fit: estimate, CI and PI through ``back`` (to the
    reporting scale), the rest as they are."""
    i2, h2, q, q_pval = heterogeneity
    return {
        "estimate": back(theta),
        "ci_lower": back(ci[0]),
        "ci_upper": back(ci[1]),
        "pi_lower": back(pi[0]),
        "pi_upper": back(pi[1]),
        "theta": float(theta),
        "se": float(se),
        "pval": float(pval),
        "tau2": float(tau2),
        "tau2_ci": tau2_ci,
        "i2": float(i2),
        "h2": float(h2),
        "q": float(q),
        "q_pval": float(q_pval),
    }


@dataclass(frozen=True)
class Pooled:
    """What every pooled result holds (proportions here, effect measures in effect_analysis)."""

    k: int
    measure: str
    method: str
    test: str  # "z", "knha" or, for the GLMM, "t"
    level: float
    estimate: float  # the reporting scale (a proportion, a ratio, …) from here …
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float  # … to here
    theta: float  # the pooled value on the measure's scale
    se: float
    pval: float
    tau2: float
    tau2_ci: tuple[float, float] | None
    i2: float
    h2: float
    q: float
    q_df: int
    q_pval: float


@dataclass(frozen=True)
class PooledResult(Pooled):
    q_kind: str  # "Q" (inverse variance) or "LRT" (GLMM)
    studies: tuple[StudyResult, ...]
    study_interval: str = "clopper-pearson"

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` contract: proportion scale, I² in percent, weights in percent."""
        return {
            **pooled_keys(self),
            "level": self.level,
            "study_interval": self.study_interval,
            "studies": [
                {
                    "study": s.study,
                    "events": s.events,
                    "total": s.total,
                    "proportion": s.proportion,
                    "ci_lower": s.ci_lower,
                    "ci_upper": s.ci_upper,
                    "weight": s.weight,
                }
                for s in self.studies
            ],
        }


class _Pooled(Protocol):
    @property
    def theta(self) -> float: ...

    @property
    def se(self) -> float: ...

    def to_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=_Pooled)


@dataclass(frozen=True)
class SubgroupResult(Generic[R]):
    """Subgroups of any pooled result (proportions or an effect measure)."""

    groups: tuple[tuple[str, R], ...]
    q_between: float
    q_between_df: int
    q_between_pval: float
    overall: R

    def to_dict(self) -> dict[str, Any]:
        out = self.overall.to_dict()
        out["subgroups"] = [dict(name=name, **result.to_dict()) for name, result in self.groups]
        out["test_for_subgroup_differences"] = {
            "q_between": self.q_between,
            "df": self.q_between_df,
            "pval": self.q_between_pval,
            "approach": "separate random-effects model per subgroup; Q of a common-effect "
            "model on the subgroup estimates",
        }
        return out


@dataclass(frozen=True)
class LeaveOneOutRow:
    omitted: str
    estimate: float  # the reporting scale (a proportion, a ratio, …)
    ci_lower: float
    ci_upper: float
    theta: float  # measure scale
    se: float
    tau2: float
    i2: float
    q: float
    q_pval: float

    @classmethod
    def of(cls, omitted: str, r: Any) -> LeaveOneOutRow:
        """The row of a result pooled without the study ``omitted``."""
        return cls(
            omitted, r.estimate, r.ci_lower, r.ci_upper, r.theta, r.se, r.tau2, r.i2, r.q,
            r.q_pval,
        )  # fmt: skip


@dataclass(frozen=True)
class _Options:
    measure: str = "PLO"
    method: str = "REML"
    knha: bool = False
    level: float = 0.95
    study_interval: str = "clopper-pearson"


def _options(
    measure: str,
    method: str,
    knha: bool,
    level: float,
    study_interval: str,
) -> _Options:
    measure, method = measure.upper(), method.upper()
    if measure not in effects.MEASURES:
        raise InputError(f"unknown measure {measure!r}; choose {', '.join(effects.MEASURES)}")
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose {', '.join(METHODS)}")
    if method == "GLMM" and measure != "PLO":
        raise InputError(f"the GLMM is a logit model: use --measure PLO (not {measure})")
    if study_interval not in effects.STUDY_INTERVALS:
        raise InputError(
            f"unknown study interval {study_interval!r}; "
            f"choose {', '.join(effects.STUDY_INTERVALS)}"
        )
    if not 0 < level < 1:
        raise InputError(f"confidence level must be between 0 and 1 (got {level})")
    return _Options(measure, method, knha, level, study_interval)


def pool(
    frame: pd.DataFrame,
    *,
    events: str = "events",
    total: str = "total",
    study: str | None = "study",
    measure: str = "PLO",
    method: str = "REML",
    knha: bool = False,
    level: float = 0.95,
    study_interval: str = "clopper-pearson",
    source: str = "study table",
) -> PooledResult:
    """Pool the proportions events/total of a DataFrame (one row per study).

    Raises :class:`InputError` for bad counts, a missing column, or too few studies.
    """
    if study is not None and study not in frame.columns and study == "study":
        study = None  # the default name is optional
    table = check_study_table(frame, events=events, total=total, study=study, source=source)
    return _pool_checked(table, _options(measure, method, knha, level, study_interval), source)


def _pool_checked(table: pd.DataFrame, opt: _Options, source: str) -> PooledResult:
    x = table["events"].to_numpy(dtype=float)
    n = table["total"].to_numpy(dtype=float)
    k = len(x)
    if opt.method != "EE" and k < 2:
        raise InputError(
            f"{source}: {opt.method} needs at least 2 studies (got {k}); "
            "use --method EE for a single study"
        )
    es = effects.escalc(opt.measure, x, n)
    low, high = effects.STUDY_INTERVALS[opt.study_interval](x, n, opt.level)

    def back(value: float) -> float:
        return float(effects.back_transform(opt.measure, value, n))

    if opt.method == "GLMM":
        try:
            g = fit_glmm(x, n, test="t" if opt.knha else "z", level=opt.level)
        except ValueError as exc:
            raise InputError(f"{source}: {exc}") from None
        w = 1 / (es.vi + g.tau2)  # display weights: the model itself has none
        weights = 100 * w / np.sum(w)
        theta, se, pval, tau2 = g.estimate, g.se, g.pval, g.tau2
        ci, pi = (g.ci_lower, g.ci_upper), (g.pi_lower, g.pi_upper)
        tau2_ci, i2, h2 = None, g.i2, g.h2
        q, q_pval, q_kind, test = g.q_lrt, g.q_lrt_pval, "LRT", g.test
    else:
        f = rma.fit(es.yi, es.vi, opt.method, "knha" if opt.knha else "z", opt.level)
        weights = f.weights
        theta, se, pval, tau2 = f.estimate, f.se, f.pval, f.tau2
        ci, pi = (f.ci_lower, f.ci_upper), (f.pi_lower, f.pi_upper)
        tau2_ci, i2, h2 = f.tau2_ci, f.i2, f.h2
        q, q_pval, q_kind, test = f.q, f.q_pval, "Q", f.test

    studies = tuple(
        StudyResult(
            study=str(table["study"].iloc[i]),
            events=int(x[i]),
            total=int(n[i]),
            proportion=float(x[i] / n[i]),
            ci_lower=float(low[i]),
            ci_upper=float(high[i]),
            weight=float(weights[i]),
            yi=float(es.yi[i]),
            vi=float(es.vi[i]),
        )
        for i in range(k)
    )
    return PooledResult(
        k=k,
        measure=opt.measure,
        method=opt.method,
        test=test,
        level=opt.level,
        **pooled_fields(back, theta, se, pval, ci, pi, tau2, tau2_ci, (i2, h2, q, q_pval)),
        q_df=k - 1,
        q_kind=q_kind,
        studies=studies,
        study_interval=opt.study_interval,
    )


def pool_subgroups(
    frame: pd.DataFrame,
    *,
    subgroup: str = "subgroup",
    events: str = "events",
    total: str = "total",
    study: str | None = "study",
    measure: str = "PLO",
    method: str = "REML",
    knha: bool = False,
    level: float = 0.95,
    study_interval: str = "clopper-pearson",
    source: str = "study table",
) -> SubgroupResult[PooledResult]:
    """A separate model per subgroup (own tau²) and the test for subgroup differences.

    A subgroup of a single study is reported as that study (common-effect, z).
    """
    if study is not None and study not in frame.columns and study == "study":
        study = None
    table = check_study_table(
        frame, events=events, total=total, study=study, subgroup=subgroup, source=source
    )
    opt = _options(measure, method, knha, level, study_interval)
    overall = _pool_checked(table, opt, source)
    groups: list[tuple[str, PooledResult]] = []
    for name in sorted(table["subgroup"].unique()):
        part = table[table["subgroup"] == name].reset_index(drop=True)
        part_opt = (
            opt
            if len(part) > 1
            else _Options(opt.measure, "EE", False, opt.level, opt.study_interval)
        )
        groups.append((str(name), _pool_checked(part, part_opt, f"{source}: subgroup {name!r}")))
    return subgroup_differences(groups, overall, source, subgroup)


def subgroup_differences(
    groups: list[tuple[str, R]], overall: R, source: str, column: str
) -> SubgroupResult[R]:
    """The test for subgroup differences: Q of a common-effect model on the subgroup
    estimates (``theta``) and their standard errors, df = subgroups − 1."""
    if len(groups) < 2:
        raise InputError(f"{source}: column {column!r} has only one subgroup")
    theta = np.array([g.theta for _, g in groups])
    se = np.array([g.se for _, g in groups])
    if np.any(se <= 0):
        raise InputError(f"{source}: a subgroup estimate has no standard error")
    q_between = rma.q_statistic(theta, se**2)
    df = len(groups) - 1
    return SubgroupResult(
        groups=tuple(groups),
        q_between=q_between,
        q_between_df=df,
        q_between_pval=float(stats.chi2.sf(q_between, df)),
        overall=overall,
    )


def leave_one_out(
    frame: pd.DataFrame,
    *,
    events: str = "events",
    total: str = "total",
    study: str | None = "study",
    measure: str = "PLO",
    method: str = "REML",
    knha: bool = False,
    level: float = 0.95,
    source: str = "study table",
) -> list[LeaveOneOutRow]:
    """The pooled result without each study in turn (needs k ≥ 3 for random effects)."""
    if study is not None and study not in frame.columns and study == "study":
        study = None
    table = check_study_table(frame, events=events, total=total, study=study, source=source)
    opt = _options(measure, method, knha, level, "clopper-pearson")
    rows = []
    for i in range(len(table)):
        rest = table.drop(index=i).reset_index(drop=True)
        r = _pool_checked(rest, opt, f"{source} without {table['study'].iloc[i]!r}")
        rows.append(LeaveOneOutRow.of(str(table["study"].iloc[i]), r))
    return rows
