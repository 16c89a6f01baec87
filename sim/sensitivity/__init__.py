"""Sensitivity analysis of a trial's outcomes to its uncertain parameters.

Four methods, each a function that runs a design and returns a result whose ``write(folder)`` writes
its tables (CSV), a JSON summary with the run's manifest, and its pictures (PNG and SVG):

- :func:`run_psa` - probabilistic: outcome distributions over parameter draws, and the variance split
  between parameter uncertainty and patient-level chance;
- :func:`run_oneway` - each input at its 2.5th and 97.5th percentile, a tornado plot;
- :func:`run_sobol` - Sobol' first-order and total indices, bootstrap intervals, noise floor;
- :func:`run_morris` - Morris screening (needs the ``sensitivity`` extra, SALib).

The pipeline, one module per step: :mod:`~sim.stats.key_outcomes` (what is measured, by name),
:mod:`~sim.sensitivity.inputs` (what is varied, with its distribution), :mod:`~sim.sensitivity.model`
(one evaluation: a point in, outcome moments out), :mod:`~sim.sensitivity.backends` (where
evaluations run: serial, a process pool, Dask), :mod:`~sim.sensitivity.store` (streaming to disk and
resuming), :mod:`~sim.sensitivity.execute` (a design through a backend into a store), one module per
method, :mod:`~sim.sensitivity.report` and :mod:`~sim.sensitivity.plots` (writing and drawing).

Example::

    import sim
    from sim.sensitivity import PoolBackend, run_psa

    params = sim.load_params("params/cd5_tall.toml")
    result = run_psa(params, draws=500, inner=20, seed=1, outcomes=["os_12m", "cr_rate"],
                     backend=PoolBackend(4), out="results/cd5_tall/sensitivity/psa")
    print(result.summary_table().rows())
    result.write("results/cd5_tall/sensitivity/psa")
"""

from sim.sensitivity.backends import DaskBackend, PoolBackend, SerialBackend, make_backend
from sim.sensitivity.inputs import Input, InputSpace, parameter_space, select_paths
from sim.sensitivity.model import FunctionModel, Point, TrialModel
from sim.sensitivity.morris import run_morris
from sim.sensitivity.oneway import run_oneway
from sim.stats.key_outcomes import DEFAULT_OUTCOMES, OUTCOMES, check_outcomes
from sim.sensitivity.psa import run_psa
from sim.sensitivity.sobol import run_sobol

__all__ = ["DEFAULT_OUTCOMES", "DaskBackend", "FunctionModel", "Input", "InputSpace", "OUTCOMES", "Point",
           "PoolBackend", "SerialBackend", "TrialModel", "check_outcomes", "make_backend", "parameter_space",
           "run_morris", "run_oneway", "run_psa", "run_sobol", "select_paths"]
