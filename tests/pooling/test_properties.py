"""Properties that hold for any study table: I² in [0, 100], tau² ≥ 0, the CI contains the
estimate, the PI contains the CI, and the result does not depend on the order of the studies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reviewflow.pooling.analysis import pool
from reviewflow.pooling.glmm import fit_glmm


@st.composite
def study_tables(draw: st.DrawFn, min_k: int = 2, max_k: int = 12) -> pd.DataFrame:
    k = draw(st.integers(min_k, max_k))
    totals = draw(st.lists(st.integers(1, 400), min_size=k, max_size=k))
    events = [draw(st.integers(0, n)) for n in totals]
    return pd.DataFrame({"study": [f"S{i}" for i in range(k)], "events": events, "total": totals})


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    table=study_tables(),
    measure=st.sampled_from(["PLO", "PFT", "PAS", "PR", "PLN"]),
    method=st.sampled_from(["REML", "DL", "PM", "ML", "EE"]),
    knha=st.booleans(),
)
def test_inverse_variance_invariants(
    table: pd.DataFrame, measure: str, method: str, knha: bool
) -> None:
    r = pool(table, measure=measure, method=method, knha=knha)
    assert 0 <= r.i2 <= 100
    # RE: H² = 1 + tau²/typical variance ≥ 1; EE: H² = Q/(k − 1) (metafor), ≥ 0
    assert r.h2 >= (1 - 1e-12 if method != "EE" else 0)
    assert r.tau2 >= 0
    assert r.q >= 0 and 0 <= r.q_pval <= 1
    assert r.ci_lower - 1e-12 <= r.estimate <= r.ci_upper + 1e-12
    assert r.pi_lower - 1e-12 <= r.ci_lower and r.ci_upper <= r.pi_upper + 1e-12
    assert r.ci_lower >= 0 and r.ci_upper <= 1
    assert sum(s.weight for s in r.studies) == pytest.approx(100)
    if r.tau2_ci is not None:
        assert 0 <= r.tau2_ci[0] <= r.tau2_ci[1]
    for s in r.studies:
        assert s.ci_lower <= s.proportion <= s.ci_upper

    shuffled = table.sample(frac=1, random_state=7).reset_index(drop=True)
    again = pool(shuffled, measure=measure, method=method, knha=knha)
    for key in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "i2", "q"):
        assert getattr(again, key) == pytest.approx(getattr(r, key), abs=1e-9, rel=1e-9), key
    weights = {s.study: s.weight for s in r.studies}
    assert {s.study: s.weight for s in again.studies} == pytest.approx(weights, abs=1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=study_tables(max_k=8))
def test_glmm_invariants(table: pd.DataFrame) -> None:
    x = table["events"].to_numpy(dtype=float)
    n = table["total"].to_numpy(dtype=float)
    assume(0 < x.sum() < n.sum())  # otherwise there is no finite estimate (tested below)
    try:
        g = fit_glmm(x, n)
    except ValueError as exc:  # complete separation: tau² without bound
        assert "without bound" in str(exc)
        return
    assert g.tau2 >= 0 and 0 <= g.i2 <= 100
    assert g.ci_lower <= g.estimate <= g.ci_upper
    order = np.random.default_rng(3).permutation(len(x))
    again = fit_glmm(x[order], n[order])
    # the likelihood can be very flat in tau (3 studies, one of them 0/211): relative tolerance
    assert again.estimate == pytest.approx(g.estimate, abs=1e-5, rel=1e-5)
    assert again.tau2 == pytest.approx(g.tau2, abs=1e-5, rel=1e-5)


def test_glmm_refuses_tables_without_a_finite_estimate() -> None:
    with pytest.raises(ValueError, match="no study has events"):
        fit_glmm(np.array([0.0, 0.0]), np.array([10.0, 20.0]))
    with pytest.raises(ValueError, match="every patient is an event"):
        fit_glmm(np.array([10.0, 20.0]), np.array([10.0, 20.0]))
    with pytest.raises(ValueError, match="without bound"):
        fit_glmm(np.array([0.0, 5.0]), np.array([5.0, 5.0]))
