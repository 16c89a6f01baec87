"""Streaming and resuming: an interrupted run continues with --resume, losing no finished evaluation and
repeating none, and ends with exactly the results of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.sensitivity import PoolBackend, run_psa, run_sobol
from sim.sensitivity.store import LOG, STATE

from conftest import PARAMS, ROOT

OUTCOMES = ("os_12m", "cr_rate")


class StopAfter:
    """A progress callback that raises KeyboardInterrupt (as Ctrl-C would) once ``count`` evaluations are done."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __call__(self, done: int, total: int) -> None:
        if done >= self.count:
            raise KeyboardInterrupt


def log_indices(folder: Path) -> list[int]:
    return [json.loads(line)["index"] for line in (folder / LOG).read_text().splitlines()]


def assert_same_tables(a, b) -> None:
    for name, table in a.tables().items():
        assert table.to_csv_text() == b.tables()[name].to_csv_text(), name


def psa(params, out, **options):
    return run_psa(params, draws=60, inner=3, seed=4, outcomes=OUTCOMES, out=out, **options)


def test_a_psa_interrupted_then_resumed_equals_an_uninterrupted_one(cd5, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        psa(cd5, tmp_path / "run", progress=StopAfter(20))
    saved = log_indices(tmp_path / "run")
    assert 20 <= len(saved) < 60
    resumed = psa(cd5, tmp_path / "run", resume=True)
    assert resumed.info.resumed == len(saved)
    indices = log_indices(tmp_path / "run")
    assert sorted(indices) == list(range(60))  # every draw once: none lost, none repeated
    assert_same_tables(resumed, psa(cd5, tmp_path / "whole"))


def test_a_sobol_run_interrupted_twice_and_resumed_on_a_pool_equals_a_serial_one(cd5, tmp_path):
    def sobol(**options):
        return run_sobol(cd5, inputs=["late.relapse_hazard", "crs.incidence"], samples=16, inner=2, seed=2,
                         outcomes=OUTCOMES, resamples=100, out=tmp_path / "run", **options)
    with pytest.raises(KeyboardInterrupt):
        sobol(progress=StopAfter(10))
    with pytest.raises(KeyboardInterrupt):
        sobol(resume=True, progress=StopAfter(40))
    resumed = sobol(resume=True, backend=PoolBackend(2))
    assert sorted(log_indices(tmp_path / "run")) == list(range(16 * 5))
    whole = run_sobol(cd5, inputs=["late.relapse_hazard", "crs.incidence"], samples=16, inner=2, seed=2,
                      outcomes=OUTCOMES, resamples=100)
    assert_same_tables(resumed, whole)


def test_a_line_cut_short_by_a_kill_is_dropped_and_evaluated_again(cd5, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        psa(cd5, tmp_path, progress=StopAfter(10))
    saved = len(log_indices(tmp_path))
    with open(tmp_path / LOG, "a") as log:
        log.write('{"index": 59, "inputs": {"crs.inc')  # the write a kill interrupted
    resumed = psa(cd5, tmp_path, resume=True)
    assert resumed.info.resumed == saved
    assert sorted(log_indices(tmp_path)) == list(range(60))
    assert_same_tables(resumed, psa(cd5, tmp_path / "whole"))


def test_an_unfinished_run_is_not_overwritten_without_resume(cd5, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        psa(cd5, tmp_path, progress=StopAfter(10))
    with pytest.raises(InputError, match="unfinished run.*--resume"):
        psa(cd5, tmp_path)


def test_a_run_is_resumed_only_with_the_same_settings(cd5, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        psa(cd5, tmp_path, progress=StopAfter(10))
    with pytest.raises(InputError, match="inner was 3, now 4"):
        run_psa(cd5, draws=60, inner=4, seed=4, outcomes=OUTCOMES, out=tmp_path, resume=True)
    with pytest.raises(InputError, match="params_fingerprint"):
        psa(cd5.with_values({"crs.incidence": 0.5}), tmp_path, resume=True)


def test_a_finished_run_is_started_over_without_resume_and_only_rewritten_with_it(cd5, tmp_path):
    first = psa(cd5, tmp_path)
    first.write(tmp_path, plots=False)
    assert json.loads((tmp_path / STATE).read_text())["status"] == "complete"
    again = psa(cd5, tmp_path, resume=True)  # nothing left to evaluate
    assert again.info.resumed == 60 and len(log_indices(tmp_path)) == 60
    assert_same_tables(again, first)
    fresh = psa(cd5, tmp_path)
    assert fresh.info.resumed == 0 and len(log_indices(tmp_path)) == 60
    assert_same_tables(fresh, first)


def test_a_killed_command_resumes_to_the_uninterrupted_result(cd5, tmp_path):
    """SIGKILL the command line part-way, then run the same command with --resume."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "sim", "sensitivity", "psa", str(PARAMS["cd5_tall"]), "--draws", "300",
               "--inner", "2", "--seed", "6", "--outcomes", ",".join(OUTCOMES), "--workers", "1", "--out", str(out)]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if (out / LOG).is_file() and len((out / LOG).read_bytes().splitlines()) >= 64:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    killed_at = len((out / LOG).read_bytes().splitlines())
    assert killed_at < 300
    done = subprocess.run(command + ["--resume"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"resumed from {out}" in done.stdout
    assert sorted(log_indices(out)) == list(range(300))
    whole = run_psa(cd5, draws=300, inner=2, seed=6, outcomes=OUTCOMES)
    assert (out / "psa_draws.csv").read_text() == whole.draws_table().to_csv_text()
    assert (out / "psa_summary.csv").read_text() == whole.summary_table().to_csv_text()


def test_fresh_starts_an_unfinished_run_again(cd5, tmp_path, capsys):
    """Without --resume or --fresh an unfinished run is refused in CLI words; --fresh discards it and runs."""
    from sim.cli.main import main

    with pytest.raises(KeyboardInterrupt):
        psa(cd5, tmp_path / "run", progress=StopAfter(5))
    command = ["sensitivity", "psa", str(PARAMS["cd5_tall"]), "--draws", "12", "--inner", "2", "--out",
               str(tmp_path / "run"), "--outcomes", ",".join(OUTCOMES)]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--fresh" in err and "resume=True" not in err
    assert main([*command, "--fresh"]) == 0
    assert "--fresh: the unfinished run" in capsys.readouterr().err
    assert len(log_indices(tmp_path / "run")) == 12  # every evaluation of the new run, none of the old
