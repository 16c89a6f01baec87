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

from importlib import import_module as _import_module
from importlib import metadata as _metadata

# Each public name and the module that defines it, imported on first use (PEP 562), so that
# ``import sim`` and ``cartsim --version`` do not load numpy, scipy and matplotlib.
_PUBLIC = {
    "InputError": "sim.errors",
    "Params": "sim.inputs.params",
    "load_params": "sim.inputs.params",
    "load_seeds": "sim.inputs.paper",
    "load_scenario": "sim.inputs.scenarios",
    "Results": "sim.runs.results",
    "read_run": "sim.output.run_folder",
    "Table": "sim.table",
    "Validation": "sim.checks.validation_files",
    "run_validation": "sim.checks.validation_files",
    "run_trials": "sim.runs.runner",
    "simulate_trial": "sim.runs.runner",
    "KEY_OUTCOMES": "sim.stats.key_outcomes",
}


__all__ = ["__version__", "InputError", "KEY_OUTCOMES", "Params", "Results", "Table", "Validation", "load_params",
           "load_scenario", "load_seeds", "read_run", "run_trials", "run_validation", "simulate_trial"]


def __getattr__(name: str):
    """A public name, imported from its module the first time it is asked for."""
    if name == "__version__":  # read from the installed metadata only when asked (it scans the installation)
        try:
            value = _metadata.version("cartsim")
        except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
            value = "0+unknown"
        globals()[name] = value
        return value
    if name not in _PUBLIC:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(_import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
