"""reviewflow against R's metafor (run to convergence): every measure × method × test on three
real datasets and five edge cases, the GLMM, subgroups, leave-one-out and study intervals.

The numbers and the R calls that made them are in golden/metafor.json (make_golden.R)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from reviewflow.pooling import effects, rma
from reviewflow.pooling.analysis import leave_one_out, pool, pool_subgroups
from reviewflow.pooling.glmm import fit_glmm
from tests.pooling.golden_data import TOL_GLMM, TOL_IV, as_float, case_id, counts, dataset, golden

FITS = golden()["fits"]
GLMM = [g for g in golden()["glmm"] if g["control"] == "tight"]


def test_golden_covers_every_combination() -> None:
    combos = {(f["dataset"], f["measure"], f["method"], f["test"]) for f in FITS}
    assert len(combos) == 8 * 5 * 5 * 2
    assert {f["dataset"] for f in FITS} >= {
        "pritz1997",
        "debruin2009",
        "hannum2020",
        "zero_event",
        "all_event",
        "two_studies",
        "homogeneous",
        "rare_events",
    }
    assert golden()["metafor_version"] == "3.8.1"


@pytest.mark.parametrize("case", FITS, ids=[case_id(f) for f in FITS])
def test_inverse_variance_models_match_metafor(case: dict[str, Any]) -> None:
    x, n = counts(case["dataset"])
    es = effects.escalc(case["measure"], x, n)
    np.testing.assert_allclose(es.yi, case["yi"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(es.vi, case["vi"], rtol=0, atol=1e-12)

    f = rma.fit(es.yi, es.vi, case["method"], case["test"])
    for key in (
        "estimate",
        "se",
        "pval",
        "ci_lower",
        "ci_upper",
        "pi_lower",
        "pi_upper",
        "tau2",
        "i2",
        "h2",
        "q",
        "q_pval",
    ):
        assert getattr(f, key) == pytest.approx(case[key], abs=TOL_IV, rel=0), key
    np.testing.assert_allclose(f.weights, case["weights"], rtol=0, atol=TOL_IV)
    if "tau2_ci" in case:
        assert f.tau2_ci is not None
        np.testing.assert_allclose(f.tau2_ci, case["tau2_ci"], rtol=0, atol=TOL_IV)
    else:
        assert f.tau2_ci is None and f.tau2 == 0


@pytest.mark.parametrize("case", FITS[::7], ids=[case_id(f) for f in FITS[::7]])
def test_pooled_result_back_transforms_as_metafor(case: dict[str, Any]) -> None:
    """The public pool() result on the proportion scale (transf.ilogit, transf.ipft.hm, …)."""
    result = pool(
        dataset(case["dataset"]),
        measure=case["measure"],
        method=case["method"],
        knha=case["test"] == "knha",
    )
    for ours, theirs in (
        ("estimate", "estimate_prop"),
        ("ci_lower", "ci_lower_prop"),
        ("ci_upper", "ci_upper_prop"),
        ("pi_lower", "pi_lower_prop"),
        ("pi_upper", "pi_upper_prop"),
    ):
        expected = float(np.clip(case[theirs], 0, 1))  # metafor leaves PR unclipped
        assert getattr(result, ours) == pytest.approx(expected, abs=TOL_IV), ours
    assert result.theta == pytest.approx(case["estimate"], abs=TOL_IV)
    assert sum(s.weight for s in result.studies) == pytest.approx(100)


@pytest.mark.parametrize("case", GLMM, ids=[case_id(g) for g in GLMM])
def test_glmm_matches_metafor_rma_glmm(case: dict[str, Any]) -> None:
    x, n = counts(case["dataset"])
    g = fit_glmm(x, n, test=case["test"])
    for key in (
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "pi_lower",
        "pi_upper",
        "tau2",
        "i2",
        "h2",
        "q_lrt",
        "q_lrt_pval",
    ):
        assert getattr(g, key) == pytest.approx(case[key], abs=TOL_GLMM, rel=0), key
    if np.all((x > 0) & (x < n)):
        assert g.q_wald == pytest.approx(case["q_wald"], abs=TOL_GLMM)
        assert g.q_wald_pval == pytest.approx(case["q_wald_pval"], abs=TOL_GLMM)
    else:  # metafor's Wald test rests on a saturated glm that cannot converge here
        assert g.q_wald is None


SUBGROUPS = golden()["subgroups"]


@pytest.mark.parametrize("case", SUBGROUPS, ids=[case_id(s) for s in SUBGROUPS])
def test_subgroups_and_test_for_differences_match_metafor(case: dict[str, Any]) -> None:
    result = pool_subgroups(
        dataset(case["dataset"]),
        measure=case["measure"],
        method=case["method"],
        knha=case["test"] == "knha",
    )
    assert [name for name, _ in result.groups] == [g["subgroup"] for g in case["groups"]]
    for (_, ours), theirs in zip(result.groups, case["groups"], strict=True):
        assert ours.k == theirs["k"]
        assert ours.theta == pytest.approx(theirs["estimate"], abs=TOL_IV)
        assert ours.se == pytest.approx(theirs["se"], abs=TOL_IV)
        assert ours.tau2 == pytest.approx(theirs["tau2"], abs=TOL_IV)
        assert ours.i2 == pytest.approx(theirs["i2"], abs=TOL_IV)
    assert result.q_between == pytest.approx(case["q_between"], abs=TOL_IV)
    assert result.q_between_df == case["q_between_df"]
    assert result.q_between_pval == pytest.approx(case["q_between_pval"], abs=TOL_IV)


LOO = golden()["leave1out"]


@pytest.mark.parametrize("case", LOO, ids=[case_id(c) for c in LOO])
def test_leave_one_out_matches_metafor(case: dict[str, Any]) -> None:
    rows = leave_one_out(
        dataset(case["dataset"]),
        measure=case["measure"],
        method=case["method"],
        knha=case["test"] == "knha",
    )
    assert [r.omitted for r in rows] == list(dataset(case["dataset"])["study"])
    for key, ours in (
        ("estimate", "theta"),
        ("se", "se"),
        ("tau2", "tau2"),
        ("i2", "i2"),
        ("q", "q"),
        ("q_pval", "q_pval"),
    ):
        np.testing.assert_allclose(
            [getattr(r, ours) for r in rows],
            [as_float(v) for v in case[key]],
            rtol=0,
            atol=TOL_IV,
            err_msg=key,
        )


INTERVALS = golden()["intervals"]


@pytest.mark.parametrize("case", INTERVALS, ids=[c["dataset"] for c in INTERVALS])
def test_study_intervals_match_binom_test_and_prop_test(case: dict[str, Any]) -> None:
    x, n = counts(case["dataset"])
    low, high = effects.clopper_pearson(x, n)
    np.testing.assert_allclose(low, case["cp_lower"], atol=1e-9)
    np.testing.assert_allclose(high, case["cp_upper"], atol=1e-9)
    low, high = effects.wilson(x, n)
    np.testing.assert_allclose(low, case["wilson_lower"], atol=1e-9)
    np.testing.assert_allclose(high, case["wilson_upper"], atol=1e-9)
