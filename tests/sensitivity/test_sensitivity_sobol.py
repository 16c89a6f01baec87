"""Sobol' indices through the same code path as the simulation, on functions whose indices are known.

Each check injects a function in place of the virtual trials (FunctionModel) and runs run_sobol as
the command line does: design, inverse CDFs, evaluation, scipy's estimator, bootstrap, noise floor.
Tolerance: an analytic index must lie in its 95% bootstrap interval widened by half the interval's
width on each side (about four standard errors), with fixed seeds.
"""

from __future__ import annotations

import math
from functools import partial

import pytest
from scipy import stats

from sim.errors import InputError
from sim.sensitivity import FunctionModel, Input, InputSpace, run_sobol
from sim.sensitivity.inputs import DUMMY

A, B = 7.0, 0.1


def ishigami(values, rng):
    x1, x2, x3 = values["x1"], values["x2"], values["x3"]
    return {"y": math.sin(x1) + A * math.sin(x2) ** 2 + B * x3 ** 4 * math.sin(x1)}


def ishigami_indices() -> dict[str, tuple[float, float]]:
    """(first-order, total) of each input (Ishigami and Homma 1990)."""
    v1 = 0.5 * (1 + B * math.pi ** 4 / 5) ** 2
    v2 = A ** 2 / 8
    v13 = 8 * B ** 2 * math.pi ** 8 / 225
    total = v1 + v2 + v13
    return {"x1": (v1 / total, (v1 + v13) / total), "x2": (v2 / total, v2 / total), "x3": (0.0, v13 / total),
            DUMMY: (0.0, 0.0)}


def assert_recovers(rows: list[dict], known: dict[str, tuple[float, float]]) -> None:
    for row in rows:
        for key, value in zip(("S1", "ST"), known[row["input"]], strict=True):
            low, high = row[f"{key}_low"], row[f"{key}_high"]
            half = (high - low) / 2
            message = f"{row['input']} {key} {value:.4f} not in [{low:.4f}, {high:.4f}]"
            assert low - half <= value <= high + half, message


def rows_of(result, outcome: str = "y") -> list[dict]:
    return [r for r in result.summary_table().rows() if r["outcome"] == outcome]


@pytest.fixture(scope="module")
def ishigami_result():
    space = InputSpace(tuple(Input(f"x{i}", stats.uniform(-math.pi, 2 * math.pi), f"x{i}") for i in (1, 2, 3)))
    return run_sobol(space=space, model=FunctionModel(ishigami, ("y",)), samples=2 ** 12, seed=3)


def test_sobol_recovers_the_ishigami_indices(ishigami_result):
    rows = rows_of(ishigami_result)
    assert [r["input"] for r in rows] == ["x1", "x2", "x3", DUMMY]
    assert_recovers(rows, ishigami_indices())
    widths = [r["ST_high"] - r["ST_low"] for r in rows[:3]]
    assert max(widths) < 0.1  # intervals narrow enough for the check to mean something


def test_without_noise_the_floor_is_zero_and_only_x3_has_no_first_order_effect(ishigami_result):
    rows = {r["input"]: r for r in rows_of(ishigami_result)}
    assert rows[DUMMY]["S1"] == 0 and rows[DUMMY]["ST"] == 0
    assert [rows[x]["S1_above_floor"] for x in ("x1", "x2", "x3")] == [True, True, False]
    assert all(rows[x]["ST_above_floor"] for x in ("x1", "x2", "x3"))


# Five parameters of cll1_aml with five kinds of distribution, in a linear function of their
# standardised values with these weights: first-order = total index = weight^2 / sum(weight^2).
WEIGHTS = {"crs.p_grade_at_least_3": 1.0,           # beta = [k, n]
           "late.infection_death_hazard": 2.0,      # gamma = [events, exposure]
           "accrual.mean_period_days": 3.0,         # uniform
           "expansion.peak_day.median": 0.5,        # triangular
           "early.p_infection": 0.0}                # beta_ab


def standardised_linear(values, rng, moments):
    """Sum of weight x (value - mean) / sd over the parameters."""
    return {"y": sum(w * (values[p] - moments[p][0]) / moments[p][1] for p, w in WEIGHTS.items())}


def test_sobol_recovers_a_linear_model_of_the_params_distributions(cll1):
    dists = {p: cll1.entries[p].uncertainty.dist for p in WEIGHTS}
    model = FunctionModel(partial(standardised_linear, moments={p: (d.mean(), d.std()) for p, d in dists.items()}),
                          ("y",))
    result = run_sobol(cll1, inputs=list(WEIGHTS), model=model, samples=2 ** 11, seed=5)
    total = sum(w ** 2 for w in WEIGHTS.values())
    known = {p: (w ** 2 / total, w ** 2 / total) for p, w in WEIGHTS.items()} | {DUMMY: (0.0, 0.0)}
    assert_recovers(rows_of(result), known)


def noisy(values, rng):
    """x1 uniform on (0, 1) plus noise of the same variance; x2 has no effect."""
    return {"y": values["x1"] + rng.normal(0, math.sqrt(1 / 12))}


def test_the_dummy_measures_the_noise_and_an_input_without_effect_stays_under_the_floor():
    """Var(x1) = noise variance = 1/12: the dummy's total index estimates the noise share, 1/2; x1's first
    order index is 1/2 and its total index 1 (each re-evaluation redraws the noise)."""
    space = InputSpace((Input("x1", stats.uniform(0, 1), "x1"), Input("x2", stats.uniform(0, 1), "x2")))
    result = run_sobol(space=space, model=FunctionModel(noisy, ("y",)), samples=2 ** 11, seed=8)
    rows = {r["input"]: r for r in rows_of(result)}
    assert_recovers(list(rows.values()), {"x1": (0.5, 1.0), "x2": (0.0, 0.5), DUMMY: (0.0, 0.5)})
    assert rows["x1"]["ST_above_floor"] and rows["x1"]["S1_above_floor"]
    assert not rows["x2"]["ST_above_floor"] and not rows["x2"]["S1_above_floor"]


def test_the_same_seed_gives_the_same_indices_and_intervals():
    space = InputSpace((Input("x1", stats.uniform(0, 1), "x1"),))
    first, second = (run_sobol(space=space, model=FunctionModel(noisy, ("y",)), samples=64, seed=0,
                               resamples=200).summary_table() for _ in range(2))
    assert first.to_csv_text() == second.to_csv_text()


@pytest.mark.parametrize("samples", [0, 3, 100, 1000])
def test_samples_must_be_a_power_of_two(samples):
    space = InputSpace((Input("x1", stats.uniform(0, 1), "x1"),))
    with pytest.raises(InputError, match="power of 2"):
        run_sobol(space=space, model=FunctionModel(noisy, ("y",)), samples=samples)


def test_the_simulation_runs_through_the_same_path(cd5, tmp_path):
    result = run_sobol(cd5, inputs=["late.relapse_hazard", "response"], samples=8, inner=2, seed=1,
                       outcomes=["os_12m", "cr_rate"], resamples=100)
    names = {p.relative_to(tmp_path).as_posix() for p in result.write(tmp_path)}
    assert names == {"sobol.csv", "sobol.json"} | {f"figures/sobol_{o}.{x}" for o in ("os_12m", "cr_rate")
                                                    for x in ("png", "svg")}
    rows = result.summary_table().rows()
    assert {r["input"] for r in rows} == {"late.relapse_hazard", "response.categories.mrd_neg_cr",
                                          "response.categories.mrd_pos_cr", "response.categories.no_cr",
                                          "response.dose_log_odds", DUMMY}
    assert result.info.config["points"] == 8 * (6 + 2)
