"""Imports run one way: down the layers declared in scripts/import_graph.py, with no circle between modules."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_graph():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


G = _load_graph()


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "sim" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_every_package_and_top_level_module_has_a_layer():
    for name in G.modules():
        G.layer(G.unit(name))  # KeyError names the undeclared unit


def test_no_layer_lists_a_unit_twice():
    units = [name for layer in G.LAYERS for name in layer]
    assert len(units) == len(set(units))


def test_no_import_runs_back_up_without_a_reason():
    bad = [f"{i.path}:{i.line} {i.source} -> {i.target}" for i in G.imports() if i.upward and not i.explained]
    assert bad == []


def test_no_circle_between_modules():
    assert G.circles(G.imports()) is None


def test_an_import_back_up_is_found_and_a_reason_excuses_it(tmp_path):
    root = _tree(tmp_path, {
        "__init__.py": "", "errors.py": "", "inputs/__init__.py": "", "cli/__init__.py": "", "cli/main.py": "",
        "inputs/params.py": "def f():\n    from sim.cli import main\n",
        "inputs/paper.py": "from sim.cli.main import f  # upward: a test of the reason\n",
        "inputs/scenarios.py": "from sim.cli.main import f  # upward:\n",
        "inputs/durations.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sim.cli import main\n",
    })
    found = [i for i in G.imports(root) if i.upward]
    assert {(i.source, i.target, i.explained) for i in found} == {
        ("sim.inputs.params", "sim.cli.main", False),     # inside a function still counts
        ("sim.inputs.paper", "sim.cli.main", True),
        ("sim.inputs.scenarios", "sim.cli.main", False),  # a mark without a reason is no reason
    }


def test_a_circle_between_modules_is_found(tmp_path):
    root = _tree(tmp_path, {
        "__init__.py": "", "inputs/__init__.py": "",
        "inputs/a.py": "from sim.inputs import b\n",
        "inputs/b.py": "def f():\n    from sim.inputs.c import g\n",
        "inputs/c.py": "from sim.inputs.a import h\n",
    })
    circle = G.circles(G.imports(root))
    assert circle is not None and circle[0] == circle[-1]
    assert set(circle) == {"sim.inputs.a", "sim.inputs.b", "sim.inputs.c"}


@pytest.mark.parametrize("name", ["sim.nowhere.module", "sim.unlisted"])
def test_a_unit_in_no_layer_is_named(name):
    with pytest.raises(KeyError, match=name.split(".")[1]):
        G.layer(G.unit(name))


def test_the_module_map_in_the_docs_lists_the_declared_layers_in_order():
    """docs/development.md's module map shows the layers of LAYERS, bottom first, so the map cannot drift."""
    text = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    section = text.split("## The module map", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    shown = [row for row in rows if row not in ("layer",) and not set(row) <= set("- ")]
    declared = [" + ".join(units) for units in G.LAYERS if units != ("__main__",)]
    assert shown == declared
