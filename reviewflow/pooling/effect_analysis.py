"""Pooling an effect measure (two-group binary or continuous, one-group means, generic inverse
variance): the functions the CLI and the extraction call for everything but proportions.

``pool_effects(frame, roles)`` checks the table, computes each study's ``yi``/``vi`` (studies
that cannot be computed are left out and listed in ``dropped``, as metafor's ``rma`` leaves
out studies with NA), and fits ``rma.uni`` (EE/DL/REML/ML/PM, z or Knapp–Hartung), ``rma.mh``
(``method="MH"``) or ``rma.peto`` (``measure="PETO"``, method "PETO"). Estimates and CIs a
reader sees are on the reporting scale (exp for ratios); ``theta`` and ``yi`` stay on the
model scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from reviewflow.errors import InputError
from reviewflow.pooling import rma
from reviewflow.pooling.analysis import (
    LeaveOneOutRow,
    Pooled,
    SubgroupResult,
    pooled_fields,
    pooled_keys,
    subgroup_differences,
)
from reviewflow.pooling.mantel_haenszel import TableFit, mantel_haenszel, peto
from reviewflow.pooling.measures import (
    FAMILY_ROLES,
    Measure,
    family_of,
    measure_info,
    resolve_measure,
    study_outcomes,
    tables_of,
    to_reporting,
)
from reviewflow.pooling.table import check_table

IV_METHODS = ("REML", "DL", "PM", "ML", "EE")
METHODS = (*IV_METHODS, "MH", "PETO")


@dataclass(frozen=True)
class EffectStudy:
    study: str
    data: dict[str, float]  # the columns as given: events1, total1, … (by role)
    yi: float | None  # None: not estimable (a double-zero study under MH/Peto)
    vi: float | None
    estimate: float | None  # reporting scale
    ci_lower: float | None
    ci_upper: float | None
    weight: float  # percent
    row: int = 0  # 1-based row of the input table


@dataclass(frozen=True)
class EffectResult(Pooled):
    family: str
    transform: str  # "exp" (ratios) or "none"
    studies: tuple[EffectStudy, ...]
    dropped: tuple[tuple[str, str], ...] = ()
    tests: dict[str, float | None] = field(default_factory=dict)  # MH: CMH and Tarone
    q_kind: str = "Q"

    @property
    def info(self) -> Measure:
        return measure_info(self.measure, self.transform)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object: today's keys, estimate/CI/PI on the reporting scale."""
        out: dict[str, Any] = {
            **pooled_keys(self),
            "pval": self.pval,
            "level": self.level,
            "transform": self.transform,
            "studies": [
                {
                    "study": s.study,
                    **s.data,
                    "yi": s.yi,
                    "vi": s.vi,
                    "estimate": s.estimate,
                    "ci_lower": s.ci_lower,
                    "ci_upper": s.ci_upper,
                    "weight": s.weight,
                }
                for s in self.studies
            ],
            "dropped": [{"study": name, "reason": why} for name, why in self.dropped],
        }
        out.update(self.tests)
        return out


@dataclass(frozen=True)
class EffectOptions:
    measure: str
    method: str
    knha: bool = False
    level: float = 0.95
    transform: str = "none"
    ci_scale: str = "model"


@dataclass
class Prepared:
    """A checked table with each study's outcome: what fitting needs, for any subset."""

    table: pd.DataFrame
    yi: np.ndarray
    vi: np.ndarray
    family: str
    source: str
    dropped: list[tuple[str, str]]

    def subset(self, keep: np.ndarray) -> Prepared:
        return Prepared(
            self.table[keep].reset_index(drop=True),
            self.yi[keep],
            self.vi[keep],
            self.family,
            self.source,
            [],
        )


