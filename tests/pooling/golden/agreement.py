"""How closely reviewflow agrees with metafor: the largest absolute difference per statistic
over the inverse-variance fits of golden/metafor.json (proportions) and every case in
golden/metafor_measures.json (the effect measures, MH, Peto, meta-regression, regtest,
trimfill, subgroups, leave-one-out).

    .venv/bin/python tests/pooling/golden/agreement.py      (from the repository root)

The tests assert these are within 1e-6 (tau² 1e-5); this prints what they actually are.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from reviewflow.pooling import effects, rma
from reviewflow.pooling.effect_analysis import (
    effect_leave_one_out,
    effect_subgroups,
    options,
    pool_effects,
    prepare,
)
from reviewflow.pooling.effects_binary import escalc_binary
from reviewflow.pooling.mantel_haenszel import mantel_haenszel, peto
from reviewflow.pooling.measures import study_outcomes, tables_of
from reviewflow.pooling.request import PoolRequest, run
from reviewflow.pooling.small_study import egger, trimfill
from reviewflow.pooling.table import check_table
from tests.pooling.golden_data import counts, dataset, golden
from tests.pooling.golden_measures import measures_golden, roles_of

WORST: dict[tuple[str, str], float] = defaultdict(float)
COUNT: dict[str, int] = defaultdict(int)


def _vec(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value.astype(float)
    values = value if isinstance(value, list) else [value]
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def note(section: str, key: str, ours: Any, theirs: Any) -> None:
    a = np.array(ours if np.ndim(ours) else [ours], dtype=float)
    b = _vec(theirs)
    both = ~(np.isnan(a) | np.isnan(b))
    assert np.array_equal(np.isnan(a), np.isnan(b)), (section, key)
    if both.any():
        WORST[(section, key)] = max(WORST[(section, key)], float(np.max(np.abs(a - b)[both])))


def fits(golden: dict[str, Any]) -> None:
    for case in golden["fits"]:
        COUNT["rma (escalc + rma.uni)"] += 1
        table = check_table(dataset(case["dataset"]), roles_of(case)).frame
        transform = "exp" if case["family"] == "generic" else "none"
        result = pool_effects(
            dataset(case["dataset"]), roles_of(case), measure=case["measure"],
            method=case["method"], knha=case["test"] == "knha", transform=transform,
        )  # fmt: skip
        if "escalc_yi" in case:
            yi, vi, _ = study_outcomes(case["measure"], table, "golden")
            note("rma (escalc + rma.uni)", "escalc yi, vi", np.r_[yi, vi],
                 np.r_[_vec(case["escalc_yi"]), _vec(case["escalc_vi"])])  # fmt: skip
        y = np.array([s.yi for s in result.studies], dtype=float)
        v = np.array([s.vi for s in result.studies], dtype=float)
        f = rma.fit(y, v, case["method"], case["test"])
        for key in ("estimate", "se", "pval", "ci_lower", "ci_upper", "pi_lower", "pi_upper",
                    "tau2", "i2", "h2", "q", "q_pval", "weights"):  # fmt: skip
            note("rma (escalc + rma.uni)", key, getattr(f, key), case[key])
        if f.tau2_ci is not None:
            note("rma (escalc + rma.uni)", "tau2 CI (Q-profile)", f.tau2_ci, case["tau2_ci"])
        for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
            theirs = case.get(f"{key}_reported", case[key])
            note("rma (escalc + rma.uni)", f"{key}, reporting scale", getattr(result, key), theirs)


def tables(golden: dict[str, Any]) -> None:
    for case in golden["mh"]:
        section = "rma.peto" if case["method"] == "PETO" else "rma.mh"
        COUNT[section] += 1
        t_ = tables_of(check_table(dataset(case["dataset"]), roles_of(case)).frame)
        t = peto(t_) if case["method"] == "PETO" else mantel_haenszel(t_, case["measure"])
        for key in ("estimate", "se", "pval", "ci_lower", "ci_upper", "q", "q_pval", "i2", "h2",
                    "weights", "cmh", "cmh_pval", "tarone", "tarone_pval"):  # fmt: skip
            if key in case:
                note(
                    section, key, np.nan if getattr(t, key) is None else getattr(t, key), case[key]
                )


def regressions(golden: dict[str, Any]) -> None:
    for case in golden["regressions"]:
        COUNT["rma with mods"] += 1
        mods = case["moderators"] if isinstance(case["moderators"], list) else [case["moderators"]]
        outcome = run(
            PoolRequest(
                roles=roles_of(case), measure=case["measure"], method=case["method"],
                knha=case["test"] == "knha", moderators=tuple(mods),
                transform="exp" if case["measure"] == "GEN" else "none",
            ),
            dataset(case["dataset"]),
        )  # fmt: skip
        reg = outcome.regression
        assert reg is not None
        for key in ("estimate", "se", "zval", "pval", "ci_lower", "ci_upper"):
            note(
                "rma with mods",
                f"coefficients: {key}",
                [getattr(c, key) for c in reg.coefficients],
                case[key],
            )
        for key in ("qm", "qm_pval", "tau2", "i2", "h2", "qe", "qe_pval", "r2"):
            note("rma with mods", key, getattr(reg, key), case[key])
        if "tau2_ci" in case:
            note(
                "rma with mods",
                "tau2 CI (Q-profile)",
                rma.tau2_ci(reg.yi, reg.vi, X=reg.X),
                case["tau2_ci"],
            )


def _data(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    if case["measure"] == "PLO":
        es = effects.escalc("PLO", *counts(case["dataset"]))
        return es.yi, es.vi
    table = check_table(dataset(case["dataset"]), roles_of(case)).frame
    yi, vi, _ = study_outcomes(case["measure"], table, "golden")
    return yi, vi


def small_study(golden: dict[str, Any]) -> None:
    for case in golden["regtests"]:
        COUNT["regtest"] += 1
        if case["method"] in ("MH", "PETO"):
            table = check_table(dataset(case["dataset"]), roles_of(case)).frame
            yi, vi = escalc_binary(case["measure"], tables_of(table), drop00=True)
            e = egger(yi[~np.isnan(yi)], vi[~np.isnan(yi)], "EE", "z")
        else:
            e = egger(*_data(case), case["method"], case["test"])
        for key in ("statistic", "pval", "limit_estimate", "limit_ci_lower", "limit_ci_upper"):
            note("regtest", key, getattr(e, key), case[key])
    for case in golden["trimfills"]:
        COUNT["trimfill"] += 1
        t = trimfill(*_data(case), case["method"], case["test"])
        assert (t.k0, t.side) == (case["k0"], case["side"])
        for key in ("se_k0", "estimate", "se", "ci_lower", "ci_upper", "pval", "tau2"):
            note("trimfill", key, getattr(t, key), case[key])
        if t.k0:
            note("trimfill", "filled yi", t.filled_yi, case["filled_yi"])


def groups(golden: dict[str, Any]) -> None:
    for case in golden["subgroups"]:
        COUNT["subgroups"] += 1
        opt = options("binary", case["measure"], case["method"], case["test"] == "knha")
        result = effect_subgroups(
            prepare(dataset("bcg"), roles_of(case), opt, subgroup="alloc"), opt, "alloc"
        )
        note("subgroups", "estimate, se, tau2", [v for _, g in result.groups for v in (g.theta, g.se, g.tau2)],
             [v for g in case["groups"] for v in (g["estimate"], g["se"], g["tau2"])])  # fmt: skip
        note("subgroups", "Q between, p", [result.q_between, result.q_between_pval],
             [case["q_between"], case["q_between_pval"]])  # fmt: skip
    for case in golden["leave1out"]:
        COUNT["leave1out"] += 1
        family = "continuous" if case["dataset"] == "normand1999" else "binary"
        opt = options(family, case["measure"], case["method"], case["test"] == "knha")
        rows = effect_leave_one_out(prepare(dataset(case["dataset"]), roles_of(case), opt), opt)
        for key, attr in (("estimate", "theta"), ("se", "se"), ("q", "q"), ("i2", "i2")):
            note("leave1out", key, [getattr(r, attr) for r in rows], case[key])


def proportions(_golden: dict[str, Any]) -> None:
    """The proportions' fits of golden/metafor.json (make_golden.R), through the same rma."""
    section = "proportions (metafor.json)"
    for case in golden()["fits"]:
        COUNT[section] += 1
        es = effects.escalc(case["measure"], *counts(case["dataset"]))
        f = rma.fit(es.yi, es.vi, case["method"], case["test"])
        for key in ("estimate", "se", "pval", "ci_lower", "ci_upper", "pi_lower", "pi_upper",
                    "tau2", "i2", "h2", "q", "q_pval", "weights"):  # fmt: skip
            note(section, key, getattr(f, key), case[key])
        if f.tau2_ci is not None:
            note(section, "tau2 CI (Q-profile)", f.tau2_ci, case["tau2_ci"])


def defaults(golden: dict[str, Any]) -> None:
    """Not a check: how far metafor's default control stops from the converged fits."""
    converged = {
        (f["dataset"], f["measure"], f.get("input"), f["method"]): f
        for f in golden["fits"]
        if f["test"] == "z"
    }
    section = "metafor's default control vs converged (REML/ML/PM)"
    for case in golden["defaults"]:
        COUNT[section] += 1
        f = converged[(case["dataset"], case["measure"], case.get("input"), case["method"])]
        for key in ("estimate", "se", "ci_lower", "ci_upper", "tau2", "i2"):
            note(section, key, case[key], f[key])


def main() -> None:
    golden = measures_golden()
    for part in (proportions, fits, tables, regressions, small_study, groups, defaults):
        part(golden)
    print(f"metafor {golden['metafor_version']}, {golden['r_version']}")
    section = ""
    for (name, key), worst in WORST.items():
        if name != section:
            print(f"\n{name} ({COUNT[name]} cases)")
            section = name
        print(f"  {key:<34} max |difference| {worst:.1e}")


if __name__ == "__main__":
    main()
