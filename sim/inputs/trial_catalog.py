"""The shipped trials, found by name whether cartsim is installed from a wheel or run from the repository.

The repository keeps the trials at its top level (``params/``, ``params/scenarios/`` and ``seeds/``);
the wheel maps those same folders into the package as ``sim.shipped.params`` and ``sim.shipped.seeds``
(``[tool.setuptools.package-dir]`` in pyproject.toml), so there is one copy of each file.  A name on
the command line (``cartsim run cd5_tall``) is looked up here when no file of that name exists.
"""

from __future__ import annotations

import difflib
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


def inside_installed_package(path: str | Path) -> bool:
    """Whether ``path`` is a shipped file inside an installed package (not the repository's own copy)."""
    installed = Path(str(resources.files("sim").joinpath(*SHIPPED)))
    return installed.is_dir() and Path(path).resolve().is_relative_to(installed.resolve())


def shipped_trials() -> dict[str, Path]:
    """Each shipped trial's name (its params file's stem) and params file, by name."""
    folder = shipped_params_folder()
    return {} if folder is None else {p.stem: p for p in sorted(folder.glob("*.toml"))}


def shipped_scenarios() -> dict[str, Path]:
    """Each shipped scenario's name and file, by name."""
    folder = shipped_params_folder()
    return {} if folder is None else {p.stem: p for p in sorted((folder / "scenarios").glob("*.toml"))}


def trial_path(text: str | Path) -> Path:
    """A trial or scenario named by path or by name: the path when such a file exists, else the shipped file.

    A bare name (``cd5_tall``, ``cll1_design_boin``) is a shipped trial or scenario; a path in the
    repository's layout (``params/cd5_tall.toml``, ``params/scenarios/cll1_dose_c.toml``) that does not
    exist where it is run is the shipped file of that name, so the examples work from an installed
    package in any folder.  Anything else is returned as given, for the reader to report with
    :func:`unknown_trial`.  Also an argparse type.
    """
    path = Path(text)
    if path.exists():
        return path
    shipped = shipped_scenarios() if path.parent.name == "scenarios" else shipped_trials() | shipped_scenarios()
    if _names_shipped(path):
        return shipped.get(path.stem, path)
    return path


def _names_shipped(path: Path) -> bool:
    """A bare name, or a relative ``params/NAME.toml`` or ``params/scenarios/NAME.toml``."""
    if len(path.parts) == 1:
        return path.suffix in ("", ".toml")
    return (not path.is_absolute() and path.suffix == ".toml"
            and tuple(path.parts[:-1]) in (("params",), ("params", "scenarios")))


def unknown_trial(path: str | Path) -> str:
    """The problem of a trial file that does not exist: no such file, nor a shipped trial or scenario of
    that name; the closest shipped names, if any, and where to list them."""
    names = [*shipped_trials(), *shipped_scenarios()]
    close = difflib.get_close_matches(Path(path).stem, names, n=2)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"no such file, nor a shipped trial or scenario of that name ({hint}see `cartsim trials`)"
