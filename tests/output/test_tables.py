"""Tables: what is written reads back exactly; streamed runs equal runs kept in memory."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.runs.runner import run_trials
from sim.output.run_files import PATIENT_TEXT, PatientStream, read_table
from sim.table import Table, read_csv
from sim.stats.facilities import facility_metrics, facility_metrics_rows, row_sum


def assert_same_table(back: Table, table: Table) -> None:
    """Same names, and every column the same values: floats bit for bit (any NaN for NaN), text as text."""
    assert back.names == table.names
    for name in table.names:
        got, want = back[name], table[name]
        assert len(got) == len(want), name
        if want.dtype.kind == "f":
            assert got.dtype.kind == "f", name
            nan = np.isnan(want)
            assert np.array_equal(np.isnan(got), nan), name
            assert np.array_equal(got[~nan].view(np.uint64), want[~nan].view(np.uint64)), name  # -0.0 is not 0.0
        else:
            assert got.dtype.kind == want.dtype.kind or (got.dtype.kind, want.dtype.kind) == ("O", "U"), name
            assert got.tolist() == want.tolist(), name


def written_and_read(table: Table, tmp_path, text=()) -> Table:
    path = tmp_path / "table.csv"
    path.write_bytes(table.to_csv_text().encode("utf-8"))
    return read_csv(path, text)


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


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_run_reads_back_as_the_numbers_it_holds(cd5, tmp_path, fmt):
    """The files a run writes hold the same numbers as the run in memory, bit for bit: patients and
    events (streamed a batch at a time), and the per-trial table."""
    held = run_trials(cd5, trials=300, seed=2)  # more than one batch of trials
    stream = PatientStream(tmp_path, fmt)
    streamed = run_trials(cd5, trials=300, seed=2, stream=stream)
    stream.close()
    streamed.write(tmp_path, command=["x"], fmt=fmt)
    assert_same_table(read_table(tmp_path / f"patients.{fmt}", PATIENT_TEXT), held.patients)
    assert_same_table(read_table(tmp_path / f"events.{fmt}", ("event",)), held.events)
    assert_same_table(read_csv(tmp_path / "trials.csv"), held.trials)


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


FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)  # -0.0, 5e-324, 1.8e308
TEXT = st.text(st.characters(), max_size=8) | st.sampled_from(['a,b', 'say "hi"', "two\nlines", "cr\rhere", "\r\n",
                                                             "", " ", "1", "-0.0", "NaN", "true", "null", "a\0b"])


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.integers(min_value=1, max_value=12).flatmap(lambda n: st.tuples(
    st.lists(FLOATS, min_size=n, max_size=n),
    st.lists(st.integers(min_value=-2**63, max_value=2**63 - 1), min_size=n, max_size=n),
    st.lists(st.booleans(), min_size=n, max_size=n),
    st.lists(TEXT, min_size=n, max_size=n))))
def test_any_table_reads_back_exactly(tmp_path_factory, columns):
    """Floats of every magnitude (subnormal, huge, negative zero; NaN is an empty cell and reads back as
    NaN; infinities as inf), whole numbers, booleans and any text (quotes, commas, line ends) come back
    as they were written, as CSV and as Parquet."""
    floats, integers, booleans, texts = columns
    table = Table({"x": np.array(floats, dtype=float), "n": np.array(integers, dtype=np.int64),
                   "ok": np.array(booleans), "text": np.array(texts, dtype=object)})
    folder = tmp_path_factory.mktemp("table")
    assert_same_table(written_and_read(table, folder, ("text",)), table)
    table.to_parquet(folder / "table.parquet")
    assert_same_table(read_table(folder / "table.parquet", ("text",)), table)


def test_a_cell_is_quoted_only_when_it_must_be_and_the_csv_module_reads_it():
    table = Table({"text": np.array(["a\rb", "c,d", 'e"f', "", "g"], dtype=object), "x": np.array([1.5, np.nan, -0.0,
                                                                                              1e-300, 2.0])})
    text = table.to_csv_text()
    assert text.startswith('text,x\n"a\rb",1.5\n"c,d",\n"e""f",-0.0\n""')
    assert list(csv.reader(io.StringIO(text, newline="")))[1:3] == [["a\rb", "1.5"], ["c,d", ""]]


def test_a_file_cut_short_is_refused(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("a,b\n1,2\n3,")
    with pytest.raises(ValueError, match="cut short"):
        read_csv(path)
