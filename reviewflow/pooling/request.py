"""One ``reviewflow pool`` run from a table: the pooled result of any measure, and on request
subgroups, leave-one-out, a meta-regression, Egger's test and trim-and-fill.

``run(PoolRequest(...), frame)`` is what the CLI calls (and what Python users can call): it
chooses the data type from the columns named in ``roles``, pools, and adds the analyses. The
:class:`PoolOutcome` holds plain results and builds the ``--json`` object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reviewflow.errors import InputError
from reviewflow.pooling import analysis, effect_analysis, effects
from reviewflow.pooling.analysis import LeaveOneOutRow, PooledResult, SubgroupResult
from reviewflow.pooling.effect_analysis import EffectResult
from reviewflow.pooling.measures import MEASURES, family_of, measure_info, to_reporting
from reviewflow.pooling.regression import MetaRegression, meta_regression
from reviewflow.pooling.small_study import EggerTest, TrimFill, egger, trimfill
from reviewflow.pooling.table import MODERATOR_PREFIX, check_table

_MODEL_SCALE = {
    "PLO": "Logit proportion",
    "PFT": "Freeman–Tukey double arcsine",
    "PAS": "Arcsine square root of the proportion",
    "PR": "Proportion",
    "PLN": "Log proportion",
}


@dataclass(frozen=True)
class PoolRequest:
    roles: Mapping[str, str]  # data role (events, mean1, yi, …) → column
    study: str | None = None
    measure: str | None = None
    method: str | None = None
    knha: bool = False
    level: float = 0.95
    transform: str = "none"
    ci_scale: str | None = None
    subgroup: str | None = None
    leave_one_out: bool = False
    moderators: tuple[str, ...] = ()
    egger: bool = False
    trimfill: bool = False
    study_interval: str = "clopper-pearson"


@dataclass
class PoolOutcome:
    result: PooledResult | EffectResult
    grouped: SubgroupResult[Any] | None = None
    loo: list[LeaveOneOutRow] | None = None
    regression: MetaRegression | None = None
    egger: EggerTest | None = None
    trimfill: TrimFill | None = None
    yi: np.ndarray = field(default_factory=lambda: np.array([]))  # what the analyses used
    vi: np.ndarray = field(default_factory=lambda: np.array([]))
    reporting: Callable[[Any], Any] = field(default=lambda v: v)
    ratio: bool = False
    label: str = ""  # the measure's axis label

    def to_dict(self) -> dict[str, Any]:
        data = self.grouped.to_dict() if self.grouped is not None else self.result.to_dict()
        if self.loo is not None:
            data["leave_one_out"] = [row.__dict__ for row in self.loo]
        if self.regression is not None:
            data.update(self.regression.to_dict())
        if self.egger is not None:
            data["egger"] = self.egger.to_dict(self.reporting)
        if self.trimfill is not None:
            data["trimfill"] = self.trimfill.to_dict(self.reporting)
        return data


def run(
    request: PoolRequest,
    frame: pd.DataFrame,
    source: str = "study table",
    header_lines: int | None = None,
) -> PoolOutcome:
    """Pool the table as the request says; :class:`InputError` for anything a user can fix."""
    family = family_of(request.roles)
    if request.subgroup and request.moderators:
        raise InputError("pool: use --subgroup or --moderator, not both")
    try:
        if family == "proportion":
            outcome, values = _proportions(request, frame, source, header_lines)
        else:
            outcome, values = _effects(request, frame, source, header_lines)
        _analyses(request, outcome, values, source)
    except (ValueError, ZeroDivisionError, FloatingPointError) as exc:
        # data the checks let through that the arithmetic cannot take (found by fuzzing:
        # Mantel-Haenszel leave-one-out down to one study, EE with --knha on one study, a
        # total of 1e308): one line naming the file, not an internal error
        raise InputError(f"{source}: cannot pool these studies ({exc})") from None
    return outcome


def _proportions(
    request: PoolRequest, frame: pd.DataFrame, source: str, header_lines: int | None
) -> tuple[PoolOutcome, dict[str, list[str | None]]]:
    if request.transform != "none" or request.ci_scale is not None:
        raise InputError("pool: --transform and --ci-scale go with --measure GEN")
    measure = (request.measure or "PLO").upper()
    if measure not in effects.MEASURES:
        family = MEASURES[measure].family if measure in MEASURES else None
        hint = f" ({measure} pools {family} data)" if family else ""
        raise InputError(
            f"pool: events/total are proportions: choose --measure "
            f"{', '.join(effects.MEASURES)}{hint}"
        )
    study = request.study
    if study is None and "study" in frame.columns:
        study = "study"
    checked = check_table(
        frame,
        dict(request.roles),
        study=study,
        subgroup=request.subgroup,
        moderators=request.moderators,
        source=source,
        header_lines=header_lines,
        drop_missing=False,
    ).frame
    table = checked[["study", "events", "total", *(["subgroup"] if request.subgroup else [])]]
    kwargs: dict[str, Any] = {
        "measure": measure,
        "method": request.method or "REML",
        "knha": request.knha,
        "level": request.level,
        "source": source,
    }
    grouped = None
    if request.subgroup:
        grouped = analysis.pool_subgroups(table, study_interval=request.study_interval, **kwargs)
        result = grouped.overall
    else:
        result = analysis.pool(table, study_interval=request.study_interval, **kwargs)
    loo = analysis.leave_one_out(table, **kwargs) if request.leave_one_out else None
    totals = table["total"].to_numpy(dtype=float)
    outcome = PoolOutcome(
        result=result,
        grouped=grouped,
        loo=loo,
        yi=np.array([s.yi for s in result.studies]),
        vi=np.array([s.vi for s in result.studies]),
        reporting=lambda v: effects.back_transform(measure, v, totals),
        label=_MODEL_SCALE[measure],
    )
    return outcome, _moderator_values(checked, request.moderators)


def _moderator_values(table: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, list[str | None]]:
    return {c: list(table[MODERATOR_PREFIX + c]) for c in columns}


def _effects(
    request: PoolRequest, frame: pd.DataFrame, source: str, header_lines: int | None
) -> tuple[PoolOutcome, dict[str, list[str | None]]]:
    family = family_of(request.roles)
    opt = effect_analysis.options(
        family,
        request.measure,
        request.method,
        request.knha,
        request.level,
        request.transform,
        request.ci_scale,
    )
    prep = effect_analysis.prepare(
        frame,
        request.roles,
        opt,
        study=request.study if request.study is not None else "study",
        subgroup=request.subgroup,
        moderators=request.moderators,
        source=source,
        header_lines=header_lines,
    )
    grouped = None
    if request.subgroup:
        grouped = effect_analysis.effect_subgroups(prep, opt, request.subgroup)
        result = grouped.overall
    else:
        result = effect_analysis.fit_prepared(prep, opt)
    loo = effect_analysis.effect_leave_one_out(prep, opt) if request.leave_one_out else None
    info = measure_info(opt.measure, opt.transform)
    finite = np.array([s.yi is not None for s in result.studies])
    outcome = PoolOutcome(
        result=result,
        grouped=grouped,
        loo=loo,
        yi=np.array([s.yi for s in result.studies if s.yi is not None], dtype=float),
        vi=np.array([s.vi for s in result.studies if s.vi is not None], dtype=float),
        reporting=lambda v: to_reporting(info, v),
        ratio=info.exp,
        label=info.label,
    )
    values = {
        c: [v for v, ok in zip(prep.table[MODERATOR_PREFIX + c], finite, strict=True) if ok]
        for c in request.moderators
    }
    return outcome, values


def _analyses(
    request: PoolRequest,
    outcome: PoolOutcome,
    values: dict[str, list[str | None]],
    source: str,
) -> None:
    result = outcome.result
    method, test = result.method, result.test
    if method == "GLMM" and (request.moderators or request.egger or request.trimfill):
        raise InputError(
            "pool: --moderator, --egger and --trimfill need an inverse-variance model "
            "(not the GLMM)"
        )
    if method in ("MH", "PETO"):
        if request.moderators:
            raise InputError(f"pool: --moderator needs an inverse-variance model (not {method})")
        if request.trimfill:
            raise InputError(
                f"pool: --trimfill needs an inverse-variance model (not {method}), as in metafor"
            )
        method, test = "EE", "z"  # metafor's regtest on rma.mh / rma.peto objects
    names = [s.study for s in result.studies if getattr(s, "yi", 0.0) is not None]
    try:
        if request.moderators:
            outcome.regression = meta_regression(
                outcome.yi, outcome.vi, values, names, method, test, request.level, source
            )
        if request.egger:
            outcome.egger = egger(outcome.yi, outcome.vi, method, test, request.level)
        if request.trimfill:
            outcome.trimfill = trimfill(outcome.yi, outcome.vi, method, test, request.level)
    except (ValueError, ArithmeticError) as exc:
        raise InputError(f"{source}: {exc}") from None
