"""A small column table (a dict of equal-length numpy arrays), written and read as CSV or Parquet by polars.

polars formats every number as the shortest text that reads back to the same float, and quotes a
cell only when it must (a separator, a quote, a line feed or a carriage return in it).  Missing
numbers (NaN) are written as empty cells and booleans as true/false; text is written as it is.
Reading a table back gives the same numbers, bit for bit (``tests/output/test_tables.py``).
"""

from __future__ import annotations

import io
import math
from typing import IO, Iterable, Mapping

import numpy as np


class Table:
    """Columns by name, all the same length.

    ``rows()`` gives plain Python values; ``to_pandas()`` a DataFrame when pandas is installed;
    ``to_polars()`` a polars DataFrame, the form in which it is written.
    """

    def __init__(self, columns: Mapping[str, Iterable]) -> None:
        self.columns = {name: np.asarray(values) for name, values in columns.items()}
        lengths = {len(v) for v in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal length: { {k: len(v) for k, v in self.columns.items()} }")

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), ()))

    def __repr__(self) -> str:
        return f"Table({len(self)} rows: {', '.join(self.columns)})"

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def rows(self) -> list[dict]:
        """One dict per row, of plain Python values (str, int, float, bool)."""
        plain = [[plain_value(v) for v in column.tolist()] for column in self.columns.values()]
        return [dict(zip(self.columns, values)) for values in zip(*plain)]

    def to_pandas(self):
        """The table as a :class:`pandas.DataFrame` (pandas is optional: ImportError without it)."""
        import pandas as pd

        return pd.DataFrame(self.columns)

    def to_polars(self):
        """The table as a :class:`polars.DataFrame`: NaN as null, text and other objects as strings."""
        import polars as pl

        return pl.DataFrame([_series(name, column) for name, column in self.columns.items()])

    def to_csv_text(self) -> str:
        """CSV with a header; missing numbers as empty cells, booleans as true/false."""
        out = io.StringIO()
        self.write_csv(out)
        return out.getvalue()

    def write_csv(self, stream: IO, header: bool = True) -> None:
        """Write the table as CSV (lines end in a line feed) to a text or binary stream."""
        self.to_polars().write_csv(stream, include_header=header, line_terminator="\n")

    def to_parquet(self, target) -> None:
        """Write the table as a Parquet file (a path or a binary stream)."""
        self.to_polars().write_parquet(target)

    @staticmethod
    def concat(tables: list["Table"]) -> "Table":
        if not tables:
            return Table({})
        return Table({name: np.concatenate([t[name] for t in tables]) for name in tables[0].names})


def _series(name: str, column: np.ndarray):
    """One column as a polars Series: floats with NaN as null, objects as their text."""
    import polars as pl

    kind = column.dtype.kind
    if kind == "f":
        return pl.Series(name, column, dtype=pl.Float64, nan_to_null=True)
    if kind in "iub":
        return pl.Series(name, column)
    try:  # text: taken as it is
        return pl.Series(name, column, dtype=pl.String, strict=True)
    except (TypeError, ValueError, pl.exceptions.PolarsError):  # other objects among it: each as its text
        return pl.Series(name, [cell_text(v) for v in column.tolist()], dtype=pl.String)


def cell_text(value) -> str | None:
    """The text of one value in a column of mixed objects (None: an empty cell)."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(plain_value(value))


def plain_value(value):
    """A plain Python value for a numpy scalar (np.str_, np.float64, np.int64, np.bool_)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):
        return str(value)
    return value


def read_csv(path, text: Iterable[str] = ()) -> Table:
    """Read back a CSV written by :meth:`Table.write_csv`; ValueError if it is cut short or not a table.

    A column is read as whole numbers, booleans, floats or text as its cells allow; empty cells are
    NaN in a number column (whole numbers with an empty cell become floats) and a column that is
    entirely empty is NaN.  Columns named in ``text`` are always text.
    """
    import polars as pl

    with open(path, "rb") as raw:
        if raw.seek(0, 2) and (raw.seek(-1, 2), raw.read(1))[1] != b"\n":
            raise ValueError("the last line is cut short (no line end): the file is incomplete")
    try:
        frame = pl.read_csv(path, infer_schema_length=None, schema_overrides={name: pl.String for name in text},
                            raise_if_empty=False)
    except pl.exceptions.PolarsError as err:
        raise ValueError(str(err).splitlines()[0]) from None
    return from_polars(frame, text)


def read_parquet(path, text: Iterable[str] = ()) -> Table:
    """Read back a Parquet file written by :meth:`Table.to_parquet`; ``text`` columns as text."""
    import polars as pl

    try:
        frame = pl.read_parquet(path)
    except pl.exceptions.PolarsError as err:
        raise ValueError(str(err).splitlines()[0]) from None
    return from_polars(frame, text)


def from_polars(frame, text: Iterable[str] = ()) -> Table:
    """A Table of a polars DataFrame: nulls as NaN in number columns and as empty text in text columns."""
    text = set(text)
    return Table({name: _column(frame[name], name in text) for name in frame.columns})


def _column(series, is_text: bool) -> np.ndarray:
    import polars as pl

    dtype = series.dtype
    if is_text or (dtype == pl.String and series.null_count() < len(series)):
        return series.cast(pl.String).fill_null("").to_numpy().astype(object)
    if dtype == pl.Boolean:
        if series.null_count() == 0:
            return series.to_numpy()
        return np.array(["" if v is None else v for v in series.to_list()], dtype=object)
    if dtype.is_integer() and series.null_count() == 0:
        return series.to_numpy()
    return series.cast(pl.Float64).fill_null(math.nan).to_numpy()
