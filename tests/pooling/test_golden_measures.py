"""reviewflow against R's metafor 3.8-1 for every effect measure: escalc, rma (EE/DL/REML/ML/PM,
z and Knapp–Hartung), rma.mh, rma.peto, meta-regression, regtest, trimfill, subgroups and
leave-one-out, on metadat datasets (dat.bcg, dat.egger2001, dat.normand1999, dat.senn2013,
dat.hackshaw1998) and made-up edge cases (zero cells, double zeros, k = 1 and 2, tau² = 0,
studies escalc cannot compute). The numbers and R calls: golden/metafor_measures.json."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from reviewflow.pooling import effects, rma
from reviewflow.pooling.effect_analysis import (
    effect_leave_one_out,
    effect_subgroups,
    options,
    pool_effects,
    prepare,
)
from reviewflow.pooling.mantel_haenszel import mantel_haenszel, peto
from reviewflow.pooling.measures import study_outcomes, tables_of
from reviewflow.pooling.request import PoolRequest, run
from reviewflow.pooling.small_study import egger, trimfill
from reviewflow.pooling.table import check_table
from tests.pooling.golden_data import TOL_IV, as_float, counts, dataset
from tests.pooling.golden_measures import case_name, measures_golden, roles_of

GOLDEN = measures_golden()
FITS = GOLDEN["fits"]
TOL_TAU2 = 1e-5  # the tolerance for tau²; observed differences are far smaller
MODEL_KEYS = ("estimate", "se", "pval", "ci_lower", "ci_upper", "pi_lower", "pi_upper")
HET_KEYS = ("i2", "h2", "q", "q_pval")


def _vec(value: Any) -> list[float]:
    """A vector from the JSON (R's auto_unbox writes a length-1 vector as a number)."""
    return [as_float(v) for v in (value if isinstance(value, list) else [value])]


def _close(ours: float | None, theirs: Any, tol: float, what: str) -> None:
    expected = as_float(theirs)
    if np.isnan(expected):
        assert ours is None or np.isnan(ours), what
    else:
        assert ours == pytest.approx(expected, abs=tol, rel=0), what


def test_golden_covers_the_measures_and_edge_cases() -> None:
    assert GOLDEN["metafor_version"] == "3.8.1"
    measures = {(f["family"], f["measure"]) for f in FITS}
    assert measures == {("binary", m) for m in ("OR", "RR", "RD", "PETO")} | {
        ("continuous", m) for m in ("MD", "SMD", "ROM")
    } | {
        ("mean", "MN"),
        ("mean", "MNLN"),
        ("generic", "GEN"),
    }
    assert {f["method"] for f in FITS} == {"EE", "DL", "REML", "ML", "PM"}
    assert {m["measure"] for m in GOLDEN["mh"]} == {"OR", "RR", "RD", "PETO"}
    zeros = next(m for m in GOLDEN["mh"] if (m["dataset"], m["measure"]) == ("binary_zeros", "OR"))
    assert (zeros["k"], zeros["k_yi"]) == (6, 4)  # two double-zero studies out of Q


@pytest.mark.parametrize("case", FITS, ids=[case_name(f) for f in FITS])
def test_inverse_variance_fits_match_metafor(case: dict[str, Any]) -> None:
    roles = roles_of(case)
    opt = options(
        case["family"], case["measure"], case["method"], case["test"] == "knha",
        transform="exp" if case["family"] == "generic" else "none",
    )  # fmt: skip
    table = check_table(dataset(case["dataset"]), roles).frame
    if "escalc_yi" in case:  # every study's escalc outcome, NaN where metafor has NA
        yi, vi, _ = study_outcomes(case["measure"], table, "golden")
        np.testing.assert_allclose(yi, _vec(case["escalc_yi"]), atol=1e-12)
        np.testing.assert_allclose(vi, _vec(case["escalc_vi"]), atol=1e-12)
    result = pool_effects(
        dataset(case["dataset"]),
        roles,
        measure=case["measure"],
        method=case["method"],
        knha=case["test"] == "knha",
        transform=opt.transform,
    )
    assert result.k == case["k"]
    assert len(result.dropped) == len(table) - case["k"]
    ours_yi = np.array([s.yi for s in result.studies], dtype=float)
    ours_vi = np.array([s.vi for s in result.studies], dtype=float)
    np.testing.assert_allclose(ours_yi, np.array(_vec(case["yi"])), atol=1e-12)
    np.testing.assert_allclose(ours_vi, np.array(_vec(case["vi"])), atol=1e-12)
    f = rma.fit(
        np.array([s.yi for s in result.studies], dtype=float),
        np.array([s.vi for s in result.studies], dtype=float),
        case["method"],
        case["test"],
    )
    for key in MODEL_KEYS + HET_KEYS:
        _close(getattr(f, key), case[key], TOL_IV, key)
    _close(f.tau2, case["tau2"], TOL_TAU2, "tau2")
    np.testing.assert_allclose(f.weights, _vec(case["weights"]), atol=TOL_IV)
    if "tau2_ci" in case:
        assert f.tau2_ci is not None
        np.testing.assert_allclose(f.tau2_ci, case["tau2_ci"], atol=TOL_TAU2)
    assert result.theta == pytest.approx(case["estimate"], abs=TOL_IV)
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"):
        expected = case.get(f"{key}_reported", case[key])
        assert getattr(result, key) == pytest.approx(expected, abs=TOL_IV), key


MH = GOLDEN["mh"]


@pytest.mark.parametrize("case", MH, ids=[case_name(c) for c in MH])
def test_mantel_haenszel_and_peto_match_rma_mh_and_rma_peto(case: dict[str, Any]) -> None:
    table = check_table(dataset(case["dataset"]), roles_of(case)).frame
    tables = tables_of(table)
    t = peto(tables) if case["method"] == "PETO" else mantel_haenszel(tables, case["measure"])
    assert (t.k, t.k_yi) == (case["k"], case["k_yi"])
    for key in ("estimate", "se", "pval", "ci_lower", "ci_upper", "q", "q_pval", "i2", "h2"):
        _close(getattr(t, key), case[key], TOL_IV, key)
    np.testing.assert_allclose(t.weights, _vec(case["weights"]), atol=TOL_IV)
    np.testing.assert_allclose(t.yi, _vec(case["yi"]), atol=1e-12)
    for key in ("cmh", "cmh_pval", "tarone", "tarone_pval"):
        if key in case:
            _close(getattr(t, key), case[key], TOL_IV, key)
    result = pool_effects(
        dataset(case["dataset"]), roles_of(case), measure=case["measure"], method=case["method"]
    )
    assert result.theta == pytest.approx(case["estimate"], abs=TOL_IV)
    assert result.q_df == max(case["k_yi"] - 1, 0)
    assert result.tau2 == 0 and result.pi_lower == result.ci_lower


REGRESSIONS = GOLDEN["regressions"]


@pytest.mark.parametrize("case", REGRESSIONS, ids=[case_name(c) for c in REGRESSIONS])
def test_meta_regression_matches_rma_with_moderators(case: dict[str, Any]) -> None:
    mods = case["moderators"] if isinstance(case["moderators"], list) else [case["moderators"]]
    outcome = run(
        PoolRequest(
            roles=roles_of(case),
            measure=case["measure"],
            method=case["method"],
            knha=case["test"] == "knha",
            transform="exp" if case["measure"] == "GEN" else "none",
            moderators=tuple(mods),
        ),
        dataset(case["dataset"]),
    )
    reg = outcome.regression
    assert reg is not None
    assert [c.term for c in reg.coefficients] == case["terms"]
    assert [m.column for m in reg.moderators] == mods
    for key, attr in (("estimate", "estimate"), ("se", "se"), ("zval", "zval"), ("pval", "pval"),
                      ("ci_lower", "ci_lower"), ("ci_upper", "ci_upper")):  # fmt: skip
        np.testing.assert_allclose(
            [getattr(c, attr) for c in reg.coefficients], case[key], atol=TOL_IV, err_msg=key
        )
    for key, attr in (("qm", "qm"), ("qm_pval", "qm_pval"), ("i2", "i2"), ("h2", "h2"),
                      ("qe", "qe"), ("qe_pval", "qe_pval"), ("r2", "r2")):  # fmt: skip
        _close(getattr(reg, attr), case[key], TOL_IV, key)
    _close(reg.tau2, case["tau2"], TOL_TAU2, "tau2")
    assert reg.qm_df == case["qm_df"]
    assert reg.qm_df2 == (None if case["qm_df2"] is None else int(case["qm_df2"]))
    if "tau2_ci" in case:
        from reviewflow.pooling.rma import tau2_ci

        np.testing.assert_allclose(tau2_ci(reg.yi, reg.vi, X=reg.X), case["tau2_ci"], atol=TOL_TAU2)


def _small_study_data(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    if case["measure"] == "PLO":
        es = effects.escalc("PLO", *counts(case["dataset"]))
        return es.yi, es.vi
    roles = roles_of(case)
    table = check_table(dataset(case["dataset"]), roles).frame
    yi, vi, _ = study_outcomes(case["measure"], table, "golden")
    return yi, vi


REGTESTS = GOLDEN["regtests"]


@pytest.mark.parametrize("case", REGTESTS, ids=[case_name(c) for c in REGTESTS])
def test_egger_matches_regtest(case: dict[str, Any]) -> None:
    if case["method"] in ("MH", "PETO"):  # regtest on rma.mh/rma.peto: escalc outcomes, EE
        table = check_table(dataset(case["dataset"]), roles_of(case)).frame
        from reviewflow.pooling.effects_binary import escalc_binary

        yi, vi = escalc_binary(case["measure"], tables_of(table), drop00=True)
        keep = ~np.isnan(yi)
        e = egger(yi[keep], vi[keep], "EE", "z")
    else:
        yi, vi = _small_study_data(case)
        e = egger(yi, vi, case["method"], case["test"])
    for key in ("statistic", "pval", "limit_estimate", "limit_ci_lower", "limit_ci_upper"):
        _close(getattr(e, key), case[key], TOL_IV, key)
    assert e.df == case["df"]


TRIMFILLS = GOLDEN["trimfills"]


@pytest.mark.parametrize("case", TRIMFILLS, ids=[case_name(c) for c in TRIMFILLS])
def test_trimfill_matches_metafor(case: dict[str, Any]) -> None:
    yi, vi = _small_study_data(case)
    t = trimfill(yi, vi, case["method"], case["test"])
    assert (t.k0, t.side) == (case["k0"], case["side"])
    for key in ("se_k0", "estimate", "se", "ci_lower", "ci_upper", "pval"):
        _close(getattr(t, key), case[key], TOL_IV, key)
    _close(t.tau2, case["tau2"], TOL_TAU2, "tau2")
    np.testing.assert_allclose(t.filled_yi, _vec(case["filled_yi"]) if t.k0 else [], atol=TOL_IV)
    np.testing.assert_allclose(t.filled_vi, _vec(case["filled_vi"]) if t.k0 else [], atol=1e-12)


SUBGROUPS = GOLDEN["subgroups"]


@pytest.mark.parametrize("case", SUBGROUPS, ids=[case_name(c) for c in SUBGROUPS])
def test_subgroups_match_metafor(case: dict[str, Any]) -> None:
    opt = options("binary", case["measure"], case["method"], case["test"] == "knha")
    prep = prepare(dataset("bcg"), roles_of(case), opt, subgroup=case["column"])
    result = effect_subgroups(prep, opt, case["column"])
    assert [name for name, _ in result.groups] == [g["subgroup"] for g in case["groups"]]
    for (_, ours), theirs in zip(result.groups, case["groups"], strict=True):
        assert ours.k == theirs["k"]
        for key in ("se", "tau2", "i2"):
            _close(getattr(ours, key), theirs[key], TOL_IV, key)
        _close(ours.theta, theirs["estimate"], TOL_IV, "estimate")
    _close(result.q_between, case["q_between"], TOL_IV, "q_between")
    _close(result.q_between_pval, case["q_between_pval"], TOL_IV, "q_between_pval")
    assert result.q_between_df == case["q_between_df"]


LOO = GOLDEN["leave1out"]


@pytest.mark.parametrize("case", LOO, ids=[case_name(c) for c in LOO])
def test_leave_one_out_matches_leave1out(case: dict[str, Any]) -> None:
    family = "continuous" if case["dataset"] == "normand1999" else "binary"
    opt = options(family, case["measure"], case["method"], case["test"] == "knha")
    rows = effect_leave_one_out(prepare(dataset(case["dataset"]), roles_of(case), opt), opt)
    keys = [("estimate", "theta"), ("se", "se"), ("q", "q"), ("q_pval", "q_pval"), ("i2", "i2")]
    if case.get("tau2") is not None:
        keys.append(("tau2", "tau2"))
    for key, attr in keys:
        np.testing.assert_allclose(
            [getattr(r, attr) for r in rows], _vec(case[key]), atol=TOL_IV,
            err_msg=key,
        )  # fmt: skip
