"""Optional dependencies: a missing one is named with the extra that installs it.

The extras are read from the installed distribution's own metadata (``[project.optional-dependencies]``
of pyproject.toml), so this module holds no list of its own that could drift from it.
"""

from __future__ import annotations

import re
from importlib import metadata

DISTRIBUTION = "cartsim"
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(?:\[([^\]]*)\])?[^;]*;.*extra\s*==\s*['\"]([^'\"]+)['\"]")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def extras_providing(module: str) -> list[str]:
    """The extras of cartsim that install the top-level package of ``module`` (empty if none does)."""
    top = _normal(module.split(".")[0])
    try:
        requires = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return []
    found = []
    for requirement in requires:
        match = _REQUIREMENT.match(requirement)
        if match is None:
            continue
        name, bracket, extra = match.groups()
        provided = {_normal(name)} | {_normal(part) for part in (bracket or "").split(",") if part.strip()}
        if top in provided and extra not in found and extra != "test":
            found.append(extra)
    return found


def missing_dependency(err: ImportError) -> str:
    """One line for an ImportError of a package cartsim does not always install: the extra to install."""
    module = err.name or str(err)
    extras = extras_providing(module)
    if extras:
        return (f"this needs the optional package '{module.split('.')[0]}': install the '{extras[0]}' extra, "
                f"pip install 'cartsim[{extras[0]}]'")
    return f"a package cartsim needs cannot be imported ({err}): reinstall cartsim, pip install --force-reinstall cartsim"


def require(module: str):
    """Import ``module`` for an optional feature; the ImportError names the missing package (see
    :func:`missing_dependency`, which the command line prints)."""
    from importlib import import_module

    return import_module(module)
