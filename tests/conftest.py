"""Shared fixtures: the shipped params files, and editable copies of them for bad-input tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.inputs.params import load_params

ROOT = Path(__file__).resolve().parents[1]
PARAMS = {"cd5_tall": ROOT / "params" / "cd5_tall.toml", "cll1_aml": ROOT / "params" / "cll1_aml.toml"}


@pytest.fixture(scope="session")
def cd5():
    return load_params(PARAMS["cd5_tall"])


@pytest.fixture(scope="session")
def cll1():
    return load_params(PARAMS["cll1_aml"])


class ParamsCopy:
    """A copy of a shipped params file (and its seeds file) in a temporary folder, to edit."""

    def __init__(self, folder: Path, trial: str) -> None:
        (folder / "params").mkdir()
        (folder / "seeds").mkdir()
        shutil.copy(ROOT / "seeds" / f"{trial}.toml", folder / "seeds" / f"{trial}.toml")
        self.path = folder / "params" / f"{trial}.toml"
        self.seeds = folder / "seeds" / f"{trial}.toml"
        shutil.copy(PARAMS[trial], self.path)

    @property
    def text(self) -> str:
        return self.path.read_text()

    def replace(self, old: str, new: str, count: int = 1) -> "ParamsCopy":
        """Replace ``old`` (a literal string, which must occur) by ``new``."""
        text = self.text
        assert old in text, f"{old!r} not in the params file"
        self.path.write_text(text.replace(old, new, count))
        return self

    def sub(self, pattern: str, new: str) -> "ParamsCopy":
        text, n = re.subn(pattern, new, self.text, count=1, flags=re.MULTILINE)
        assert n == 1, f"{pattern!r} did not match"
        self.path.write_text(text)
        return self


@pytest.fixture
def cd5_copy(tmp_path) -> ParamsCopy:
    return ParamsCopy(tmp_path, "cd5_tall")


@pytest.fixture
def cll1_copy(tmp_path) -> ParamsCopy:
    return ParamsCopy(tmp_path, "cll1_aml")


SCENARIO_HEAD = 'base = "{base}"\ntitle = "a test scenario"\ndescription = "what it asks"\n'


def write_scenario(folder: Path, body: str, trial: str = "cll1_aml", head: str = SCENARIO_HEAD, name: str = "what_if") -> Path:
    """A scenario file in ``folder`` on a shipped params file (by absolute path), with ``body`` after the header."""
    path = folder / f"{name}.toml"
    path.write_text(head.format(base=PARAMS[trial].as_posix()) + body)
    return path


def cartsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m sim ARGS`` in a subprocess from folder ``cwd``."""
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(autouse=True)
def default_ctrl_c():
    """Each test starts with Python's own Ctrl-C handler.  Something run earlier in the suite can leave SIGINT
    ignored in this process (and a child inherits an ignored signal), which would make the interrupt tests
    pass or fail by test order instead of by the code under test."""
    import signal

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


@pytest.fixture(scope="session")
def synthesis():
    """A small evidence synthesis whose 'draws' are points near the hierarchy's start: for tests that need its
    shape, not a converged fit."""
    import numpy as np

    from sim.analyses.synthesis.fit import build_hierarchy, synthesis_from_sample
    from sim.inputs.series import load_all_series
    from sim.inputs.trial_catalog import shipped_trials

    series = load_all_series(None)
    shipped = [load_params(path) for path in shipped_trials().values()]
    hierarchy, _ = build_hierarchy(series, shipped, shipped[0], 5, 0)
    theta = hierarchy.start(np.random.default_rng(0), 40).reshape(20, 2, hierarchy.ndim)
    return synthesis_from_sample(series, shipped, shipped[0], theta, 10, 0, hierarchy.centred, 5, 0)


@pytest.fixture(scope="session")
def synthesis_with_inputs():
    """As ``synthesis``, with the band shapes and patient factors sampled (``--sample-inputs``): points spread
    about their start, so each input's draws vary."""
    import numpy as np

    from sim.analyses.synthesis.fit import build_hierarchy, synthesis_from_sample
    from sim.inputs.series import load_all_series
    from sim.inputs.trial_catalog import shipped_trials

    series = load_all_series(None)
    shipped = [load_params(path) for path in shipped_trials().values()]
    hierarchy, _ = build_hierarchy(series, shipped, shipped[0], 5, 0, sample_inputs=True)
    theta = hierarchy.start(np.random.default_rng(1), 40).reshape(20, 2, hierarchy.ndim)
    return synthesis_from_sample(series, shipped, shipped[0], theta, 10, 0, hierarchy.centred, 5, 0,
                                 sample_inputs=True)
