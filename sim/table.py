"""A small column table (a dict of equal-length numpy arrays) that writes CSV a spreadsheet opens.

CSV is written a column at a time: each column's cells are formatted in one pass as bytes
(:mod:`sim.output.cell_text`: the text ``repr`` gives a float, so a number reads back exactly), then
the rows are read out of the columns side by side.  The cells are those of :mod:`csv` with minimal
quoting: missing numbers are empty cells and booleans are true/false.
"""

from __future__ import annotations

import csv
import io
import math
from typing import IO, Iterable, Mapping

import numpy as np

from sim.output.cell_text import (  # upward: the hand-written cell formatter, until a table library writes the text
    Cells, NulInText, csv_array, float_cells, integer_cells, text_cells)

ROWS_PER_CHUNK = 16_384  # rows formatted and written at a time
_NEEDS_QUOTES = (",", '"', "\n", "\r")


class Table:
    """Columns by name, all the same length.

    ``rows()`` gives plain Python values; ``to_pandas()`` a DataFrame when pandas is installed.
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
        plain = [[_plain(v) for v in column.tolist()] for column in self.columns.values()]
        return [dict(zip(self.columns, values)) for values in zip(*plain)]

    def to_pandas(self):
        """The table as a :class:`pandas.DataFrame` (pandas is optional: ImportError without it)."""
        import pandas as pd

        return pd.DataFrame(self.columns)

    def to_csv_text(self) -> str:
        """CSV with a header; missing numbers as empty cells, booleans as true/false."""
        out = io.StringIO()
        self.write_csv(out)
        return out.getvalue()

    def write_csv(self, stream: IO[str], header: bool = True, cells: Mapping[str, Cells] | None = None) -> None:
        """Write the table as CSV to a text stream, column-wise, a chunk of rows at a time.

        ``cells`` may give some columns already formatted (:func:`column_cells`), e.g. shared with another table.
        """
        if header:
            csv.writer(stream, lineterminator="\n").writerow(self.columns)
        if len(self.columns) == 1:  # a lone empty cell must be quoted: leave that to the csv module
            self._write_csv_rows(stream, slice(None))
            return
        for start in range(0, len(self), ROWS_PER_CHUNK):
            chunk = slice(start, start + ROWS_PER_CHUNK)
            given = {name: given[chunk] for name, given in (cells or {}).items()}
            try:
                rest = table_cells({name: column[chunk] for name, column in self.columns.items() if name not in given})
            except NulInText:  # a NUL in some text: these rows a cell at a time
                self._write_csv_rows(stream, chunk)
                continue
            write_cells(stream, {name: given[name] if name in given else rest[name] for name in self.columns}, header=False)

    def _write_csv_rows(self, stream: IO[str], rows: slice) -> None:
        """Rows written by the csv module, a cell at a time."""
        cells = [[_cell(v) for v in column[rows].tolist()] for column in self.columns.values()]
        csv.writer(stream, lineterminator="\n").writerows(zip(*cells))

    def to_parquet(self, path) -> None:
        """Write the table as a Parquet file (needs the ``parquet`` extra: pyarrow)."""
        import pyarrow.parquet as pq

        pq.write_table(to_arrow(self), path)

    @staticmethod
    def concat(tables: list["Table"]) -> "Table":
        if not tables:
            return Table({})
        return Table({name: np.concatenate([t[name] for t in tables]) for name in tables[0].names})


def to_arrow(table: Table):
    """The table as a :class:`pyarrow.Table` (text columns as strings, missing numbers as NaN)."""
    import pyarrow as pa

    return pa.table({name: pa.array(column.astype(str) if column.dtype == object else column)
                     for name, column in table.columns.items()})


def write_cells(stream: IO[str], columns: Mapping[str, Cells], header: bool = True) -> None:
    """Write already formatted columns (two or more) as CSV rows, with a header line if asked."""
    if header:
        csv.writer(stream, lineterminator="\n").writerow(columns)
    text = csv_array(list(columns.values()))
    binary = getattr(stream, "buffer", None)  # a file: its bytes go straight to the binary layer below
    if binary is not None and getattr(stream, "encoding", "").lower().replace("-", "") == "utf8":
        stream.flush()
        binary.write(text)
    else:
        stream.write(text.tobytes().decode("utf-8"))


def table_cells(columns: Mapping[str, np.ndarray]) -> dict[str, Cells]:
    """The CSV cells of equal-length columns; every float column formatted in one pass."""
    columns = {name: np.asarray(column) for name, column in columns.items()}
    floats = [name for name, column in columns.items() if column.dtype.kind == "f"]
    cells = {name: column_cells(column) for name, column in columns.items() if name not in floats}
    if floats:
        n = len(columns[floats[0]])
        numbers = float_cells(np.concatenate([columns[name] for name in floats]))
        cells |= {name: numbers[k * n:(k + 1) * n] for k, name in enumerate(floats)}
    return cells


def column_cells(column: np.ndarray) -> Cells:
    """The CSV cells of one column, as :func:`_cell` would give them one by one.

    Floats, whole numbers and booleans are formatted as whole arrays; text and other objects once
    per distinct value.
    """
    column = np.asarray(column)
    kind = column.dtype.kind
    if kind == "f":
        return float_cells(column)
    if kind == "b":
        return text_cells(["false", "true"])[column.astype(np.intp)]
    if kind in "iu" and (kind == "i" or len(column) == 0 or column.max() < 2**63):
        return integer_cells(column)
    if len(column) == 0:
        return text_cells([])
    if kind == "O":  # text or mixed objects: format each distinct one (of its own type) as it is
        distinct, inverse = _distinct_objects(column)
        return text_cells([_quoted(_cell(v)) for v in distinct])[inverse]
    values, inverse = np.unique(column, return_inverse=True)
    return text_cells([_quoted(_cell(v)) for v in values.tolist()])[inverse.ravel()]


def _distinct_objects(column: np.ndarray) -> tuple[list, np.ndarray]:
    """Each distinct object of a column (1 and True, say, are different) and which each row holds."""
    codes: dict = {}
    try:
        inverse = np.fromiter((codes.setdefault((v.__class__, v), len(codes)) for v in column.tolist()),
                              dtype=np.intp, count=len(column))
    except TypeError:  # something unhashable: one cell each
        return column.tolist(), np.arange(len(column))
    return [value for _, value in codes], inverse


def _quoted(cell: str) -> str:
    """A cell as the csv module writes it with minimal quoting, but for a carriage return, which is
    always quoted (with line feeds as line ends the csv module leaves it bare, and some readers
    take it for a line end)."""
    return '"' + cell.replace('"', '""') + '"' if any(q in cell for q in _NEEDS_QUOTES) else cell


def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def _plain(value):
    """A plain Python value for a numpy scalar (np.str_, np.float64, np.int64, np.bool_)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):
        return str(value)
    return value


