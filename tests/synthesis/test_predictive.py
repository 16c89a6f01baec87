"""The robust predictive: its mixture, and the PREDICTED entries and draws a new trial gets from it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from scipy import stats

from sim.analyses.synthesis.files import Predictive
from sim.analyses.synthesis.hierarchy import CAUSES
from sim.analyses.synthesis.new_trial import predicted_draws_texts, predicted_text
from sim.analyses.synthesis.predictive import ROBUST_WEIGHT, robust_log_levels
from sim.cli.new import design_facts, new_params_text
from sim.inputs.params import load_params
from sim.inputs.posterior_draws import joint_paths
from sim.model.late_bands import level_path
from tests.conftest import ROOT


def test_the_vague_component_takes_its_weight():
    rng = np.random.default_rng(5)
    map_draws = np.zeros((20000, 3))  # a point mass: every draw that moved came from the vague component
    robust = robust_log_levels(map_draws, rng)
    share = np.mean(robust != 0.0)
    se = np.sqrt(ROBUST_WEIGHT * (1 - ROBUST_WEIGHT) / robust.size)
    assert share == pytest.approx(ROBUST_WEIGHT, abs=4 * se)  # 4 binomial SEs


def fake_predictive() -> Predictive:
    rng = np.random.default_rng(1)
    draws = {c: np.exp(np.log(1e-3) + 0.8 * rng.standard_normal(2000)) for c in CAUSES}
    record = {"trials": {"lineage_depleting": ["cd5_tall", "cll1_aml", "x"]}, "series": 9,
              "tau": {c: [1.0, 0.3, 2.0] for c in CAUSES}, "robust_weight": 0.2, "vague_sd_log": 2.0,
              "diagnostics": {"converged": True}}
    return Predictive("lineage_depleting", draws, record)


def test_predicted_entries_are_marked_and_taken_jointly(tmp_path):
    for folder in ("params", "seeds"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.posterior.*", "evidence"))
    path = tmp_path / "params" / "cd5_tall.toml"
    predictive = fake_predictive()
    path.write_text(predicted_text(path.read_text(), predictive, path))
    params = load_params(path)
    for c in CAUSES:
        entry = params.entries[level_path(c, False)]
        assert entry.source == "predicted" and "rests on 3 trials" in entry.note
        assert entry.value == pytest.approx(np.median(predictive.draws[c]), rel=1e-3)
    for draws_path, text in predicted_draws_texts(path, predictive, params).items():
        draws_path.write_text(text)
    params = load_params(path)
    assert set(joint_paths(params, params.posterior)) == {level_path(c, False) for c in CAUSES}


def test_a_new_trial_takes_the_prior_after_transplant_not_the_template_posterior(tmp_path):
    """After transplant, levels are not pooled, so a new trial's is the prior its template states for one trial's
    level (Gamma(events, rate = days), written in counts form, events - 1/2), at its median, marked PREDICTED."""
    for folder in ("params", "seeds"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.posterior.*", "evidence"))
    path = tmp_path / "params" / "cd5_tall.toml"
    template = load_params(path)
    path.write_text(predicted_text(path.read_text(), fake_predictive(), path, template))
    params = load_params(path)
    for cause in ("relapse", "infection_death", "tma_death", "transplant_death"):
        events = template[f"late.{cause}_prior_events_after_transplant"]
        days = template[f"late.{cause}_prior_days_after_transplant"]
        entry = params.entries[f"late.{cause}_hazard_after_transplant"]
        assert entry.source == "predicted" and entry.uncertainty.kind == "gamma"
        assert list(entry.uncertainty.args) == pytest.approx([events - 0.5, days])
        assert entry.value == pytest.approx(stats.gamma(events, scale=1 / days).median(), rel=1e-3)
        assert entry.value != pytest.approx(template[f"late.{cause}_hazard_after_transplant"], rel=1e-3)
    new = predicted_text(new_params_text(template, "sib", design_facts(template)), fake_predictive(), path, template)
    assert "# PREDICTED late.infection_death_hazard_after_transplant: from the prior after transplant" in new


def test_a_new_trial_takes_the_sampled_inputs_in_the_rows_of_its_levels(tmp_path):
    """With inputs in the predictive draws, each input the template states is written PREDICTED (its draws' median,
    its stated prior kept) and its column sits in the same rows as the levels: a run takes the pair as drawn."""
    for folder in ("params", "seeds"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.posterior.*", "evidence"))
    path = tmp_path / "params" / "cd5_tall.toml"
    template = load_params(path)
    base = fake_predictive()
    infection = base.draws["infection"]
    hr = np.exp(0.5 - 0.6 * (np.log(infection) - np.log(1e-3)))  # correlated with the level, as a fit would pair them
    inputs = {"late.infection_hr_cytopenia_g34": hr, "late.relapse_shape_3": np.full(len(hr), 1.2)}
    predictive = Predictive(base.target_class, base.draws, base.provenance | {"inputs": list(inputs)}, inputs)
    path.write_text(predicted_text(path.read_text(), predictive, path, template))
    params = load_params(path)
    entry = params.entries["late.infection_hr_cytopenia_g34"]
    assert entry.source == "predicted" and entry.value == pytest.approx(np.median(hr), rel=1e-3)
    stated = template.entries["late.infection_hr_cytopenia_g34"]
    assert entry.prior.kind == (stated.prior or stated.uncertainty).kind
    for draws_path, text in predicted_draws_texts(path, predictive, params).items():
        draws_path.write_text(text)
    params = load_params(path)
    assert set(inputs) <= set(joint_paths(params, params.posterior))
    names = params.posterior.names
    rows = params.posterior.values
    level = rows[:, names.index(level_path("infection", False))]
    assert np.array_equal(rows[:, names.index("late.infection_hr_cytopenia_g34")], hr)
    assert np.array_equal(level, infection)  # same rows: the correlation the fit gave is kept


def _predictive_folder(folder, names, values, record):
    import hashlib
    import json

    from sim.inputs.posterior_draws import draws_csv_text

    text = draws_csv_text(tuple(names), values)
    (folder / "predictive.csv").write_text(text)
    (folder / "predictive.json").write_text(json.dumps(record | {"sha256": hashlib.sha256(text.encode()).hexdigest()}))


def test_predictive_draws_with_inputs_are_read_back_and_a_missing_column_is_named(tmp_path):
    from sim.analyses.synthesis.files import load_predictive
    from sim.errors import InputError

    base = fake_predictive()
    names = [f"lineage_depleting.{c}" for c in CAUSES] + ["late.relapse_shape_3"]
    values = np.column_stack([base.draws[c] for c in CAUSES] + [np.linspace(0.5, 2.0, 2000)])
    _predictive_folder(tmp_path, names, values, base.provenance | {"inputs": ["late.relapse_shape_3"]})
    read = load_predictive("lineage_depleting", tmp_path)
    np.testing.assert_array_equal(read.inputs["late.relapse_shape_3"], values[:, -1])
    np.testing.assert_array_equal(read.draws["infection"], base.draws["infection"])
    _predictive_folder(tmp_path, names[:-1], values[:, :-1], base.provenance | {"inputs": ["late.relapse_shape_3"]})
    with pytest.raises(InputError, match="inputs: the provenance lists input 'late.relapse_shape_3'"):
        load_predictive("lineage_depleting", tmp_path)
    _predictive_folder(tmp_path, names, values, base.provenance | {"inputs": "late.relapse_shape_3"})
    with pytest.raises(InputError, match="predictive.json: inputs: must be a list"):
        load_predictive("lineage_depleting", tmp_path)
