"""cartsim: discrete-event simulation of early-phase donor-derived CAR-T cell therapy trials.

The public API (see the README's "Python API")::

    import sim
    params = sim.load_params("params/cd5_tall.toml")
    results = sim.run_trials(params, trials=1000, seed=1)
    results.summary()          # reported figures next to the simulated median and 95% interval
    results.patients           # one row per virtual patient (a sim.Table; .to_pandas() if installed)
    results.write("results/cd5")   # every table, the summary with its manifest, and the report

Everything else is importable from its module but may change between versions.
"""

from importlib import metadata as _metadata

from sim.errors import InputError
from sim.inputs.params import Params, load_params
from sim.inputs.paper import load_seeds
from sim.inputs.scenarios import load_scenario
from sim.runs.results import Results
from sim.output.run_folder import read_run
from sim.table import Table
from sim.checks.validation_files import Validation, run_validation
from sim.runs.runner import run_trials, simulate_trial
from sim.stats.key_outcomes import KEY_OUTCOMES

try:
    __version__ = _metadata.version("cartsim")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__", "InputError", "KEY_OUTCOMES", "Params", "Results", "Table", "Validation", "load_params",
           "load_scenario", "load_seeds", "read_run", "run_trials", "run_validation", "simulate_trial"]
