"""Validation at the reported denominator: a count k of n is set against virtual trials with n in its denominator.

The slow test checks the whole construction on data simulated from the model itself: an "observed"
trial drawn as the model draws its trials (parameters from their uncertainty, then patients) is a
trial the model is right about, so its figures must fall inside the 95% intervals as often as the
intervals promise.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
import sim.analyses.validation
from conftest import PARAMS
from sim.analyses.validation import figure_row
from sim.inputs.params import load_params
from sim.stats.intervals import central_interval, interval_mass
from sim.stats.trial_figures import at_denominator, denominator_column


def test_a_count_is_compared_only_with_trials_at_its_denominator(cll1):
    results = sim.run_trials(cll1, trials=300, seed=4, parameter_uncertainty=True)
    figure = cll1.seeds.figures["crs_any"]  # 12 of 12 infused: 12 of 13 or 11 of 11 are other findings
    n = results.trials[denominator_column("crs_any")]
    row = figure_row(figure, results.trials["crs_any"], denominators=n)
    assert row["trials_defined"] == np.count_nonzero(n == 12) > 0
    assert row["sim_high95"] <= 12 and row["sim_median"] <= 12
    unconditional = central_interval(results.trials["crs_any"])
    assert unconditional[1] > 12  # without the denominator the interval ran past the paper's 12


def test_no_interval_exceeds_its_denominator(cd5):
    results = sim.run_trials(cd5, trials=400, seed=6, parameter_uncertainty=True)
    table = sim.analyses.validation.validation_table(cd5.seeds, results.trials)
    for row in table.rows():
        if not np.isnan(row["of"]) and not np.isnan(row["sim_high95"]):
            assert row["sim_high95"] <= row["of"], row["figure"]


def test_at_denominator_keeps_the_trials_whose_denominator_is_n():
    values, n = np.array([1.0, 2, 3, 4]), np.array([12.0, 11, 12, 13])
    assert list(at_denominator(values, n, 12)) == [1, 3]
    assert list(at_denominator(values, None, 12)) == [1, 2, 3, 4]
    assert list(at_denominator(values, n, None)) == [1, 2, 3, 4]


REFERENCE, OBSERVED, MIN_AT_N = 4000, 400, 100


@pytest.mark.slow
@pytest.mark.parametrize("trial", ["cll1_aml", "cd5_tall"])
def test_the_95_percent_intervals_cover_as_promised_on_data_from_the_model(trial):
    """Reference: 4,000 virtual trials (seed 0); observed: 400 others (seed 1), each playing the paper.

    For every observed trial and modelled count figure with a denominator, its count is placed in
    the interval of the reference trials at *its* denominator (skipped where fewer than 100 reference
    trials share it).  A count's interval holds at least 95% of the reference values, more where its
    bounds carry ties (``interval_mass``), so the promise is that mass, not exactly 95%.

    Tolerance: the hit-minus-mass differences are averaged within each observed trial (figures of one
    trial are correlated), and their mean over the 400 trials must lie within 3 standard errors of 0
    (cluster standard error over trials), plus 3 binomial standard errors of the reference intervals'
    own mass (sqrt(0.05 x 0.95 / 100) at the fewest reference trials allowed, a bound).  The coverage
    must also be at least 0.95 less the same tolerance.
    """
    params = load_params(PARAMS[trial])
    reference = sim.run_trials(params, trials=REFERENCE, seed=0, parameter_uncertainty=True).trials
    observed = sim.run_trials(params, trials=OBSERVED, seed=1, parameter_uncertainty=True).trials
    keys = [k for k, f in params.seeds.figures.items() if f.modelled and f.of is not None]
    per_trial, hits, masses = [], [], []
    for t in range(OBSERVED):
        differences = []
        for key in keys:
            n = observed[denominator_column(key)][t]
            values = at_denominator(reference[key], reference[denominator_column(key)], n)
            if values.size < MIN_AT_N:
                continue
            interval = central_interval(values)
            hit = float(interval[0] <= observed[key][t] <= interval[1])
            mass = interval_mass(values, interval)
            hits.append(hit)
            masses.append(mass)
            differences.append(hit - mass)
        if differences:
            per_trial.append(np.mean(differences))
    per_trial = np.array(per_trial)
    tolerance = 3 * per_trial.std(ddof=1) / np.sqrt(per_trial.size) + 3 * np.sqrt(0.05 * 0.95 / MIN_AT_N)
    assert len(hits) > 5 * OBSERVED  # most figures are compared in most trials
    assert abs(per_trial.mean()) <= tolerance, (np.mean(hits), np.mean(masses), tolerance)
    assert np.mean(hits) >= 0.95 - tolerance
