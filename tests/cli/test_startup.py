"""Start-up: ``--version``, ``--help`` and ``trials`` load no numerical library, and Ctrl-C while the
library loads is one line and status 130 (the handler is in place before any heavy import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
HEAVY = ("numpy", "scipy", "matplotlib", "simpy")

PROBE = """
import contextlib, io, sys
from sim.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main({args!r})
    except SystemExit:
        pass
print(",".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["trials"], ["-q", "trials"]])
def test_starting_loads_no_numerical_library(args):
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)], env=ENV, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1:] in ([], [""]), f"{args} loaded {done.stdout.strip()}"


INTERRUPT_ON_IMPORT = """
import runpy, sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            raise KeyboardInterrupt  # as Ctrl-C while the library loads
        return None
sys.meta_path.insert(0, Interrupt())
sys.argv = ["cartsim", *{args!r}]
runpy.run_module("sim", run_name="__main__")
"""


@pytest.mark.parametrize("module", ["numpy", "scipy", "sim.inputs.params", "sim.cli.main"])
def test_ctrl_c_while_the_library_loads_is_one_line(module, tmp_path):
    done = subprocess.run([sys.executable, "-c", INTERRUPT_ON_IMPORT.format(module=module, args=["run", "cd5_tall"])],
                          env=ENV, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 130, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr and len(lines) == 1 and "interrupted" in lines[0], done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_missing_extra_names_it():
    from sim.cli.extras import extras_providing, missing_dependency

    if not extras_providing("SALib"):
        pytest.skip("the installed metadata lists no extras")
    err = ModuleNotFoundError("No module named 'SALib'", name="SALib")
    assert "pip install 'cartsim[sensitivity]'" in missing_dependency(err)
    assert "reinstall" in missing_dependency(ModuleNotFoundError("x", name="not_a_package_of_ours"))
