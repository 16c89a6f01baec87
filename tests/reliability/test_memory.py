"""Memory bounded by design: commands at their size limits finish under a cap on their address space.

Each case runs ``cartsim`` in a subprocess whose address space is capped (``RLIMIT_AS``), at the
largest size a user may ask for where that size is cheap in time (a dose-finding trial's
``max_sample_size``, a draws file at its size limit), or just above a limit (refused before
anything is allocated).  docs/reliability.md states each command's ceiling.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_corpus import copy_trial  # noqa: E402
from cli_runs import one_line  # noqa: E402
from test_faults import ENV  # noqa: E402

from sim.inputs.design_settings import MAX_SAMPLE_SIZE
from sim.inputs.posterior_draws import MAX_DRAWS_BYTES, draws_csv_text, draws_paths, provenance_text

resource = pytest.importorskip("resource")  # POSIX only
CAP = 2 * 1024 ** 3  # bytes of address space: the interpreter with numpy, scipy and matplotlib needs about 1 GiB


def capped(*args: str, cwd: Path, cap: int = CAP):
    import subprocess

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    env = {**ENV, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          preexec_fn=limit, timeout=900)


@pytest.mark.slow
def test_design_at_the_largest_sample_size_stays_under_the_cap(tmp_path):
    params = copy_trial(tmp_path, "cll1_aml")
    params.write_text(params.read_text() + f'\n[design]\nname = "boin"\nmax_sample_size = {{ value = {MAX_SAMPLE_SIZE}, '
                      'source = "scenario", note = "the largest allowed" }\n')
    done = capped("design", str(params), "--trials", "40", "--out", str(tmp_path / "out"), "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_a_draws_file_at_its_size_limit_is_read_under_the_cap(tmp_path):
    params = copy_trial(tmp_path)
    from sim.inputs.params import load_params

    names = ("late.relapse_hazard", "late.infection_death_hazard")
    loaded = load_params(params)
    rows = int(MAX_DRAWS_BYTES * 0.95 / (len(names) * 24 + 8))  # about 24 bytes a value as calibrate writes them
    values = np.random.default_rng(0).uniform(1e-4, 2e-3, size=(rows, len(names)))
    text = draws_csv_text(names, values)
    assert len(text.encode()) <= MAX_DRAWS_BYTES
    csv_path, json_path = draws_paths(params)
    csv_path.write_text(text)
    json_path.write_text(provenance_text(text, csv_path.name, {n: float(loaded[n]) for n in names},
                                         {"converged": True}, {}))
    done = capped("run", str(params), "--trials", "20", "--parameter-uncertainty", "--out", str(tmp_path / "out"), "-q",
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("args", [("validate", "cd5_tall", "--trials", "4294967296"),
                                  ("run", "cd5_tall", "--trials", "1000001"),
                                  ("compare", "cll1_aml", "cll1_dose_a", "--inner", "4294967296"),
                                  ("sensitivity", "psa", "cd5_tall", "--draws", "4294967296")])
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the cap is set in the child before it starts")
def test_a_size_above_its_limit_is_refused_under_the_cap_before_anything_is_allocated(tmp_path, args):
    done = capped(*args, cwd=tmp_path, cap=CAP // 2)
    assert done.returncode == 2, done.stderr
    assert "must be <=" in one_line(done.stderr) and list(tmp_path.iterdir()) == []
