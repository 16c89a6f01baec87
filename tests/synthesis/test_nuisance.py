"""The inputs sampled with the late levels (band shapes, patient factors): their transforms and Jacobians, the
late chances per row, the gradient of a hierarchy that samples them, and their prior recovered without data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.analyses.calibration.cutoff import LateWindows
from sim.analyses.calibration.late import LateModel
from sim.analyses.synthesis.hierarchy import CAUSES, Block, Hierarchy, Unit
from sim.analyses.synthesis.nuisance import FACTORS, Nuisance, NuisanceSet, smooth_nuisance, smooth_paths
from sim.analyses.synthesis.sampler import value_and_gradient

LEVELS = {"infection": 1e-3, "tma": 5e-4, "relapse": 2e-3}


def members() -> list[Nuisance]:
    """One parameter of each transform: a lognormal (log scale) and a uniform and a triangular (logit scale)."""
    return [Nuisance("a", 1.0, stats.lognorm(0.3, scale=1.0)), Nuisance("b", 90.0, stats.uniform(60.0, 60.0)),
            Nuisance("c", 300.0, stats.triang(0.6, loc=100.0, scale=300.0))]


def test_each_transform_adds_its_log_jacobian():
    group = NuisanceSet(members())
    x = np.random.default_rng(1).normal(0.0, 1.0, (5, 3))
    values = group.values(x)
    step = 1e-6
    slope = (group.values(x + step) - group.values(x - step)) / (2 * step)  # d value / dx, column by column
    density = np.column_stack([m.prior.logpdf(values[:, i]) for i, m in enumerate(group.members)])
    # central differences of smooth maps with step 1e-6: relative error ~1e-10 in the slope; 1e-7 in its log is ample
    np.testing.assert_allclose(group.log_prior(x), (density + np.log(slope)).sum(axis=1), atol=1e-7)


def test_the_unconstrained_start_maps_back_to_the_base_value():
    group = NuisanceSet(members())
    np.testing.assert_allclose(group.values(group.start()[None, :])[0], [1.0, 90.0, 300.0], rtol=1e-12)
    assert [m.transform for m in group.members] == ["log", "logit", "logit"]


def test_a_lognormal_input_is_a_normal_on_its_log_scale(cd5):
    """lognormal(median m, sigma s) of v = exp(x), with the Jacobian: exactly Normal(log m, s^2) in x."""
    group = NuisanceSet(smooth_nuisance(cd5))
    x = group.start()[None, :] + np.random.default_rng(2).normal(0.0, 0.5, (4, len(group)))
    expected = sum(stats.norm.logpdf(x[:, i], np.log(m.prior.kwds["scale"]), m.prior.args[0])
                   for i, m in enumerate(group.members))
    np.testing.assert_allclose(group.log_prior(x), expected, rtol=1e-12)


def windows(n: int = 12) -> LateWindows:
    """Patients in remission from day 28, a third MRD-positive, mixed early toxicities, some transplanted."""
    rng = np.random.default_rng(3)
    return LateWindows(trial=np.zeros(n, int), last_enrolment=np.full(n, 500.0), infusion=np.zeros(n),
                       response=np.full(n, 28.0), transplant_delay=np.where(np.arange(n) % 4 == 0, 30.0, np.inf),
                       response_category=np.where(np.arange(n) % 3 == 0, "mrd_pos_cr", "mrd_neg_cr").astype(object),
                       cytopenia=rng.random(n) < 0.5, early_infection=rng.random(n) < 0.5, cutoff_after_last=0.0)


def test_late_chances_per_row_are_those_of_params_with_the_row_values(cd5):
    paths = smooth_paths()
    rows = np.exp(np.random.default_rng(4).normal(0.0, 0.4, (2, len(paths)))) * [cd5[p] for p in paths]
    before = {c: np.full(2, v) for c, v in LEVELS.items()}
    after = {c: np.full(2, 3e-4) for c in ("infection", "tma", "relapse", "transplant")}
    got = LateModel(windows(), cd5).states(before, after, {p: rows[:, i] for i, p in enumerate(paths)})
    for r in range(2):
        own = LateModel(windows(), cd5.with_values(dict(zip(paths, rows[r])))).states(
            {c: v[r] for c, v in before.items()}, {c: v[r] for c, v in after.items()})
        for regime in (False, True):
            for state, chance in own[regime].items():
                assert got[regime][state][r] == pytest.approx(float(chance), rel=1e-12, abs=1e-15), (regime, state)


def nuisance_hierarchy(cd5) -> Hierarchy:
    """Two units whose one block reads every smooth input of the CD5 params: a late model's log chance of staying
    in remission, so that the gradient in each input is not zero."""
    model = LateModel(windows(), cd5)
    nuisance = smooth_nuisance(cd5)
    reads = tuple(m.path for m in nuisance)

    def log_likelihood(levels, extras):
        before = {c: levels[c][:, 0] for c in CAUSES}
        states = model.states(before, {}, {p: extras[p] for p in reads})
        return 5.0 * np.log(states[False]["in_remission"] + states[True]["in_remission"])

    return Hierarchy([Unit("a", "b_lineage", 10), Unit("b", "b_lineage", 20)], [Block([0], log_likelihood, reads)],
                     nuisance=nuisance)


def test_the_gradient_is_the_whole_posterior_differenced(cd5):
    hierarchy = nuisance_hierarchy(cd5)
    rng = np.random.default_rng(5)
    x = hierarchy.start(rng, 1)[0] + rng.normal(0, 0.3, hierarchy.ndim)
    value, gradient = value_and_gradient(hierarchy, x)
    step = 1e-4  # the whole log posterior at every shifted point, with another step: no block skipped
    shifted = hierarchy(np.vstack([x + np.eye(len(x)) * step, x - np.eye(len(x)) * step]))
    whole = (shifted[:len(x)] - shifted[len(x):]) / (2 * step)
    assert value == pytest.approx(float(hierarchy(x)[0]))
    tail = hierarchy.ndim - len(hierarchy.nuisance)
    assert np.all(np.abs(gradient[tail:]) > 1e-6)  # every input moves the log posterior
    # steps 1e-5 and 1e-4: truncation errors ~1e-10 and ~1e-8 times the third derivative (order 1-10 here)
    np.testing.assert_allclose(gradient, whole, rtol=1e-5, atol=1e-6)


def test_the_nuisance_coordinates_are_named_by_transform_and_path(cd5):
    hierarchy = nuisance_hierarchy(cd5)
    assert hierarchy.names[-len(FACTORS):] == [f"log {p}" for p in FACTORS]
    np.testing.assert_allclose(hierarchy.nuisance_values(hierarchy.start(np.random.default_rng(0), 1))[0],
                               [m.base for m in hierarchy.nuisance.members], rtol=0.3)


@pytest.mark.slow
def test_nuts_gives_back_each_inputs_prior_without_data(cd5):
    """No data: the block reads every input but its log-likelihood is 0, so each input's posterior is its prior."""
    pytest.importorskip("nutpie")
    from sim.analyses.synthesis.sampler import sample_hierarchy

    nuisance = smooth_nuisance(cd5)
    empty = Block([0], lambda levels, extras: np.zeros(len(levels["infection"])), tuple(m.path for m in nuisance))
    hierarchy = Hierarchy([Unit("a", "b_lineage", 10)], [empty], nuisance=nuisance)
    sample = sample_hierarchy(hierarchy, draws=500, tune=300, chains=2, seed=3)
    logs = np.log(sample.hierarchy.nuisance_values(sample.theta))
    medians = np.log([m.prior.kwds["scale"] for m in nuisance])
    sigmas = np.array([m.prior.args[0] for m in nuisance])
    # each mean of log value within 4 Monte Carlo SEs of log median (SE = sigma / sqrt(ESS), ESS taken as 200 of
    # the 1000 draws, below what NUTS gives on independent normals); each SD within 15% (the SD of a sample SD
    # of 200 effective draws is 5%: 3 SEs)
    np.testing.assert_array_less(np.abs(logs.mean(axis=0) - medians), 4 * sigmas / np.sqrt(200))
    np.testing.assert_allclose(logs.std(axis=0), sigmas, rtol=0.15)
    assert sample.divergences == 0


