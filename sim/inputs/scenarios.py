"""Scenario files: a what-if as a few changed entries of a trial's params file.

A scenario file names its base params file (relative to the scenario file), says what it asks, and
restates only the entries it changes, in the params file's own sections::

    base = "../cll1_aml.toml"
    title = "CLL-1: every patient at dose group C"
    description = "What CRS and response would the trial have seen had everyone received 1.5 x10^6/kg?"

    [dose]
    allocation = { value = { A = 0, B = 0, C = 1 }, source = "scenario", note = "every patient in group C" }

    [manufacturing.manufacturing_days]
    median = { value = 7, source = "scenario", note = "a 7-day process" }   # one argument of a duration

An entry is read by the params file's own reader (:func:`sim.inputs.params.read_entry`), so it is checked
exactly as in a params file; the entry replaces the base entry whole (value, source, note and
uncertainty).  A time distribution is changed argument by argument, or replaced whole by giving its
``family``; a dose level may be changed or added under ``[dose.levels]``.  The ``trial`` section
cannot be changed.  Every problem is an :class:`~sim.errors.InputError` naming the scenario file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from sim.inputs import schema as S
from sim.errors import InputError
from sim.inputs.params import TIMEDIST_ARG_KINDS, Params, check_params, folder_name_problem, load_params, read_entry
from sim.inputs.provenance import format_value
from sim.inputs.durations import FAMILIES
from sim.inputs.tomlfile import read_toml

META_KEYS = ("base", "title", "description")
FIXED_SECTIONS = ("trial",)


@dataclass(frozen=True)
class Scenario:
    """Where a scenario's parameters came from: its file, its base params file and what it changed."""

    path: Path
    sha256: str
    title: str
    description: str
    base_path: Path
    base_sha256: str
    changed: tuple[str, ...]
    base_values: tuple[str, ...] = ()  # each changed path's value in the base params file ("" if new)

    @property
    def name(self) -> str:
        """The scenario's short name: its file name without the extension."""
        return self.path.stem

    def manifest(self) -> dict[str, Any]:
        """The scenario's provenance, for a run's manifest."""
        return {"name": self.name, "title": self.title, "description": self.description,
                "file": str(self.path), "sha256": self.sha256, "base_params_file": str(self.base_path),
                "base_params_sha256": self.base_sha256, "changed": list(self.changed),
                "base_values": list(self.base_values)}


def is_scenario_file(path: str | Path) -> bool:
    """True if the TOML file at ``path`` is a scenario (it names a ``base``) rather than a params file."""
    table, _ = read_toml(Path(path))
    return "base" in table and "trial" not in table


def load_params_or_scenario(path: str | Path) -> Params:
    """A params file or a scenario file, whichever ``path`` is."""
    return load_scenario(path) if is_scenario_file(path) else load_params(path)


def load_scenario(path: str | Path) -> Params:
    """Read a scenario file and return its base params with the scenario's entries, all checked.

    The result's ``path`` and ``sha256`` are the scenario file's, so later errors name it, and its
    ``scenario`` records the base file and the changed paths.
    """
    path = Path(path)
    problem = folder_name_problem(path.stem)
    if problem:
        raise InputError(path, "", f"the file's name names the scenario and its output folder: {problem}")
    table, sha = read_toml(path)
    _check_meta(path, table)
    base_path = _base_path(path, table["base"])
    base = load_params(base_path)
    params = dataclasses.replace(base, path=path, sha256=sha)
    changed = []
    for item_path, spec, raw in _items(path, base, table):
        params = read_entry(params, path, item_path, spec, raw)
        changed.append(item_path)
    check_params(params)
    scenario = Scenario(path, sha, " ".join(table["title"].split()), " ".join(table["description"].split()),
                        base_path, base.sha256, tuple(changed),
                        tuple(_base_value(base, p) for p in changed))
    return dataclasses.replace(params, scenario=scenario)


def base_file(params: Params) -> Path:
    """The params file a run's parameters rest on: the scenario's base, or the params file itself."""
    return params.scenario.base_path if params.scenario is not None else params.path.resolve()