def options(
    family: str,
    measure: str | None,
    method: str | None,
    knha: bool = False,
    level: float = 0.95,
    transform: str = "none",
    ci_scale: str | None = None,
) -> EffectOptions:
    """Check the choices against the data type; defaults: the family's measure, REML (Peto's
    method for PETO)."""
    name = resolve_measure(family, measure)
    chosen = (method or ("PETO" if name == "PETO" else "REML")).upper()
    if chosen not in METHODS:
        raise InputError(f"unknown method {chosen!r}; choose {', '.join(METHODS)}")
    if chosen == "MH" and name not in ("OR", "RR", "RD"):
        raise InputError(f"--method MH (Mantel–Haenszel) pools OR, RR or RD, not {name}")
    if chosen == "PETO" and name != "PETO":
        raise InputError("Peto's method goes with --measure PETO")
    if chosen in ("MH", "PETO") and knha:
        raise InputError(f"--knha does not apply to {chosen} (a common-effect method)")
    if transform not in ("exp", "none"):
        raise InputError(f"--transform must be exp or none (got {transform!r})")
    if transform == "exp" and name != "GEN":
        raise InputError("--transform applies to --measure GEN (the others have their scale)")
    if not 0 < level < 1:
        raise InputError(f"confidence level must be between 0 and 1 (got {level})")
    scale = ci_scale or ("ratio" if transform == "exp" else "model")
    if scale not in ("ratio", "model"):
        raise InputError(f"--ci-scale must be ratio or model (got {scale!r})")
    return EffectOptions(name, chosen, knha, level, transform, scale)


def prepare(
    frame: pd.DataFrame,
    roles: Mapping[str, str],
    opt: EffectOptions,
    *,
    study: str | None = "study",
    subgroup: str | None = None,
    moderators: Sequence[str] = (),
    source: str = "study table",
    header_lines: int | None = None,
) -> Prepared:
    """Check the table and compute the outcomes; studies without them go to ``dropped``."""
    family = family_of(roles)
    if study is not None and study not in frame.columns and study == "study":
        study = None
    checked = check_table(
        frame,
        roles,
        study=study,
        subgroup=subgroup,
        moderators=moderators,
        source=source,
        header_lines=header_lines,
    )
    table, dropped = checked.frame, list(checked.dropped)
    if table.empty:
        raise InputError(f"{source}: no study has all of {', '.join(roles.values())}")
    yi, vi, reasons = study_outcomes(
        opt.measure, table, source, opt.ci_scale, opt.level, header_lines
    )
    keep = np.array([r is None for r in reasons])
    dropped += [(str(s), r) for s, r in zip(table["study"], reasons, strict=True) if r]
    prepared = Prepared(table, yi, vi, family, source, [])
    prepared = prepared.subset(keep) if not keep.all() else prepared
    prepared.dropped = dropped
    if prepared.table.empty:
        raise InputError(f"{source}: no study's {opt.measure} can be computed")
    return prepared


def _studies(
    prep: Prepared,
    info: Measure,
    yi: np.ndarray,
    vi: np.ndarray,
    weights: np.ndarray,
    level: float,
) -> list[EffectStudy]:
    """Each study with its data as given (generic studies: their yi and vi say it all), its
    outcome and CI on the reporting scale, and its weight; None where it has no outcome."""
    z = float(stats.norm.isf((1 - level) / 2))
    with np.errstate(invalid="ignore"):
        estimate, low, high = (
            to_reporting(info, yi + d * z * np.sqrt(vi)).tolist() for d in (0, -1, 1)
        )
    roles = FAMILY_ROLES.get(prep.family, ())
    data = [prep.table[r].to_numpy(dtype=float).tolist() for r in roles]
    names = prep.table["study"].astype(str).tolist()
    rows = prep.table["row"].astype(int).tolist()
    ok = np.isfinite(yi).tolist()
    return [
        EffectStudy(
            study=names[i],
            data={r: data[j][i] for j, r in enumerate(roles)},
            yi=float(yi[i]) if ok[i] else None,
            vi=float(vi[i]) if ok[i] else None,
            estimate=estimate[i] if ok[i] else None,
            ci_lower=low[i] if ok[i] else None,
            ci_upper=high[i] if ok[i] else None,
            weight=float(weights[i]),
            row=rows[i],
        )
        for i in range(len(yi))
    ]