def _moved(params, factor: float):
    """``params`` with every entry that keeps a prior moved by ``factor``, as a later --write-shipped would move it
    (the prior kept)."""
    import dataclasses

    moved = {p: dataclasses.replace(e, value=e.value * factor) for p, e in params.entries.items() if e.prior is not None}
    return dataclasses.replace(params, entries=params.entries | moved)


def test_as_stated_puts_back_each_calibrated_inputs_prior_at_its_median(cd5):
    from sim.analyses.synthesis.nuisance import as_stated

    calibrated = [p for p, e in cd5.entries.items() if e.prior is not None]
    assert calibrated, "the shipped cd5_tall carries inputs an evidence synthesis calibrated"
    stated = as_stated(cd5)
    for path in calibrated:
        entry = stated.entries[path]
        assert entry.prior is None and entry.uncertainty is cd5.entries[path].prior and entry.source == "assumption"
        assert entry.value == pytest.approx(float(cd5.entries[path].prior.ppf(0.5)), rel=1e-12)
    assert all(stated.entries[p] is e for p, e in cd5.entries.items() if e.prior is None)


def test_a_shipped_trials_own_fit_does_not_read_an_earlier_synthesis_posteriors(cd5):
    """The trial-only estimates beside the pooled ones are fitted at the inputs as stated: moving the inputs'
    values (as --write-shipped does) leaves them as they were."""
    from sim.analyses.synthesis.fit import shipped_block

    unit, _ = shipped_block(cd5, 0, trials=5, seed=0)
    again, _ = shipped_block(_moved(cd5, 1.5), 0, trials=5, seed=0)
    assert unit.own.keys() == again.own.keys() and unit.own
    for path, (value, draws) in unit.own.items():
        assert again.own[path][0] == value and np.array_equal(again.own[path][1], draws), path


def test_a_series_likelihood_holds_unsampled_shapes_at_their_stated_values(cd5):
    """With the inputs held, a series' chances use the shapes as stated, not an earlier synthesis' posteriors."""
    from pathlib import Path

    from sim.analyses.synthesis.series_likelihood import SeriesLikelihood
    from sim.inputs.series import Series, SeriesFigure

    s = Series("s", Path("s.toml"), {"doi": "x"}, "CD19", "b_lineage", "autologous", "B-ALL", 40, 24.0, 0,
               {"rel": SeriesFigure("rel", "relapse_cumulative_incidence", 0.3, 40, day=600)})
    levels = {c: np.array([[v]]) for c, v in LEVELS.items()}
    assert SeriesLikelihood([s], _moved(cd5, 1.5))(levels) == SeriesLikelihood([s], cd5)(levels)


def test_a_fit_samples_and_starts_each_input_as_stated(cd5):
    """The sampled inputs' priors and chain starts are the stated ones, whatever values an earlier write left."""
    stated = [(m.path, m.base, m.stated) for m in smooth_nuisance(cd5)]
    assert [(m.path, m.base, m.stated) for m in smooth_nuisance(_moved(cd5, 1.5))] == stated
    assert any(cd5.entries[path].value != base for path, base, _ in stated)  # the shipped file was rewritten
