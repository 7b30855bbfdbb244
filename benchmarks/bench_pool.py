"""Time per fit for a meta-analysis of k = 10,000 studies: REML (target < 0.5 s) and the GLMM.

    .venv/bin/python benchmarks/bench_pool.py [--k 10000] [--repeats 7]

The counts are simulated (seeded) from a binomial-normal model: logit p_i ~ N(logit 0.3, 0.5²),
n_i uniform on 20..400. Prints the median and range of the wall-clock time per fit, with the
pooled estimate so a run can be checked.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
from scipy import special

from reviewflow.pooling.effects import escalc
from reviewflow.pooling.glmm import fit_glmm
from reviewflow.pooling.rma import fit


def simulate(k: int, seed: int = 20261124) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    total = rng.integers(20, 401, size=k).astype(float)
    p = special.expit(rng.normal(special.logit(0.3), 0.5, size=k))
    events = rng.binomial(total.astype(int), p).astype(float)
    return events, total


def timed(func: Callable[[], object], repeats: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    events, total = simulate(args.k)
    print(
        f"k = {args.k} studies, {int(total.sum())} patients; {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )

    def reml() -> object:
        es = escalc("PLO", events, total)
        return fit(es.yi, es.vi, "REML", "z")

    rows = [
        ("REML (escalc + fit + Q-profile CI)", reml),
        ("DL", lambda: fit(*_es(events, total), "DL", "z")),
        ("GLMM (ML, 7-point AGQ)", lambda: fit_glmm(events, total)),
    ]
    for label, func in rows:
        repeats = args.repeats if "GLMM" not in label else max(3, args.repeats // 2)
        times, result = timed(func, repeats)
        estimate = float(special.expit(result.estimate))  # type: ignore[attr-defined]
        tau2 = result.tau2  # type: ignore[attr-defined]
        print(
            f"{label:<36} median {statistics.median(times):7.3f} s  "
            f"(min {min(times):.3f}, max {max(times):.3f}, n = {repeats})  "
            f"pooled {100 * estimate:.2f}%, tau² = {tau2:.4f}"
        )


def _es(events: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    es = escalc("PLO", events, total)
    return es.yi, es.vi


if __name__ == "__main__":
    main()
