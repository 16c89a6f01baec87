"""Sensitivity inputs: choosing the uncertain parameters, and sampling each from its own distribution."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.errors import InputError
from sim.sensitivity.inputs import DUMMY, flat_inputs, parameter_space, select_paths
from sim.inputs.uncertainty import DirichletUncertainty


def test_every_uncertain_parameter_by_default_and_sections_by_name(cd5):
    assert select_paths(cd5, None) == cd5.uncertain()
    crs = select_paths(cd5, ["crs"])
    assert crs and all(p.startswith("crs.") for p in crs)
    assert select_paths(cd5, ["crs.onset_day", "crs.incidence"]) == [
        "crs.incidence", "crs.onset_day.median", "crs.onset_day.sigma"]  # params-file order, each once


@pytest.mark.parametrize("item, problem", [("crs.incidense", "no such parameter"),
                                           ("crs.reference_dose", "has no uncertainty distribution"),
                                           ("cr", "no such parameter")])
def test_an_unknown_or_certain_parameter_is_named_with_the_choices(cd5, item, problem):
    with pytest.raises(InputError) as error:
        select_paths(cd5, [item])
    message = str(error.value)
    assert item in message and problem in message and "crs.incidence" in message and "\n" not in message


def test_each_scalar_input_is_its_own_distribution_through_the_inverse_cdf(cd5):
    paths = ["crs.incidence", "withdrawal.progression_hazard", "accrual.mean_period_days"]  # beta, gamma, uniform
    space = parameter_space(cd5, paths)
    u = np.array([[0.025, 0.5, 0.975]]).T.repeat(3, axis=1)
    x = space.transform(u)
    for j, path in enumerate(paths):
        np.testing.assert_allclose(x[:, j], cd5.entries[path].uncertainty.dist.ppf(u[:, j]), rtol=1e-12)


def test_dirichlet_weights_are_normalised_gamma_inputs_with_the_dirichlet_moments(cll1):
    """The mean and variance of each weight match Dirichlet(alpha), within 4 standard errors."""
    path = "response.categories"
    uncertainty: DirichletUncertainty = cll1.entries[path].uncertainty
    space = parameter_space(cll1, [path])
    assert space.names == [f"{path}.{c}" for c in uncertainty.counts]
    n = 20_000
    x = space.transform(np.random.default_rng(3).random((n, len(space))))
    weights = np.array([list(space.values(row)[path].values()) for row in x])
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    reference = stats.dirichlet(uncertainty.alpha)
    standard_error = np.sqrt(reference.var() / n)
    assert np.all(np.abs(weights.mean(axis=0) - reference.mean()) < 4 * standard_error)
    sample_var = weights.var(axis=0, ddof=1)
    assert np.all(np.abs(sample_var - reference.var()) < 4 * reference.var() * np.sqrt(2 / n) * 2)


def test_the_dummy_sets_no_parameter(cd5):
    space = parameter_space(cd5, ["crs.incidence"]).with_dummy()
    assert space.names[-1] == DUMMY
    assert space.values(np.array([0.5, 0.9])) == {"crs.incidence": 0.5}


def test_weights_flatten_to_one_name_per_category():
    assert flat_inputs({"a.b": 1, "w": {"x": 0.25, "y": 0.75}}) == {"a.b": 1.0, "w.x": 0.25, "w.y": 0.75}
