"""Fuzzing the params reader over the real schema: every file loads or is refused with one clean line.

Hypothesis starts from a shipped params file and changes its parsed table - a value replaced by a
number of any size, a string with control characters, a list or table nested deep, a key added or
removed - then writes it back as TOML.  Whatever it makes, ``load_params`` either returns parameters
or raises :class:`~sim.errors.InputError` whose message is one line without control characters.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import InputError
from sim.inputs.params import load_params

ROOT = Path(__file__).resolve().parents[2]
BASE = tomllib.loads((ROOT / "params" / "cd5_tall.toml").read_text())
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
KEY = re.compile(r"[A-Za-z0-9_-]+")

scalars = st.one_of(
    st.integers(min_value=-(10 ** 450), max_value=10 ** 450),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1e308, -1e308, 5e-324, 2 ** 53 + 1, 10 ** 400]),
    st.booleans(),
    st.text(max_size=12),
    st.text(alphabet=st.characters(max_codepoint=0x9f), max_size=8),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=12)


def paths(table: dict, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a parsed table (tables and their leaves)."""
    found = []
    for key, value in table.items():
        found.append((*prefix, key))
        if isinstance(value, dict):
            found += paths(value, (*prefix, key))
    return found


PATHS = paths(BASE)


@st.composite
def edited(draw) -> dict:
    table = json.loads(json.dumps(BASE))  # a deep copy (the shipped file holds no inf/nan in tables that JSON drops)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = table
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            parent.pop(path[-1], None)
        else:
            parent[draw(st.text(max_size=6))] = draw(values)
    return table


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value == float("inf") else "-inf" if value == float("-inf")
                                             else repr(value))
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string (\\uXXXX escapes included)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def to_toml(table: dict) -> str:
    """A table of sections as TOML: each top-level table a [section] of inline values, others at the top."""
    top = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    sections = [f"[{json.dumps(k)}]\n" + "\n".join(f"{json.dumps(kk)} = {toml_value(vv)}" for kk, vv in v.items())
                for k, v in table.items() if isinstance(v, dict)]
    return "\n".join(top) + "\n\n" + "\n\n".join(sections) + "\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "params").mkdir()
    (folder / "seeds").mkdir()
    shutil.copy(ROOT / "seeds" / "cd5_tall.toml", folder / "seeds" / "cd5_tall.toml")
    return folder


def test_the_writer_round_trips_the_shipped_file(folder):
    path = folder / "params" / "roundtrip.toml"
    path.write_text(to_toml(BASE))
    assert tomllib.loads(path.read_text()) == BASE
    load_params(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=edited())
def test_every_file_loads_or_is_refused_in_one_clean_line(folder, table):
    path = folder / "params" / "fuzzed.toml"
    path.write_text(to_toml(table))
    try:
        load_params(path)
    except InputError as err:
        message = str(err)
        assert message.startswith(str(path)), message
        assert not CONTROL.search(message), message
        assert len(message) < 2000
