"""The benchmark command: every measure printed, and repeated timings keep the fastest."""

from __future__ import annotations

import time

from conftest import ROOT, cartsim
from sim.checks.benchmark import _timed


def test_repeated_timings_keep_the_fastest():
    pauses = iter([0.05, 0.0, 0.03])

    def work():
        time.sleep(next(pauses))
        return "done"

    seconds, result = _timed(work, repeat=3)
    assert seconds < 0.02 and result == "done"


def test_bench_prints_every_ratio_against_its_target(tmp_path):
    done = cartsim("bench", str(ROOT / "params" / "cd5_tall.toml"), "--patients", "200", "--psa-draws", "2",
                   "--psa-patients", "50", "--repeat", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "fastest of 2" in done.stdout
    for ratio in ("run end to end / cohort engine", "parameter uncertainty / base",
                  "sensitivity evaluations / cohort engine", "SimPy engine / floor"):
        assert ratio in done.stdout and "target" in done.stdout.split(ratio)[1].splitlines()[0], ratio
