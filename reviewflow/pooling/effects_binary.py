"""Two-group binary outcomes (a 2×2 table per study), as ``metafor::escalc`` computes them.

A study is ``ai`` events among ``n1i`` patients in group 1 (experimental) and ``ci`` among
``n2i`` in group 2 (control); ``bi = n1i − ai`` and ``di = n2i − ci`` are the non-events.
Measures (metafor's names): OR (log odds ratio), RR (log risk ratio), RD (risk difference),
PETO (Peto's log odds ratio, one study's (O − E)/V).

The continuity correction is metafor's default, ``add=1/2, to="only0"``: a study with a zero
in any of its four cells gets 1/2 added to all four; others are left alone. ``drop00`` (the
default of ``rma.mh`` and ``rma.peto``, not of ``escalc``/``rma``) sets the outcome of a study
with no events in both groups, or only events in both, to NaN: such a study says nothing
about a ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

BINARY_MEASURES = ("OR", "RR", "RD", "PETO")

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Tables:
    """The 2×2 tables, one row per study (counts as given, no correction)."""

    ai: FloatArray
    bi: FloatArray
    ci: FloatArray
    di: FloatArray

    @classmethod
    def from_counts(
        cls, events1: FloatArray, total1: FloatArray, events2: FloatArray, total2: FloatArray
    ) -> Tables:
        e1, n1 = np.asarray(events1, dtype=float), np.asarray(total1, dtype=float)
        e2, n2 = np.asarray(events2, dtype=float), np.asarray(total2, dtype=float)
        return cls(ai=e1, bi=n1 - e1, ci=e2, di=n2 - e2)

    @property
    def n1(self) -> FloatArray:
        return self.ai + self.bi

    @property
    def n2(self) -> FloatArray:
        return self.ci + self.di

    def double_zero(self) -> NDArray[np.bool_]:
        """No events in either group, or only events in both (metafor's ``drop00``)."""
        return np.asarray(
            ((self.ai == 0) & (self.ci == 0)) | ((self.bi == 0) & (self.di == 0)), dtype=bool
        )

    def subset(self, keep: NDArray[np.bool_]) -> Tables:
        return Tables(self.ai[keep], self.bi[keep], self.ci[keep], self.di[keep])


def escalc_binary(
    measure: str, tables: Tables, add: float = 0.5, drop00: bool = False
) -> tuple[FloatArray, FloatArray]:
    """``yi`` and ``vi`` as ``escalc(measure, ai, bi, ci, di, add, to="only0", drop00)``;
    NaN for a study left out by ``drop00``."""
    measure = measure.upper()
    if measure not in BINARY_MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose {', '.join(BINARY_MEASURES)}")
    ai, bi, ci, di = (
        np.array(a, dtype=float) for a in (tables.ai, tables.bi, tables.ci, tables.di)
    )
    dropped = tables.double_zero() if drop00 else np.zeros(len(ai), dtype=bool)
    zero = ((ai == 0) | (bi == 0) | (ci == 0) | (di == 0)) & ~dropped
    if add > 0:
        ai, bi, ci, di = (np.where(zero, a + add, a) for a in (ai, bi, ci, di))
    n1, n2 = ai + bi, ci + di
    p1, p2 = ai / n1, ci / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / ai - 1 / n1 + 1 / ci - 1 / n2
        elif measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
        elif measure == "RD":
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        else:  # PETO
            o_e, v = peto_parts(ai, bi, ci, di)
            yi, vi = o_e / v, 1 / v
    yi = np.where(dropped, np.nan, yi)
    vi = np.where(dropped, np.nan, vi)
    return np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)


def peto_parts(
    ai: FloatArray, bi: FloatArray, ci: FloatArray, di: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per table, observed minus expected events in group 1 (O − E) and the hypergeometric
    variance V; Peto's log odds ratio of a study is (O − E)/V with variance 1/V."""
    n1, n2 = ai + bi, ci + di
    ni = n1 + n2
    xt, yt = ai + ci, bi + di
    with np.errstate(divide="ignore", invalid="ignore"):
        v = xt * yt * (n1 / ni) * (n2 / ni) / (ni - 1)
    return ai - xt * n1 / ni, v
