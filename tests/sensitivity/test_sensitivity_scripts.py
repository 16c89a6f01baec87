"""The worked sensitivity scripts in scripts/ run end to end at a small size, as users will copy them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from conftest import PARAMS, ROOT

SCRIPTS = {
    "sensitivity_psa": ["--draws", "12", "--inner", "2", "--workers", "2"],
    "sensitivity_tornado": ["--params", str(PARAMS["cll1_aml"]), "--inner", "2", "--workers", "1"],
    "sensitivity_sobol": ["--samples", "4", "--inner", "2", "--workers", "1"],
    "sensitivity_morris": ["--trajectories", "2", "--top", "2", "--samples", "4", "--inner", "2", "--workers", "1"],
    "sensitivity_dask": ["--draws", "8", "--inner", "2", "--workers", "2", "--threads"],
}


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_script_runs_end_to_end(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # the scripts' default params paths are relative to the repository
    args = SCRIPTS[name] + ["--out", str(tmp_path)]
    if "--params" not in args and name != "sensitivity_tornado":
        args += ["--params", str(PARAMS["cd5_tall"])]
    load_script(name).main(args)
    assert "wrote" in capsys.readouterr().out or name == "sensitivity_dask"
    assert any(tmp_path.rglob("*.json")) and any(tmp_path.rglob("*.png"))


def test_a_script_runs_as_a_program():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "sensitivity_psa.py"), "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--draws" in done.stdout
