"""The study-table check reads whole columns at once; it must say exactly what a cell-by-cell
check says: the same numbers, the same studies left out, or the same first error."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewflow.errors import InputError
from reviewflow.pooling.table import ROLE_KINDS, _cell, check_table

CELLS = st.sampled_from(
    ["0", "1", "3", "10", "12", "2.5", "-1", "-0.5", "", " 7 ", "NA", "nan", "none", "x",
     "1e1", "inf", "-inf", "1_0", "0.0", "40", "+3", "Infinity", "1e308", "10000000001"]
)  # fmt: skip


Rows = list[tuple[str, dict[str, float | None]]]


def _reference(frame: pd.DataFrame, roles: dict[str, str], drop: bool) -> tuple[Rows, Rows]:
    """Row by row, cell by cell: the checked rows and the dropped studies, or the first error."""
    rows: Rows = []
    dropped: Rows = []
    for i in range(len(frame)):
        where = f"t: row {i + 1}, column "
        values: dict[str, float | None] = {}
        empty = []
        for role, column in roles.items():
            value = _cell(frame[column].iloc[i], ROLE_KINDS[role], where + repr(column))
            if value is None:
                if not drop:
                    raise InputError(f"{where}{column!r}: missing count")
                empty.append(role)
            values[role] = value
        for e, n in (("events", "total"), ("events1", "total1"), ("events2", "total2")):
            x, t = values.get(e), values.get(n)
            if x is not None and t is not None and x > t:
                raise InputError(f"{where}{roles[e]!r}: {x:.0f} events > {t:.0f} total")
        (dropped if empty else rows).append((f"Study {i + 1}", values))
    return rows, dropped


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(st.tuples(CELLS, CELLS, CELLS, CELLS), min_size=1, max_size=6),
    family=st.sampled_from(["proportion", "binary", "mean"]),
    drop=st.booleans(),
)
def test_column_check_equals_cell_by_cell(
    cells: list[tuple[str, ...]], family: str, drop: bool
) -> None:
    frame = pd.DataFrame(cells, columns=["a", "b", "c", "d"])
    roles = {
        "proportion": {"events": "a", "total": "b"},
        "binary": {"events1": "a", "total1": "b", "events2": "c", "total2": "d"},
        "mean": {"mean": "a", "sd": "b", "n": "c"},
    }[family]
    try:
        expected = _reference(frame, roles, drop)
    except InputError as exc:
        with pytest.raises(InputError) as got:
            check_table(frame, roles, study=None, source="t", drop_missing=drop)
        assert got.value.message == exc.message
        return
    checked = check_table(frame, roles, study=None, source="t", drop_missing=drop)
    assert [d[0] for d in checked.dropped] == [name for name, _ in expected[1]]
    assert list(checked.frame["study"]) == [name for name, _ in expected[0]]
    for role in roles:
        assert list(checked.frame[role]) == [values[role] for _, values in expected[0]]
