"""Loading the metafor golden values and the datasets they were computed on."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
DATA = HERE / "data"
GOLDEN = HERE / "golden" / "metafor.json"

# Tolerances (absolute): the inverse-variance models are exact solutions, so 1e-6 leaves room
# only for R's own convergence; the GLMM rests on two optimisers and a numerical Hessian.
TOL_IV = 1e-6
TOL_GLMM = 1e-4


@cache
def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return data


@cache
def dataset(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


def counts(name: str) -> tuple[np.ndarray, np.ndarray]:
    d = dataset(name)
    return d["events"].to_numpy(dtype=float), d["total"].to_numpy(dtype=float)


def case_id(case: dict[str, Any]) -> str:
    parts = [
        case["dataset"],
        case.get("measure", "PLO"),
        case.get("method", "GLMM"),
        case["test"],
        case.get("control", ""),
    ]
    return "-".join(p for p in parts if p)


def as_float(value: Any) -> float:
    return float("nan") if value is None else float(value)
