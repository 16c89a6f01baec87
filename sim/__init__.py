"""cartsim: discrete-event simulation of early-phase donor-derived CAR-T cell therapy trials.

Typical use::

    import sim
    params = sim.load_params("params/cd5_tall.toml")
    results = sim.run_trials(params, trials=1000, seed=1)
    results.summary()          # reported figures next to the simulated median and 95% interval
    results.patients           # one row per virtual patient
"""

from sim.errors import InputError
from sim.inputs.params import Params, load_params
from sim.output.results import Results
from sim.engines.runner import run_trials, simulate_trial
from sim.inputs.paper import load_seeds

__all__ = ["InputError", "Params", "Results", "load_params", "load_seeds", "run_trials", "simulate_trial"]
