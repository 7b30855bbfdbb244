"""SQL pieces that differ between SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY


def id_in(column: Any, ids: Sequence[int], *, sqlite: bool) -> ColumnElement[bool]:
    """``column IN (ids)`` with the ids sent as ONE parameter, so that any number of them fits.

    A plain ``IN`` list sends a parameter per id, and a statement may have at most 32,766 of
    them on SQLite and 65,535 on PostgreSQL. SQLite reads the ids from a JSON array
    (``json_each``); PostgreSQL compares with ``= ANY`` of an integer array.
    """
    if sqlite:
        each = func.json_each(json.dumps([int(i) for i in ids])).table_valued("value")
        return column.in_(select(each.c.value))
    array = bindparam(None, [int(i) for i in ids], type_=ARRAY(Integer))
    return column == any_(array)  # type: ignore[no-any-return]
