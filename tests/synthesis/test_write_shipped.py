"""``cartsim evidence --write-shipped``: a shipped trial's params file and its joint draws are replaced
together, or neither is."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sim.analyses.synthesis.nuisance import nuisance_of, smooth_nuisance
from sim.analyses.synthesis.shipped import DRAWS, PRIOR_NOTE, input_draws, jointly_calibrated, pooled_draws, write_pooled
from sim.cli.main import main
from sim.inputs.params import load_params
from sim.inputs.posterior_draws import draws_paths, joint_paths, load_draws
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


def test_sampled_inputs_become_calibrated_entries_that_keep_their_prior(synthesis_with_inputs, copy):
    before = load_params(copy)
    inputs = input_draws(synthesis_with_inputs, before)
    assert len(inputs) == len(smooth_nuisance(before))  # the shipped trial reads every input it states
    priors = {path: nuisance_of(before, path).stated for path in inputs}
    write_pooled(before, synthesis_with_inputs)
    written, draws = load_params(copy), load_draws(copy)
    for path, sample in inputs.items():
        entry = written.entries[path]
        assert entry.source == "calibration" and written[path] == pytest.approx(np.median(sample), rel=1e-3)
        assert repr(entry.prior) == priors[path]  # the prior it was sampled under, kept
        assert nuisance_of(written, path).stated == priors[path]  # and what the next fit samples under
        np.testing.assert_allclose(draws.values[:, list(draws.names).index(path)], sample)
    levels = pooled_draws(synthesis_with_inputs, TRIAL)
    for path, sample in levels.items():  # the levels' draws in the same rows: one joint draw per row
        np.testing.assert_allclose(draws.values[:, list(draws.names).index(path)], sample)
    assert set(inputs) | set(levels) <= set(joint_paths(written, draws))  # a run draws them together


def test_a_second_joint_write_keeps_the_first_prior_and_its_reason(synthesis_with_inputs, copy):
    path = "late.relapse_shape_3"
    first = load_params(copy).entries[path]
    stated = first.note.split(PRIOR_NOTE, 1)[-1]
    write_pooled(load_params(copy), synthesis_with_inputs)
    write_pooled(load_params(copy), synthesis_with_inputs)
    entry = load_params(copy).entries[path]
    assert entry.note.count(PRIOR_NOTE) == 1 and entry.note.endswith(PRIOR_NOTE + stated)
    assert repr(entry.prior) == repr(first.prior if first.prior is not None else first.uncertainty)


def test_a_fit_that_held_the_inputs_may_not_rewrite_jointly_calibrated_ones(synthesis_with_inputs, copy, tmp_path,
                                                                              capsys, monkeypatch):
    write_pooled(load_params(copy), synthesis_with_inputs)
    assert jointly_calibrated(load_params(copy))
    monkeypatch.setattr("sim.cli.evidence.shipped_trials", lambda: {TRIAL: copy})
    monkeypatch.setattr("sim.analyses.synthesis.fit.fit_synthesis", _no_fit)
    assert main(["evidence", "--write-shipped", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--sample-inputs" in err and "late." in err
    assert not (tmp_path / "out").exists()


def _no_fit(*args, **kwargs):
    raise AssertionError("the fit ran although its result could not be written")


def test_a_rewrite_keeps_every_draw_of_the_columns_it_does_not_fit(synthesis, copy):
    before = load_draws(copy)
    others = [name for name in before.names if name not in pooled_draws(synthesis, TRIAL)]
    assert others and before.values.shape[0] == DRAWS  # the shipped file: the progression hazard, 1000 draws
    write_pooled(load_params(copy), synthesis)
    after = load_draws(copy)
    for name in others:  # as they were, row for row: the fit never saw them (a second write changes nothing)
        np.testing.assert_array_equal(after.values[:, after.names.index(name)],
                                      before.values[:, before.names.index(name)])


def test_writing_the_same_fit_twice_changes_no_byte(synthesis_with_inputs, copy):
    """A second --write-shipped of the same draws rewrites the params file and its draws as they already are."""
    files = (copy, *draws_paths(copy))
    write_pooled(load_params(copy), synthesis_with_inputs)
    first = [Path(p).read_bytes() for p in files]
    write_pooled(load_params(copy), synthesis_with_inputs)
    assert [Path(p).read_bytes() for p in files] == first