def require_base(params: Params, base: Params) -> None:
    """Refuse a scenario written for another params file than ``base``'s (its luck would not be paired)."""
    if base_file(params) != base_file(base):
        source = params.path if params.scenario is not None else base.path
        raise InputError(source, "base", f"is {base_file(params)}, but the run's base is {base_file(base)}: "
                         "a scenario can only be run and compared on its own base params file")


def _base_value(base: Params, path: str) -> str:
    """A changed path's value in the base params, as text: a number, weights, a text or a family."""
    if path in base.entries:
        return format_value(base.entries[path].value)
    return base.families.get(path, base.text.get(path)) or ""


def _check_meta(path: Path, table: dict) -> None:
    for key in META_KEYS:
        if key not in table:
            raise InputError(path, key, "missing (a scenario file names its base params file, a title and a "
                             "description)")
        if not isinstance(table[key], str) or not table[key].strip():
            raise InputError(path, key, f"must be a non-empty string, got {table[key]!r}")
    for key in table:
        if key in FIXED_SECTIONS:
            raise InputError(path, key, "a scenario cannot change the trial section (its name, title and seeds file)")
        if key not in META_KEYS and key not in S.SCHEMA:
            allowed = [*META_KEYS, *(s for s in S.SCHEMA if s not in FIXED_SECTIONS)]
            raise InputError(path, key, f"unknown key (expected one of {allowed})")


def _base_path(path: Path, base: str) -> Path:
    resolved = (path.parent / base).resolve()
    if not resolved.is_file():
        raise InputError(path, "base", f"params file '{base}' not found (the path is relative to the scenario file)")
    if resolved == Path(path).resolve():
        raise InputError(path, "base", "names this scenario file itself: a base is a params file")
    if is_scenario_file(resolved):
        chain = _chain(resolved)
        what = (f"a cycle of scenarios ({' -> '.join(p.name for p in chain)})" if chain[-1] in chain[:-1]
                else "a scenario file")
        raise InputError(path, "base", f"'{base}' is {what}, not a params file: scenarios do not build on scenarios; "
                         "name the params file it is based on")
    return resolved


def _chain(start: Path, limit: int = 32) -> list[Path]:
    """The scenario files reached from ``start`` by their bases, ending where one repeats or is not a scenario."""
    chain = [start]
    while len(chain) < limit and is_scenario_file(chain[-1]):
        try:
            base = read_toml(chain[-1])[0].get("base")
        except InputError:
            break
        if not isinstance(base, str):
            break
        chain.append((chain[-1].parent / base).resolve())
        if chain[-1] in chain[:-1] or not chain[-1].is_file():
            break
    return chain


def _items(path: Path, base: Params, table: dict) -> Iterator[tuple[str, object, Any]]:
    """(dotted path, schema, raw entry) of every entry the scenario sets, dose levels first."""
    for section in (key for key in table if key not in META_KEYS):
        body = table[section]
        if not isinstance(body, dict):
            raise InputError(path, section, f"must be a table, got {type(body).__name__}")
        spec = S.SCHEMA[section]
        for key in sorted(body, key=lambda k: not isinstance(spec.get(k), S.Levels)):
            if key not in spec:
                raise InputError(path, f"{section}.{key}", f"unknown key (expected one of {sorted(spec)})")
            yield from _expand(path, base, f"{section}.{key}", spec[key], body[key])


def _expand(path: Path, base: Params, where: str, spec: object, raw: Any) -> Iterator[tuple[str, object, Any]]:
    """One schema item into the entries it sets: a whole item, or arguments / dose levels one by one."""
    if isinstance(spec, S.TimeDist) and isinstance(raw, dict) and "family" not in raw:
        required, optional = FAMILIES[base.families[where]]
        for arg, entry in raw.items():
            if arg not in (*required, *optional):
                raise InputError(path, f"{where}.{arg}", f"unknown key for a {base.families[where]} distribution "
                                 f"(expected one of {sorted((*required, *optional))}, or 'family' to replace it whole)")
            yield f"{where}.{arg}", S.Scalar(TIMEDIST_ARG_KINDS[arg]), entry
    elif isinstance(spec, S.Levels):
        if not isinstance(raw, dict) or not raw:
            raise InputError(path, where, "must be a table of dose level = entry")
        for level, entry in raw.items():
            yield f"{where}.{level}", S.Scalar("positive"), entry
    else:
        yield where, spec, raw
