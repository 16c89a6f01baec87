"""``cartsim evidence --write-shipped``: a shipped trial's params file and its joint draws are replaced
together, or neither is."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sim.analyses.synthesis.shipped import pooled_draws, write_pooled
from sim.inputs.params import load_params
from sim.inputs.posterior_draws import draws_paths, load_draws
from sim.inputs.trial_catalog import shipped_trials

TRIAL = "cd5_tall"


@pytest.fixture()
def copy(tmp_path) -> Path:
    """The shipped trial's params, draws and seeds files in a folder laid out as the repository's."""
    source = shipped_trials()[TRIAL]
    params = load_params(source)
    (tmp_path / "params").mkdir()
    for path in (source, *draws_paths(source)):
        shutil.copy(path, tmp_path / "params" / Path(path).name)
    seeds = tmp_path / "params" / params.text["trial.seeds"]
    seeds.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(params.seeds.path, seeds)
    return tmp_path / "params" / Path(source).name


def test_the_params_file_and_its_draws_are_rewritten_together(synthesis, copy):
    write_pooled(load_params(copy), synthesis)
    written = load_params(copy)
    draws = load_draws(copy)
    expected = pooled_draws(synthesis, TRIAL)
    for path, sample in expected.items():
        assert written[path] == pytest.approx(np.median(sample), rel=1e-3)  # the entry: the draws' median
        assert written.entries[path].source == "calibration"
        column = draws.values[:, list(draws.names).index(path)]
        np.testing.assert_allclose(column, sample)
        assert draws.fitted[path] == written[path]  # the provenance records the value now in the file


def test_a_failure_while_staging_the_draws_leaves_every_file_as_it_was(synthesis, copy, monkeypatch):
    before = {p.name: p.read_bytes() for p in copy.parent.iterdir()}
    from sim.output.staged_files import StagedFiles

    put = StagedFiles.put

    def failing_put(self, target, text):
        if Path(target).suffix == ".json":
            raise OSError(28, "No space left on device")
        return put(self, target, text)

    monkeypatch.setattr(StagedFiles, "put", failing_put)
    with pytest.raises(OSError):
        write_pooled(load_params(copy), synthesis)
    assert {p.name: p.read_bytes() for p in copy.parent.iterdir()} == before
