"""Values as they are shown: figures in reports and plain-text tables, and values that JSON can hold."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def number(value: Any) -> str:
    """A figure for a report or a plain-text table: whole numbers bare, others to two decimals, '-' when
    missing; text as it is."""
    if _missing(value):
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def three_figures(value: Any) -> str:
    """A figure to three significant digits, '-' when missing."""
    return "-" if _missing(value) else f"{value:.3g}"


def json_value(value: Any) -> Any:
    """A value JSON can hold, through dicts, lists and tuples: NaN as null, infinities as "inf" and
    "-inf", numpy scalars as Python ones, anything else not JSON as its text."""
    if isinstance(value, dict):
        return {key: json_value(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else (str(value) if math.isinf(value) else value)
    return value if isinstance(value, (int, bool, str)) or value is None else str(value)


def json_records(table) -> list[dict]:
    """A table's rows as dicts of values JSON can hold (:func:`json_value` of each cell)."""
    return [{key: json_value(value) for key, value in row.items()} for row in table.rows()]