def fit_prepared(prep: Prepared, opt: EffectOptions) -> EffectResult:
    """Fit the model on a prepared table."""
    info = measure_info(opt.measure, opt.transform)
    k = len(prep.yi)
    source = prep.source
    if opt.method in ("MH", "PETO"):
        tables = tables_of(prep.table)
        try:
            t: TableFit = (
                mantel_haenszel(tables, opt.measure, opt.level)
                if opt.method == "MH"
                else peto(tables, opt.level)
            )
        except ValueError as exc:
            raise InputError(f"{source}: {exc}") from None
        yi, vi, weights = t.yi, t.vi, t.weights
        theta, se, pval, tau2, tau2_ci = t.estimate, t.se, t.pval, 0.0, None
        ci = pi = (t.ci_lower, t.ci_upper)
        i2, h2, q, q_df, q_pval, test = t.i2, t.h2, t.q, t.q_df, t.q_pval, "z"
        tests = {
            key: getattr(t, key)
            for key in ("cmh", "cmh_pval", "tarone", "tarone_pval")
            if opt.measure == "OR" and opt.method == "MH"
        }
    else:
        if opt.method != "EE" and k < 2:
            raise InputError(
                f"{source}: {opt.method} needs at least 2 studies (got {k}); "
                "use --method EE for a single study"
            )
        try:
            f = rma.fit(prep.yi, prep.vi, opt.method, "knha" if opt.knha else "z", opt.level)
        except (ValueError, ArithmeticError) as exc:
            raise InputError(f"{source}: {exc}") from None
        yi, vi, weights = prep.yi, prep.vi, f.weights
        theta, se, pval, tau2, tau2_ci = f.estimate, f.se, f.pval, f.tau2, f.tau2_ci
        ci, pi = (f.ci_lower, f.ci_upper), (f.pi_lower, f.pi_upper)
        i2, h2, q, q_df, q_pval, test = f.i2, f.h2, f.q, f.q_df, f.q_pval, f.test
        tests = {}
    studies = _studies(prep, info, np.asarray(yi), np.asarray(vi), np.asarray(weights), opt.level)
    dropped = list(prep.dropped)
    if opt.method in ("MH", "PETO"):
        dropped += [
            (s.study, "no events in either group, or only events: not in Q (metafor's drop00)")
            for s in studies
            if s.yi is None
        ]

    def rep(value: float) -> float:
        return float(to_reporting(info, value))

    return EffectResult(
        k=k,
        measure=opt.measure,
        family=prep.family,
        transform="exp" if info.exp else "none",
        method=opt.method,
        test=test,
        level=opt.level,
        **pooled_fields(rep, theta, se, pval, ci, pi, tau2, tau2_ci, (i2, h2, q, q_pval)),
        q_df=int(q_df),
        studies=tuple(studies),
        dropped=tuple(dropped),
        tests=tests,
    )


def pool_effects(
    frame: pd.DataFrame,
    roles: Mapping[str, str],
    *,
    measure: str | None = None,
    method: str | None = None,
    knha: bool = False,
    level: float = 0.95,
    transform: str = "none",
    ci_scale: str | None = None,
    study: str | None = "study",
    source: str = "study table",
) -> EffectResult:
    """Pool one effect measure from a DataFrame (one row per study); ``roles`` maps each
    data role (events1, mean, yi, …) to its column. Raises :class:`InputError` on bad data."""
    opt = options(family_of(roles), measure, method, knha, level, transform, ci_scale)
    return fit_prepared(prepare(frame, roles, opt, study=study, source=source), opt)


def effect_subgroups(
    prep: Prepared, opt: EffectOptions, column: str
) -> SubgroupResult[EffectResult]:
    """A separate model per subgroup (own tau²) and the test for subgroup differences; a
    subgroup of one study is that study (common effect)."""
    overall = fit_prepared(prep, opt)
    groups = []
    labels = prep.table["subgroup"].to_numpy()
    for name in sorted(set(labels)):
        part = prep.subset(labels == name)
        part.source = f"{prep.source}: subgroup {name!r}"
        part_opt = (
            opt
            if len(part.yi) > 1 or opt.method in ("MH", "PETO")
            else replace(opt, method="EE", knha=False)
        )
        groups.append((str(name), fit_prepared(part, part_opt)))
    return subgroup_differences(groups, overall, prep.source, column)


def effect_leave_one_out(prep: Prepared, opt: EffectOptions) -> list[LeaveOneOutRow]:
    """The pooled result without each study in turn (metafor's ``leave1out``)."""
    rows = []
    names = prep.table["study"].to_numpy()
    for i in range(len(names)):
        keep = np.arange(len(names)) != i
        part = prep.subset(keep)
        part.source = f"{prep.source} without {names[i]!r}"
        r = fit_prepared(part, opt)
        rows.append(LeaveOneOutRow.of(str(names[i]), r))
    return rows
