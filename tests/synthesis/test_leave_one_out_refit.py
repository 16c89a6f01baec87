"""Leave-one-out by importance sampling, and by a fit without the series where the weights are too few."""

from __future__ import annotations

import argparse

import numpy as np

from sim.analyses.synthesis.evidence import LOO_DRAWS, leave_one_out
from sim.cli.evidence import keep_sample, loo_sample_path, refit_without
from sim.inputs.params import load_params
from sim.inputs.trial_catalog import shipped_trials


def _reference():
    return load_params(shipped_trials()["cd5_tall"])


def test_a_series_whose_weights_are_too_few_is_refitted_and_only_it(synthesis, monkeypatch):
    reference = _reference()
    plain = leave_one_out(synthesis, reference)
    draws = min(LOO_DRAWS, len(synthesis.sample.theta))
    ess = sorted({r["weights_ess"] for r in plain})
    assert len(ess) > 1  # the fixture's series differ in their weights (else this test shows nothing)
    share = (ess[0] + 0.5) / draws  # a bound just above the fewest (half way to the next whole ESS, so the rounded
    # ESS in a row falls on the same side as the exact one): some series on each side
    monkeypatch.setattr("sim.analyses.synthesis.evidence.MIN_IS_ESS_SHARE", share)
    few = {r["series"] for r in plain if r["weights_ess"] < share * draws}
    assert few and {r["series"] for r in plain} - few
    asked = []

    def refit(key):
        asked.append(key)
        return synthesis  # stands in for the fit without the series

    rows = leave_one_out(synthesis, reference, refit)
    assert sorted(asked) == sorted(few)
    for r in rows:
        refitted = r["series"] in few
        assert r["method"].startswith("refit") == refitted
        assert (r["weights_ess"] == draws) if refitted else r["method"].startswith("importance sampling")


def test_refits_kept_beside_the_sample_are_read_back_instead_of_fitted_again(synthesis, tmp_path, monkeypatch):
    key = synthesis.series[0].key
    sample = tmp_path / "sample.npz"
    keep_sample(loo_sample_path(sample, key), synthesis)
    read = {}

    def rebuilt(series, shipped, reference, theta, tune, divergences, centred, trials, seed, sample_inputs, low_rank,
                target_accept):
        read.update(series=[s.key for s in series], theta=theta, tune=tune, low_rank=low_rank,
                    target_accept=target_accept)
        return "the fit without it"

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted again although the draws were kept")

    monkeypatch.setattr("sim.analyses.synthesis.fit.synthesis_from_sample", rebuilt)
    monkeypatch.setattr("sim.analyses.synthesis.fit.fit_synthesis", no_fit)
    args = argparse.Namespace(from_sample=sample, keep_sample=None, trials=5, seed=0, sample_inputs=False, low_rank=True,
                              target_accept=0.5)
    assert refit_without(args, list(synthesis.series), [], None, key) == "the fit without it"
    assert key not in read["series"] and len(read["series"]) == len(synthesis.series) - 1
    np.testing.assert_array_equal(read["theta"], synthesis.sample.by_chain())
    assert read["low_rank"] is False  # as the kept file says (the fixture's draws), not as the option says
    assert read["target_accept"] == synthesis.sample.target_accept != args.target_accept  # likewise
    assert loo_sample_path(sample, key).name == f"sample.loo-{key}.npz"


def test_a_refit_that_did_not_converge_is_marked_and_not_counted(synthesis, monkeypatch):
    """A row whose refit's chains failed their diagnostics is shown with '?' and left out of the share inside."""
    import dataclasses

    from sim.cli.evidence import format_leave_one_out

    reference = _reference()
    monkeypatch.setattr("sim.analyses.synthesis.evidence.MIN_IS_ESS_SHARE", 2.0)  # every series is refitted
    sample = synthesis.sample  # the fixture's short fit, its diagnostics set to pass or fail
    good = dataclasses.replace(sample, rhat={n: 1.0 for n in sample.rhat}, ess={n: 1e4 for n in sample.ess})
    bad = dataclasses.replace(good, rhat={n: 1.5 for n in sample.rhat})
    first = synthesis.series[0].key
    fits = {True: dataclasses.replace(synthesis, sample=bad), False: dataclasses.replace(synthesis, sample=good)}
    rows = leave_one_out(synthesis, reference, lambda key: fits[key == first])
    marked = {r["series"] for r in rows if not r["trusted"]}
    assert marked == {first} and all("NOT CONVERGED" in r["method"] for r in rows if r["series"] == first)
    text = format_leave_one_out(rows)
    counted = [r for r in rows if r["trusted"] and r["metric"] == "nrm_deaths"]
    assert f"non-relapse mortality: {sum(r['inside'] for r in counted)} of {len(counted)} series" in text
    assert f"not counted ('?'): {first}" in text


def test_heavy_tailed_weights_are_refitted_whatever_their_effective_size(synthesis, monkeypatch):
    """Pareto k-hat above the bound sends a series to a refit even when its ESS passes (Vehtari et al. 2017)."""
    from sim.analyses.posterior import pareto_k
    from sim.analyses.synthesis import evidence

    reference = _reference()
    monkeypatch.setattr(evidence, "MIN_IS_ESS_SHARE", 0.0)  # the ESS alone sends nobody
    k_hats = {}
    weights_of = evidence._loo_weights

    def recorded(hierarchy, theta, own, k, rng):
        out = weights_of(hierarchy, theta, own, k, rng)
        k_hats[own.series[0].key] = pareto_k(out[0])
        return out

    monkeypatch.setattr(evidence, "_loo_weights", recorded)
    evidence.leave_one_out(synthesis, reference)
    ordered = sorted(k_hats.values())
    assert ordered[0] < ordered[-1]  # the fixture's series differ in their tails (else this test shows nothing)
    bound = (ordered[0] + ordered[-1]) / 2
    monkeypatch.setattr(evidence, "MAX_LOO_PARETO_K", bound)
    heavy = {key for key, k in k_hats.items() if k > bound}
    asked = []
    rows = evidence.leave_one_out(synthesis, reference, lambda key: asked.append(key) or synthesis)
    assert sorted(asked) == sorted(heavy) and heavy
    assert all(("Pareto k-hat" in r["method"]) == (r["series"] not in heavy) for r in rows)
