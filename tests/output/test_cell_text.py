"""Cells as bytes: every float's text is repr's, every integer's str's, whichever path formatted it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.output.cell_text import csv_bytes, float_cells, integer_cells, text_cells
from sim.output.shortest_digits import shortest_digits


def reprs(values: np.ndarray) -> list[str]:
    return ["" if np.isnan(v) else repr(v) for v in values.tolist()]


def awkward_floats(rng: np.random.Generator) -> np.ndarray:
    """Numbers from every path: random bit patterns, times in days, round numbers, ties, powers of
    two and ten and their neighbours, the edges of fixed notation, zeros, NaN and infinities."""
    bits = rng.integers(0, 2**63, 200_000, dtype=np.uint64).view(np.float64)
    powers_of_ten = 10.0 ** np.arange(-8, 20)
    parts = [
        bits[np.isfinite(bits)], -bits[np.isfinite(bits)][:1000],
        rng.lognormal(3, 1, 200_000), rng.lognormal(0, 8, 100_000), rng.uniform(1e-4, 1e15, 50_000),
        np.round(rng.uniform(0, 1000, 50_000), 2), np.round(rng.uniform(0, 1e6, 10_000)), rng.integers(0, 2**53, 10_000) * 1.0,
        2.0 ** np.arange(-30, 60), powers_of_ten, np.nextafter(powers_of_ten, 0), np.nextafter(powers_of_ten, np.inf),
        np.array([0.5, 2.5, 0.125, 1 / 3, 2 / 3, 0.1 + 0.2, 1e15 - 1, 999999999999999.9, 9.999999999999999e-05,
                  0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]),
        rng.integers(2**53, 10**16, 10_000).astype(float) / 10.0 ** rng.integers(0, 20, 10_000),  # 16 digits above 2**53
    ]
    return np.concatenate(parts)


def test_float_cells_are_repr_on_every_path():
    values = awkward_floats(np.random.default_rng(7))
    got = float_cells(values).texts()
    wrong = [(w, g) for w, g in zip(reprs(values), got) if w != g]
    assert not wrong, wrong[:5]


def test_float_cells_keep_rows_in_place_when_some_need_repr():
    values = np.array([0.0, 27.194153891234561, 0.0, -0.0, 1.0, 45.5, np.nan, 1e-05, 3.0])
    assert float_cells(values).texts() == reprs(values)
    assert float_cells(values[values > 1]).texts() == reprs(values[values > 1])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=40))
def test_float_cells_match_repr_for_any_floats(values):
    values = np.array(values, dtype=float)
    assert float_cells(values).texts() == reprs(values)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.integers(min_value=-2**63, max_value=2**63 - 1), min_size=1, max_size=40))
def test_integer_cells_match_str(values):
    assert integer_cells(np.array(values, dtype=np.int64)).texts() == [str(v) for v in values]


def test_csv_rows_join_cells_with_commas():
    columns = [integer_cells(np.array([1, -20])), float_cells(np.array([np.nan, 2.5])), text_cells(["a", "bc"])]
    assert csv_bytes(columns) == b"1,,a\n-20,2.5,bc\n"


def test_every_power_of_two_in_range_is_settled_by_the_arithmetic():
    powers = 2.0 ** np.arange(-13, 50)  # all of them from 1e-4 to 1e15
    m, decimals, settled = shortest_digits(powers)
    assert settled.all()
    values = np.concatenate([powers, [0.0, -0.0, 3.5, 0.0]])
    assert float_cells(values).texts() == reprs(values)
