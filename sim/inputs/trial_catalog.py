"""The shipped trials, found by name whether cartsim is installed from a wheel or run from the repository.

The repository keeps the trials at its top level (``params/``, ``params/scenarios/`` and ``seeds/``);
the wheel maps those same folders into the package as ``sim.shipped.params`` and ``sim.shipped.seeds``
(``[tool.setuptools.package-dir]`` in pyproject.toml), so there is one copy of each file.  A name on
the command line (``cartsim run cd5_tall``) is looked up here when no file of that name exists.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SHIPPED = ("shipped", "params")  # sim/shipped/params in an installed wheel
REPOSITORY_PARAMS = Path(__file__).resolve().parents[2] / "params"


def shipped_params_folder() -> Path | None:
    """The folder of the shipped params files: the installed package data, else the repository's ``params/``.

    Found through ``importlib.resources`` from the regular package ``sim`` (a namespace package such
    as ``sim.shipped.params`` would give a multiplexed path on Python 3.11).
    """
    installed = Path(str(resources.files("sim").joinpath(*SHIPPED)))
    if installed.is_dir():
        return installed
    return REPOSITORY_PARAMS if REPOSITORY_PARAMS.is_dir() else None


def shipped_trials() -> dict[str, Path]:
    """Each shipped trial's name (its params file's stem) and params file, by name."""
    folder = shipped_params_folder()
    return {} if folder is None else {p.stem: p for p in sorted(folder.glob("*.toml"))}


def shipped_scenarios() -> dict[str, Path]:
    """Each shipped scenario's name and file, by name."""
    folder = shipped_params_folder()
    return {} if folder is None else {p.stem: p for p in sorted((folder / "scenarios").glob("*.toml"))}


def trial_path(text: str) -> Path:
    """An argparse type: ``text`` as a path when such a file exists, else a shipped trial or scenario of that name.

    Anything else is returned as given, so that the reader reports the missing file in its usual way.
    """
    path = Path(text)
    if path.exists() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    return shipped_trials().get(text) or shipped_scenarios().get(text) or path
