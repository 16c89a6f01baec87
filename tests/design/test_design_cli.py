"""``cartsim design`` as a user meets it: its table, its files, and one line for bad input."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, cartsim

SCENARIO = ROOT / "params" / "scenarios" / "cll1_design_boin.toml"


def test_design_prints_the_table_and_writes_every_file(tmp_path):
    out = tmp_path / "out"
    done = cartsim("design", str(SCENARIO), "--design", "3+3,boin", "--trials", "20", "--seed", "3",
                   "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "lambda_e = 0.236" in done.stdout and "duration" in done.stdout
    assert {"oc.csv", "oc_overall.csv", "oc.json", "oc.png", "oc.svg"} <= {p.name for p in out.iterdir()}
    doc = json.loads((out / "oc.json").read_text())
    assert [d["name"] for d in doc["designs"]] == ["3+3", "boin"]
    assert doc["designs"][1]["boundaries"]["lambda_d"] == pytest.approx(0.3585, abs=1e-4)
    assert doc["manifest"]["seed"] == 3 and doc["manifest"]["trials"] == 20
    assert doc["manifest"]["command"][:2] == ["cartsim", "design"]
    rows = (out / "oc.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 4  # header, then 3 levels and 'none' per design


def test_dlt_probabilities_replace_the_model_s(tmp_path):
    out = tmp_path / "out"
    done = cartsim("design", str(SCENARIO), "--trials", "10", "--dlt-probabilities", "0.1,0.2,0.3",
                   "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads((out / "oc.json").read_text())
    assert [row["dlt_chance"] for row in doc["per_dose"][:3]] == [0.1, 0.2, 0.3]


@pytest.mark.parametrize("args, says", [
    (["--dlt-probabilities", "0.1,0.2"], "one rate per dose level"),
    (["--dlt-probabilities", "0.1,x,0.3"], "numbers separated by commas"),
    (["--dlt-probabilities", "0.1,0.2,1.3"], "in [0, 1]"),
    (["--design", "crm"], "unknown design"),
    (["--design", "boin,3+4"], "unknown design"),
])
def test_bad_arguments_give_one_line_and_write_nothing(tmp_path, args, says):
    out = tmp_path / "out"
    done = cartsim("design", str(SCENARIO), "--trials", "5", "--out", str(out), *args, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cartsim: error:") and says in lines[0]
    assert "Traceback" not in done.stderr and not out.exists()
