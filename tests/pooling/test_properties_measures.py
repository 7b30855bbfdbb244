"""Properties of every effect measure on any table hypothesis draws: the CI holds the estimate,
the PI holds the CI, I² in [0, 100], weights add to 100, and the result does not depend on the
order of the studies (also for Mantel–Haenszel, Peto and Egger's test)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reviewflow.pooling.effect_analysis import pool_effects
from reviewflow.pooling.request import PoolRequest, run

BINARY = {"events1": "e1", "total1": "n1", "events2": "e2", "total2": "n2"}
CONTINUOUS = {"mean1": "m1", "sd1": "s1", "n1": "k1", "mean2": "m2", "sd2": "s2", "n2": "k2"}
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def two_by_two(draw: st.DrawFn) -> pd.DataFrame:
    k = draw(st.integers(3, 9))
    rows = []
    for i in range(k):
        n1, n2 = draw(st.integers(1, 300)), draw(st.integers(1, 300))
        rows.append({"study": f"S{i}", "e1": draw(st.integers(0, n1)), "n1": n1,
                     "e2": draw(st.integers(0, n2)), "n2": n2})  # fmt: skip
    return pd.DataFrame(rows)


@st.composite
def two_means(draw: st.DrawFn) -> pd.DataFrame:
    k = draw(st.integers(3, 9))
    value = st.floats(0.5, 100, allow_nan=False)
    rows = []
    for i in range(k):
        rows.append({"study": f"S{i}", "m1": draw(value), "s1": draw(st.floats(0.1, 30)),
                     "k1": draw(st.integers(2, 200)), "m2": draw(value),
                     "s2": draw(st.floats(0.1, 30)), "k2": draw(st.integers(2, 200))})  # fmt: skip
    return pd.DataFrame(rows)


def _check(frame: pd.DataFrame, roles: dict[str, str], measure: str, method: str) -> None:
    r = pool_effects(frame, roles, measure=measure, method=method)
    assert 0 <= r.i2 <= 100 and r.tau2 >= 0 and 0 <= r.q_pval <= 1
    assert r.ci_lower - 1e-12 <= r.estimate <= r.ci_upper + 1e-12
    assert r.pi_lower - 1e-12 <= r.ci_lower and r.ci_upper <= r.pi_upper + 1e-12
    assert sum(s.weight for s in r.studies) == pytest.approx(100)
    for s in r.studies:
        if s.estimate is not None and s.ci_lower is not None and s.ci_upper is not None:
            assert s.ci_lower <= s.estimate <= s.ci_upper
    shuffled = frame.sample(frac=1, random_state=11).reset_index(drop=True)
    again = pool_effects(shuffled, roles, measure=measure, method=method)
    for key in ("estimate", "ci_lower", "ci_upper", "tau2", "q"):
        assert getattr(again, key) == pytest.approx(getattr(r, key), abs=1e-9, rel=1e-9), key


@SETTINGS
@given(
    frame=two_by_two(),
    measure=st.sampled_from(["OR", "RR", "RD", "PETO"]),
    method=st.sampled_from(["REML", "DL", "EE", "PM"]),
)
def test_binary_inverse_variance_invariants(frame: pd.DataFrame, measure: str, method: str) -> None:
    _check(frame, BINARY, measure, method)


@SETTINGS
@given(frame=two_by_two(), measure=st.sampled_from(["OR", "RR", "RD"]))
def test_mantel_haenszel_invariants(frame: pd.DataFrame, measure: str) -> None:
    e1, e2 = frame["e1"].sum(), frame["e2"].sum()
    if measure != "RD" and (min(e1, e2) == 0 or (frame["n1"] - frame["e1"]).sum() == 0):
        return  # no finite MH ratio (refused with a message, tested in test_cli_measures)
    if measure == "OR" and ((frame["n2"] - frame["e2"]).sum() == 0):
        return
    _check(frame, BINARY, measure, "MH")


@SETTINGS
@given(frame=two_means(), measure=st.sampled_from(["MD", "SMD", "ROM"]))
def test_continuous_invariants(frame: pd.DataFrame, measure: str) -> None:
    _check(frame, CONTINUOUS, measure, "REML")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=two_means())
def test_egger_and_trimfill_do_not_depend_on_order(frame: pd.DataFrame) -> None:
    request = PoolRequest(roles=CONTINUOUS, measure="MD", method="DL", egger=True, trimfill=True)
    se2 = frame["s1"] ** 2 / frame["k1"] + frame["s2"] ** 2 / frame["k2"]
    assume(se2.max() - se2.min() > 1e-9 * se2.max())  # equal SEs: refused (as metafor)
    a = run(request, frame)
    b = run(request, frame.sample(frac=1, random_state=5).reset_index(drop=True))
    assert a.egger is not None and b.egger is not None
    assert b.egger.statistic == pytest.approx(a.egger.statistic, abs=1e-8, rel=1e-8)
    assert a.trimfill is not None and b.trimfill is not None
    assert b.trimfill.k0 == a.trimfill.k0 and a.trimfill.k0 >= 0
