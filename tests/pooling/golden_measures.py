"""The metafor golden values for effect measures (golden/metafor_measures.json, written by
golden/make_golden_measures.R) and the columns of the datasets they were computed on."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.pooling.golden_data import HERE

GOLDEN_MEASURES = HERE / "golden" / "metafor_measures.json"

ROLES = {
    "binary": {"events1": "events1", "total1": "total1", "events2": "events2", "total2": "total2"},
    "continuous": {
        "mean1": "mean1",
        "sd1": "sd1",
        "n1": "n1",
        "mean2": "mean2",
        "sd2": "sd2",
        "n2": "n2",
    },
    "mean": {"mean": "mean", "sd": "sd", "n": "n"},
    "proportion": {"events": "events", "total": "total"},
    "yi_vi": {"yi": "yi", "vi": "vi"},
    "ci": {"estimate": "or", "ci_lower": "or_lb", "ci_upper": "or_ub"},
}
FAMILY_OF = {
    "bcg": "binary",
    "egger2001": "binary",
    "binary_zeros": "binary",
    "binary_two": "binary",
    "binary_homogeneous": "binary",
    "binary_single": "binary",
    "normand1999": "continuous",
    "continuous_edge": "continuous",
    "senn2013_placebo": "mean",
    "normand1999_arm1": "mean",
    "hackshaw1998": "yi_vi",
    "hannum2020": "proportion",
    "pritz1997": "proportion",
}


@cache
def measures_golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN_MEASURES.read_text(encoding="utf-8"))
    return data


def roles_of(case: dict[str, Any]) -> dict[str, str]:
    return ROLES[case.get("input") or FAMILY_OF[case["dataset"]]]


def case_name(case: dict[str, Any]) -> str:
    parts = [case["dataset"], case.get("measure", ""), case.get("input", ""), case["method"]]
    mods = case.get("moderators") or []
    parts += [case.get("test", ""), mods if isinstance(mods, str) else "+".join(mods)]
    return "-".join(str(p) for p in parts if p)
