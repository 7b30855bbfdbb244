"""Time per fit for a meta-analysis of k = 10,000 studies, for every measure family.

    .venv/bin/python benchmarks/bench_pool.py [--k 10000] [--repeats 7]

Proportions (REML, DL, the GLMM) as before; then each family from a study table through
``reviewflow.pooling.request.run`` (checking the table, escalc, the fit, back-transform): two-group
binary RR by REML and OR by Mantel–Haenszel, Peto; two-group continuous MD and SMD (REML);
one-group means MN (REML); generic GEN (REML); a meta-regression on one numeric and one
categorical moderator (REML); Egger's test and trim-and-fill (REML). All data simulated
(seeded). Prints the median and range of the wall-clock time, with the pooled estimate so a
run can be checked.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import special

from reviewflow.pooling.effects import escalc
from reviewflow.pooling.glmm import fit_glmm
from reviewflow.pooling.request import PoolRequest, run
from reviewflow.pooling.rma import fit


def simulate(k: int, seed: int = 20261124) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    total = rng.integers(20, 401, size=k).astype(float)
    p = special.expit(rng.normal(special.logit(0.3), 0.5, size=k))
    events = rng.binomial(total.astype(int), p).astype(float)
    return events, total


def simulate_tables(k: int, seed: int = 20261125) -> pd.DataFrame:
    """Two-group trials (control risk ~ 0.2, log RR ~ N(−0.3, 0.3²)), a latitude-like numeric
    moderator and a three-level design, and two-group means (MD ~ N(−2, 1.5²))."""
    rng = np.random.default_rng(seed)
    n1, n2 = rng.integers(20, 401, size=k), rng.integers(20, 401, size=k)
    p2 = special.expit(rng.normal(special.logit(0.2), 0.4, size=k))
    p1 = np.clip(p2 * np.exp(rng.normal(-0.3, 0.3, size=k)), 0.001, 0.999)
    sd1, sd2 = rng.uniform(5, 15, size=k), rng.uniform(5, 15, size=k)
    m2 = rng.normal(30, 5, size=k)
    m1 = m2 + rng.normal(-2, 1.5, size=k) + rng.normal(0, sd1 / np.sqrt(n1))
    yi = rng.normal(0.2, 0.3, size=k)
    return pd.DataFrame(
        {
            "study": [f"Study {i + 1}" for i in range(k)],
            "e1": rng.binomial(n1, p1),
            "n1": n1,
            "e2": rng.binomial(n2, p2),
            "n2": n2,
            "m1": m1,
            "s1": sd1,
            "m2": m2,
            "s2": sd2,
            "yi": yi,
            "vi": rng.uniform(0.01, 0.2, size=k),
            "lat": rng.uniform(10, 60, size=k).round(1),
            "design": rng.choice(["cohort", "case-control", "trial"], size=k),
        }
    )


def timed(func: Callable[[], object], repeats: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times, result


def _line(label: str, times: list[float], detail: str) -> None:
    print(
        f"{label:<44} median {statistics.median(times):7.3f} s  "
        f"(min {min(times):.3f}, max {max(times):.3f}, n = {len(times)})  {detail}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    events, total = simulate(args.k)
    print(
        f"k = {args.k} studies, {int(total.sum())} patients; "
        f"{platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )

    def reml() -> object:
        es = escalc("PLO", events, total)
        return fit(es.yi, es.vi, "REML", "z")

    def dl() -> object:
        es = escalc("PLO", events, total)
        return fit(es.yi, es.vi, "DL", "z")

    rows = [
        ("proportions PLO REML (escalc + fit + QP CI)", reml),
        ("proportions PLO DL", dl),
        ("proportions GLMM (ML, 7-point AGQ)", lambda: fit_glmm(events, total)),
    ]
    for label, func in rows:
        repeats = args.repeats if "GLMM" not in label else max(3, args.repeats // 2)
        times, result = timed(func, repeats)
        estimate = float(special.expit(result.estimate))  # type: ignore[attr-defined]
        tau2 = result.tau2  # type: ignore[attr-defined]
        _line(label, times, f"pooled {100 * estimate:.2f}%, tau² = {tau2:.4f}")

    table = simulate_tables(args.k)
    binary = {"events1": "e1", "total1": "n1", "events2": "e2", "total2": "n2"}
    continuous = {"mean1": "m1", "sd1": "s1", "n1": "n1", "mean2": "m2", "sd2": "s2", "n2": "n2"}
    requests = [
        ("binary RR REML (from the table)", PoolRequest(binary, measure="RR")),
        ("binary OR Mantel–Haenszel", PoolRequest(binary, measure="OR", method="MH")),
        ("binary Peto OR", PoolRequest(binary, measure="PETO")),
        ("continuous MD REML", PoolRequest(continuous, measure="MD")),
        ("continuous SMD REML", PoolRequest(continuous, measure="SMD")),
        ("mean MN REML", PoolRequest({"mean": "m1", "sd": "s1", "n": "n1"})),
        ("generic GEN REML (yi, vi)", PoolRequest({"yi": "yi", "vi": "vi"})),
        (
            "meta-regression RR REML (lat + design)",
            PoolRequest(binary, measure="RR", moderators=("lat", "design")),
        ),
        ("RR REML + Egger + trim-and-fill", PoolRequest(binary, egger=True, trimfill=True)),
    ]
    for label, request in requests:
        times, outcome = timed(lambda r=request: run(r, table), max(3, args.repeats // 2))  # type: ignore[misc]
        result = outcome.result  # type: ignore[attr-defined]
        detail = f"pooled {result.estimate:.4f}, tau² = {result.tau2:.4f}"
        regression = outcome.regression  # type: ignore[attr-defined]
        if regression is not None:
            detail += f", QM = {regression.qm:.1f}"
        if outcome.trimfill is not None:  # type: ignore[attr-defined]
            detail += f", k0 = {outcome.trimfill.k0}"  # type: ignore[attr-defined]
        _line(label, times, detail)


if __name__ == "__main__":
    main()
