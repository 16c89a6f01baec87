"""Tables: column-wise CSV equals the csv module's cell by cell; streamed runs equal runs kept in memory."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.runs.runner import run_trials
from sim.output.run_files import PatientStream
from sim.table import Table, read_csv
from sim.stats.facilities import facility_metrics, facility_metrics_rows, row_sum


def csv_module_text(table: Table) -> str:
    """The reference: one csv.writer row per table row, each cell formatted on its own."""
    def cell(v):
        if isinstance(v, (bool, np.bool_)):
            return "true" if v else "false"
        if isinstance(v, (float, np.floating)):
            return "" if math.isnan(v) else repr(float(v))
        return str(int(v)) if isinstance(v, np.integer) else str(v)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for values in zip(*table.columns.values()):
        writer.writerow([cell(v) for v in values])
    return out.getvalue()


def test_csv_cells_equal_the_csv_module_on_awkward_values():
    rng = np.random.default_rng(1)
    floats = np.concatenate([rng.lognormal(0, 8, 40), [np.nan, 0.0, -0.0, 1e16, 1e-7, np.inf, -np.inf, 1 / 3]])
    n = len(floats)
    table = Table({"x": floats, "n": rng.integers(-5, 10**12, n), "ok": rng.random(n) < 0.5,
                   "text": np.array(["a", "b,c", 'say "hi"', "", "line\nbreak", " pad "] * 8)[:n],
                   "mixed": np.array([np.nan, "x", 3, True] * 12, dtype=object)[:n]})
    assert table.to_csv_text() == csv_module_text(table)
    repeated = Table({"x": np.array([0.0, -0.0, 2.5, 2.5, 2.5, 0.0, np.nan]), "y": np.arange(7)})
    assert repeated.to_csv_text() == csv_module_text(repeated)
    one = Table({"only": np.array(["", "a"])})
    assert one.to_csv_text() == csv_module_text(one)
    nul = Table({"text": np.array(["a\0b", "c"], dtype=object), "x": np.array([1.5, np.nan])})
    assert nul.to_csv_text() == csv_module_text(nul)


def test_a_streamed_run_writes_what_a_run_in_memory_writes(cd5, tmp_path):
    kept = run_trials(cd5, trials=300, seed=2)  # more than one batch of trials
    kept.write(tmp_path / "kept", command=["x"])
    stream = PatientStream(tmp_path / "streamed")
    streamed = run_trials(cd5, trials=300, seed=2, stream=stream)
    stream.close()
    streamed.write(tmp_path / "streamed", command=["x"])
    for name in ("patients.csv", "events.csv", "trials.csv", "facilities.csv", "summary.csv"):
        assert (tmp_path / "kept" / name).read_bytes() == (tmp_path / "streamed" / name).read_bytes(), name
    assert len(streamed.patients) == len(kept.patients)


def test_parquet_holds_the_same_tables(cd5, tmp_path):
    pytest.importorskip("pyarrow")
    from sim.output.run_files import read_table

    results = run_trials(cd5, trials=20, seed=2)
    results.write(tmp_path, command=["x"], fmt="parquet")
    back = read_table(tmp_path / "patients.parquet", ("final_state",))
    assert back.names == results.patients.names
    np.testing.assert_array_equal(back["t_infusion"], results.patients["t_infusion"])
    assert back["final_state"].tolist() == results.patients["final_state"].tolist()


def test_facility_metrics_of_a_batch_equal_each_trial_alone():
    rng = np.random.default_rng(4)
    requested = rng.uniform(0, 100, (30, 12))
    start = requested + rng.exponential(5, (30, 12))
    start[rng.random((30, 12)) < 0.2] = np.nan
    end = start + rng.exponential(20, (30, 12))
    horizon, capacity = rng.uniform(50, 150, 30), np.full(30, 3.0)
    rows = facility_metrics_rows((requested, start, end), capacity, horizon)
    for r in range(30):
        alone = facility_metrics((requested[r], start[r], end[r]), 3.0, horizon[r])
        assert {k: v[r] for k, v in rows.items()} == pytest.approx(alone, nan_ok=True, rel=0, abs=0)
        seen = start[r] <= horizon[r]  # the definition, written out for one trial
        waits, s, e = (start[r] - requested[r])[seen], start[r][seen], np.minimum(end[r], horizon[r])[seen]
        occupied = np.clip(e - s, 0, None).sum()
        steps = np.concatenate([np.ones(len(s)), -np.ones(len(e))])[np.lexsort((np.r_[np.ones(len(s)), -np.ones(len(e))],
                                                                                 np.r_[s, e]))]
        assert alone == {"uses": float(seen.sum()), "mean_wait_days": waits.mean(), "max_wait_days": waits.max(),
                         "occupied_days": occupied, "mean_occupancy": occupied / horizon[r],
                         "utilisation": occupied / (3.0 * horizon[r]), "peak_occupancy": np.cumsum(steps).max()}


@pytest.mark.parametrize("width", [1, 7, 8, 9, 40, 128, 200])
def test_row_sums_equal_numpy_sums_to_the_bit(width):
    rng = np.random.default_rng(width)
    values, keep = rng.lognormal(0, 3, (50, width)), rng.random((50, width)) < 0.7
    assert row_sum(values, keep).tolist() == [float(np.sum(v[k])) for v, k in zip(values, keep)]


def test_results_read_back_what_was_written(cd5, tmp_path):
    results = sim.run_trials(cd5, trials=5, seed=1)
    results.write(tmp_path, command=["x"])
    back = read_csv(tmp_path / "trials.csv")
    np.testing.assert_array_equal(back["os_12m"], results.trials["os_12m"])


TEXT = st.text(st.characters(exclude_characters="\r"), max_size=6)  # a carriage return: see below


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.integers(min_value=1, max_value=12).flatmap(lambda n: st.tuples(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n),
    st.lists(st.integers(min_value=-2**63, max_value=2**63 - 1), min_size=n, max_size=n),
    st.lists(st.booleans(), min_size=n, max_size=n),
    st.lists(TEXT, min_size=n, max_size=n))))
def test_any_table_is_written_as_the_csv_module_writes_it(columns):
    floats, integers, booleans, texts = columns
    table = Table({"x": np.array(floats, dtype=float), "n": np.array(integers, dtype=np.int64),
                   "ok": np.array(booleans), "text": np.array(texts, dtype=object)})
    assert table.to_csv_text() == csv_module_text(table)


def test_a_carriage_return_is_quoted_unlike_the_csv_module():
    """With line feeds as line ends the csv module leaves a lone carriage return bare, which some
    readers take for a line end; these tables quote it."""
    table = Table({"text": np.array(["a\rb", "c"], dtype=object), "n": np.array([1, 2])})
    assert table.to_csv_text() == 'text,n\n"a\rb",1\nc,2\n'
    assert read_csv_text(table.to_csv_text()) == [["text", "n"], ["a\rb", "1"], ["c", "2"]]


def read_csv_text(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))
