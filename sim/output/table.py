"""A small column table (a dict of equal-length numpy arrays) that writes CSV a spreadsheet opens."""

from __future__ import annotations

import csv
import io
import math
from typing import Iterable, Mapping

import numpy as np


class Table:
    """Columns by name, all the same length; ``to_pandas()`` when pandas is installed."""

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
        return [dict(zip(self.columns, values)) for values in zip(*self.columns.values())]

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self.columns)

    def to_csv_text(self) -> str:
        """CSV with a header; missing numbers as empty cells, booleans as true/false."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for values in zip(*self.columns.values()):
            writer.writerow([_cell(v) for v in values])
        return out.getvalue()

    @staticmethod
    def concat(tables: list["Table"]) -> "Table":
        if not tables:
            return Table({})
        return Table({name: np.concatenate([t[name] for t in tables]) for name in tables[0].names})


def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


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