def read_csv(path, text: Iterable[str] = ()) -> Table:
    """Read back a CSV written by :meth:`Table.to_csv_text`.

    A column becomes whole numbers if every cell is one, booleans if every cell is true/false, else
    floats if every cell is a number or empty (empty is NaN), else text.  A column that is entirely
    empty is read as NaN unless it is named in ``text``; columns named in ``text`` are always text.
    """
    with open(path, "rb") as raw:
        if raw.seek(0, 2) and (raw.seek(-1, 2), raw.read(1))[1] != b"\n":
            raise ValueError("the last line is cut short (no line end): the file is incomplete")
    with open(path, newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader, [])
        rows = list(reader)
    ragged = next((i for i, row in enumerate(rows) if len(row) != len(header)), None)
    if ragged is not None:  # a file cut short, or not a table: never read it as fewer rows
        raise ValueError(f"row {ragged + 2} has {len(rows[ragged])} cells, the header {len(header)}")
    cells = list(zip(*rows)) or [()] * len(header)
    text = set(text)
    return Table({name: _column(values, name in text) for name, values in zip(header, cells)})


def read_parquet(path, text: Iterable[str] = ()) -> Table:
    """Read back a Parquet file written by :meth:`Table.to_parquet` (needs pyarrow); ``text`` columns as text."""
    import pyarrow.parquet as pq

    arrow, text = pq.read_table(path), set(text)
    columns = {name: arrow[name].to_numpy() for name in arrow.column_names}
    return Table({name: c.astype(object) if name in text or c.dtype.kind in "OU" else c for name, c in columns.items()})


def _column(cells: tuple[str, ...], is_text: bool) -> np.ndarray:
    if is_text:
        return np.array(cells, dtype=object)
    filled = [c for c in cells if c != ""]
    if filled and len(filled) == len(cells) and all(_is_int(c) for c in filled):
        return np.array([int(c) for c in cells])
    if filled and len(filled) == len(cells) and all(c in ("true", "false") for c in filled):
        return np.array([c == "true" for c in cells])
    try:
        return np.array([float(c) if c != "" else math.nan for c in cells], dtype=float)
    except ValueError:
        return np.array(cells, dtype=object)


def _is_int(cell: str) -> bool:
    return cell.lstrip("-").isdigit()
