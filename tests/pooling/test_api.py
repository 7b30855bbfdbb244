"""The Python entry point (a DataFrame with study, events, total) and paper-style formatting."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reviewflow.errors import InputError
from reviewflow.pooling.analysis import pool, pool_subgroups
from reviewflow.pooling.forest import forest_plot
from reviewflow.pooling.format import format_proportion, format_result, percent_decimals
from tests.pooling.golden_data import TOL_IV, dataset, golden


def test_pool_takes_the_extraction_frame_with_numeric_columns() -> None:
    frame = dataset("pritz1997").astype({"events": "int64", "total": "float64"})
    result = pool(frame)
    expected = next(
        f
        for f in golden()["fits"]
        if (f["dataset"], f["measure"], f["method"], f["test"]) == ("pritz1997", "PLO", "REML", "z")
    )
    assert result.estimate == pytest.approx(expected["estimate_prop"], abs=TOL_IV)
    assert [s.study for s in result.studies] == list(frame["study"])
    assert result.to_dict()["studies"][4] == {
        "study": "Tanabe et al.",
        "events": 10,
        "total": 10,
        "proportion": 1.0,
        "ci_lower": pytest.approx(0.69150289),
        "ci_upper": 1.0,
        "weight": pytest.approx(expected["weights"][4]),
    }


def test_pool_names_the_row_of_a_missing_value_in_a_frame() -> None:
    frame = pd.DataFrame({"study": ["A", "B", "C"], "events": [3, np.nan, 4], "total": [10, 12, 9]})
    with pytest.raises(InputError, match=r"^extraction: row 2, column 'events': missing count$"):
        pool(frame, source="extraction")


def test_pool_without_study_column_numbers_the_studies() -> None:
    frame = pd.DataFrame({"n_events": [3, 5], "n": [10, 12]})
    result = pool(frame, events="n_events", total="n", study=None, method="DL")
    assert [s.study for s in result.studies] == ["Study 1", "Study 2"]


def test_subgroup_of_one_study_is_that_study() -> None:
    frame = dataset("debruin2009").copy()
    frame.loc[0, "subgroup"] = "single"
    result = pool_subgroups(frame)
    single = dict(result.groups)["single"]
    assert single.k == 1 and single.method == "EE" and single.tau2 == 0
    assert single.estimate == pytest.approx(11 / 29)
    assert math.isfinite(result.q_between) and result.q_between_df == 2


@pytest.mark.parametrize(
    ("numbers", "text"),
    [
        ((0.43, 0.34, 0.53), "43% (95% CI 34% to 53%)"),
        ((0.2134, 0.1311, 0.3288), "21% (95% CI 13% to 33%)"),
        ((0.0523, 0.031, 0.0871), "5.2% (95% CI 3.1% to 8.7%)"),
        ((0.0042, 0.0011, 0.0157), "0.42% (95% CI 0.11% to 1.57%)"),
        ((0.996, 0.98, 1.0), "99.60% (95% CI 98.00% to 100.00%)"),
    ],
)
def test_format_proportion_as_papers_write_it(
    numbers: tuple[float, float, float], text: str
) -> None:
    assert format_proportion(*numbers) == text


def test_format_result_and_decimals() -> None:
    result = pool(dataset("rare_events"), method="DL")
    assert percent_decimals(result.estimate) == 2  # 0.52%: two decimals below 1%
    assert format_result(result) == (
        "0.52% (95% CI 0.27% to 1.02%); 95% prediction interval 0.27% to 1.02%"
    )  # tau² = 0
    assert format_result(result, decimals=1) == (
        "0.5% (95% CI 0.3% to 1.0%); 95% prediction interval 0.3% to 1.0%"
    )


def test_forest_plot_rejects_other_formats(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="must be .svg, .png or .pdf"):
        forest_plot(pool(dataset("pritz1997")), tmp_path / "plot.jpg")
