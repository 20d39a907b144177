"""Which chart, if any, shows a query's result: a pure rule on the result's shape, used by the app.

- one category column and one number column -> a bar chart (category on x), at most MAX_BARS rows;
- one date/time column and one number column -> a line chart (time on x, points in time order);
- anything else (one column, three or more, two numbers, two texts, fewer than two rows) -> no chart.

A category is a column of text that is not dates; a number is int/float (not bool); a date/time is a
`date`/`datetime` value, text in ISO form (2024, 2024-03, 2024-03-01, 2024-03-01 12:00[:00]), or whole numbers
from 1000 to 2999 in a column named year (`year`, `order_year`, `yr`). NULLs
are ignored when deciding a column's kind (a column of only NULLs has none). The axis labels are the
result's column names.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

MAX_BARS = 50  # more categories than this read better as the table
MIN_ROWS = 2
_YEAR_NAME = re.compile(r"(^|_)(year|yr)$", re.I)
_ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?)?$")


@dataclass(frozen=True)
class Chart:
    kind: str  # "bar" | "line"
    x: str  # column name on the x axis (category or time)
    y: str  # column name on the y axis (the number)


def _is_null(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def kind_of(values) -> str | None:
    """"number", "time", "category" or None (mixed kinds, or nothing but NULLs)."""
    kinds = {_value_kind(v) for v in values if not _is_null(v)}
    return kinds.pop() if len(kinds) == 1 else None


def _column_kind(name: str, values: list) -> str | None:
    kind = kind_of(values)
    if kind == "number" and _YEAR_NAME.search(name) and all(
            isinstance(v, int) and 1000 <= v <= 2999 for v in values if not _is_null(v)):
        return "time"
    return kind


def _value_kind(v) -> str:
    if isinstance(v, bool):
        return "other"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, (dt.date, dt.datetime)):
        return "time"
    if isinstance(v, str):
        return "time" if _ISO.match(v.strip()) else "category"
    return "other"


def choose(columns: list[str], rows: list[tuple | list]) -> Chart | None:
    """The chart for a result of `columns` and `rows`, or None when none fits (see the module's rule)."""
    if len(columns) != 2 or len(rows) < MIN_ROWS or len(set(columns)) != 2:
        return None
    kinds = [_column_kind(name, [row[i] for row in rows]) for i, name in enumerate(columns)]
    if "number" not in kinds or kinds[0] == kinds[1]:
        return None
    x = 1 - kinds.index("number")
    if kinds[x] == "category" and len(rows) <= MAX_BARS:
        return Chart("bar", columns[x], columns[1 - x])
    if kinds[x] == "time":
        return Chart("line", columns[x], columns[1 - x])
    return None
