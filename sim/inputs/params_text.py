"""Editing a params file's text: one entry's inline table replaced, every comment and line kept.

A params file is written by people, with comments and a layout worth keeping, so a tool that
updates a value (calibration) rewrites only the line of that entry, never the whole file.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError

HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")


def number(value: float, digits: int = 4) -> str:
    """A TOML number with ``digits`` significant digits, positional (no exponent), e.g. ``0.001132``."""
    value = float(value)
    if value == 0:
        return "0.0"
    return np.format_float_positional(value, precision=digits, unique=False, fractional=False, trim="-")


def inline_entry(value: float, source: str, uncertainty: dict[str, list[float]] | None, note: str,
                 prior: dict[str, list[float]] | None = None) -> str:
    """An entry as a one-line inline table: ``{ value = ..., source = "...", uncertainty = {...}, note = "..." }``
    (with ``prior = {...}`` before the note when given)."""
    parts = [f"value = {number(value)}", f"source = {_string(source)}"]
    for key, spec in (("uncertainty", uncertainty), ("prior", prior)):
        if spec:
            (kind, args), = spec.items()
            parts.append(f"{key} = {{ {kind} = [{', '.join(number(a) for a in args)}] }}")
    parts.append(f"note = {_string(note)}")
    return "{ " + ", ".join(parts) + " }"


def replace_entry(text: str, path: str, entry: str, source: Path | str) -> str:
    """``text`` with the entry at dotted ``path`` replaced by the inline table ``entry``
    (:func:`replace_entries` with one entry)."""
    return replace_entries(text, {path: entry}, source)


def replace_entries(text: str, entries: dict[str, str], source: Path | str) -> str:
    """``text`` with the entry at each dotted path replaced by its inline table, checked once at the end.

    Each entry must sit on one line, ``key = { ... }``, under its table header (``[late]`` for
    ``late.relapse_hazard``).

    Raises
    ------
    InputError
        If no such line exists (naming ``source`` and the path), or the edited text is no longer TOML
        holding every path.
    """
    lines = text.splitlines(keepends=True)
    for path, entry in entries.items():
        index, key = _entry_line(lines, path)
        if index is None:
            raise InputError(source, path, "cannot rewrite: the entry is not a one-line 'key = { ... }' under its "
                             "table header")
        ending = lines[index][len(lines[index].rstrip("\r\n")):]
        indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        lines[index] = f"{indent}{key} = {entry}{ending}"
    new = "".join(lines)
    _check(new, list(entries), source)
    return new


def replace_text_value(text: str, path: str, value: str, source: Path | str) -> str:
    """``text`` with the string value at ``path`` (e.g. ``trial.seeds``) replaced by ``value``."""
    lines = text.splitlines(keepends=True)
    index, key = _entry_line(lines, path, inline_table=False)
    if index is None:
        raise InputError(source, path, "cannot rewrite: not a one-line 'key = \"...\"' under its table header")
    ending = lines[index][len(lines[index].rstrip("\r\n")):]
    lines[index] = f"{key} = {_string(value)}{ending}"
    new = "".join(lines)
    _check(new, [path], source)
    return new


def _entry_line(lines: list[str], path: str, inline_table: bool = True) -> tuple[int | None, str]:
    """Index of the line holding ``path`` as ``key = ...`` under its header, and the key
    (the header is the longest prefix of the path that works: ``[expansion.peak_day]`` then ``median``)."""
    for cut in reversed([i for i, char in enumerate(path) if char == "."]):
        index = _find(lines, path[:cut], path[cut + 1:], inline_table)
        if index is not None:
            return index, path[cut + 1:]
    return None, ""


def _find(lines: list[str], header: str, key: str, inline_table: bool) -> int | None:
    current = None
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=\s*" + (r"\{.*\}\s*(#.*)?$" if inline_table else r"\".*\"\s*(#.*)?$"))
    for index, line in enumerate(lines):
        match = HEADER.match(line)
        if match:
            current = match.group(1).strip()
        elif current == header and pattern.match(line.rstrip("\r\n")):
            return index
    return None


def _check(text: str, paths: list[str], source: Path | str) -> None:
    """The edited text must still be TOML holding every one of ``paths``."""
    try:
        parsed: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(source, paths[0], f"rewriting the entry would break the file: {err}") from None
    for path in paths:
        table = parsed
        for part in path.split("."):
            if not isinstance(table, dict) or part not in table:
                raise InputError(source, path, "rewriting the entry lost it")
            table = table[part]


def _string(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)
