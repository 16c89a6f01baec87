"""Paths as written into outputs: never an absolute path of the machine that ran.

A path under the current folder is shown relative to it; a shipped trial's file as
``cartsim:params/NAME.toml``; any other file by its name alone (its SHA-256 beside it identifies it).
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.inputs.trial_catalog import shipped_params_folder


def shown_path(path: str | Path | None) -> str:
    """``path`` as an output may show it; '' for no path."""
    if path is None:
        return ""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    resolved = path.resolve()
    for root, prefix in _roots():
        if resolved.is_relative_to(root):
            return prefix + resolved.relative_to(root).as_posix()
    return path.name


def _roots() -> list[tuple[Path, str]]:
    roots = [(Path(os.getcwd()).resolve(), "")]
    shipped = shipped_params_folder()
    if shipped is not None:
        roots.append((shipped.resolve().parent, "cartsim:"))
    return roots


def shown_command(command: list[str]) -> list[str]:
    """A command line with every absolute path in it (``/x/y`` or ``--out=/x/y``) shown by :func:`shown_path`."""
    def shown(arg: str) -> str:
        head, sep, tail = arg.partition("=") if arg.startswith("-") else ("", "", arg)
        return head + sep + (shown_path(tail) if Path(tail).is_absolute() else tail)
    return [shown(str(arg)) for arg in command]


def resolved_path(text: str) -> Path:
    """A path as :func:`shown_path` wrote it, back to a file of this machine (``cartsim:`` is the shipped trials)."""
    if text.startswith("cartsim:"):
        shipped = shipped_params_folder()
        return (shipped.parent if shipped is not None else Path(".")) / text[len("cartsim:"):]
    return Path(text)
