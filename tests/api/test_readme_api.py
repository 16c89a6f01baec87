"""The README's Python API: its code runs as written, and the public names are what it says."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import sim

ROOT = Path(__file__).resolve().parents[2]


def python_api_blocks() -> list[str]:
    """The python code blocks of the README's "Python API" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^### Python API\n(.*?)(?=^#{2,3} )", text, flags=re.S | re.M).group(1)
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_api_examples_run_from_the_repository_root(monkeypatch, capsys):
    blocks = python_api_blocks()
    assert blocks, "the README's Python API section has no python code block"
    monkeypatch.chdir(ROOT)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert sim.__version__ in printed and "'figure'" in printed


def test_every_public_name_exists_and_the_version_is_text():
    assert set(sim.__all__) <= set(dir(sim))
    assert isinstance(sim.__version__, str) and sim.__version__


def test_table_rows_are_plain_python_values():
    table = sim.Table({"name": np.array(["a", "b"]), "x": np.array([1.5, np.nan]), "n": np.array([1, 2]),
                       "ok": np.array([True, False]), "mixed": np.array(["c", 2.0], dtype=object)})
    for row in table.rows():
        assert all(type(value) in (str, float, int, bool) for value in row.values()), row
    assert repr(table.rows()[0]) == "{'name': 'a', 'x': 1.5, 'n': 1, 'ok': True, 'mixed': 'c'}"


def test_tables_convert_to_pandas():
    pandas = __import__("pytest").importorskip("pandas")
    frame = sim.Table({"a": [1, 2], "b": ["x", "y"]}).to_pandas()
    assert isinstance(frame, pandas.DataFrame) and frame["a"].tolist() == [1, 2]

