"""The package's import graph and its declared layers: print the graph between packages, list what breaks the layers.

    python scripts/import_graph.py            # packages, each with the packages it imports, by layer
    python scripts/import_graph.py --modules  # the same between modules

``LAYERS`` is the one declaration of the order, bottom first.  A package may import only packages of a
lower layer.  An import that must run back up says why on its own line, in a comment that starts with
``# upward:``.  ``tests/test_layers.py`` fails on any other import back up and on any circle between modules.

Every import counts, also one inside a function (it still makes the module depend on the other one),
except those under ``if TYPE_CHECKING:``, which only a type checker runs.
"""

from __future__ import annotations

import argparse
import ast
import graphlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Bottom first.  A unit is a subpackage of sim (``inputs``), a top-level module (``errors``, ``table``), or
# ``sim`` itself: the public API of sim/__init__.py.  Units of one layer do not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("errors",),                  # the one exception type users catch
    ("table",),                   # the core container of columns
    ("rng",),                     # named counter-based random streams
    ("inputs",),                  # params files, scenarios, papers' figures, parameter draws, design settings
    ("stats",),                   # estimators over a batch of trials
    ("model",),                   # one patient's course
    ("engines",),                 # the queues resolved by SimPy or by cohort arrays
    ("output",),                  # the files of a run: tables, report, folder written atomically and read back
    ("runs",),                    # run many trials: the runner and its Results
    ("analyses",),                # validation, calibration, comparison, effects
    ("plots",),                   # pictures
    ("design", "sensitivity"),    # dose-finding designs; sensitivity analyses
    ("checks",),                  # validation against a paper, the benchmark
    ("sim",),                     # the public API
    ("cli",),                     # the cartsim command
    ("__main__",),                # python -m sim
]
MARK = "# upward:"


@dataclass(frozen=True)
class Import:
    """One import of a module of sim by another: where it is written, and its comment if any."""

    source: str
    target: str
    path: Path
    line: int
    comment: str

    @property
    def upward(self) -> bool:
        """Whether the import runs back up the layers."""
        return layer(unit(self.target)) >= layer(unit(self.source)) and unit(self.target) != unit(self.source)

    @property
    def explained(self) -> bool:
        """Whether a ``# upward:`` comment with a reason is on the import's lines."""
        reason = self.comment.partition(MARK)[2].strip()
        return MARK in self.comment and bool(reason)


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the sim package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((root / "sim").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def unit(module: str) -> str:
    """The layer unit of a module: ``sim.inputs.params`` -> ``inputs``; ``sim`` -> ``sim``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer(name: str) -> int:
    """The layer index of a unit (0 at the bottom); KeyError for a unit no layer declares."""
    for index, units in enumerate(LAYERS):
        if name in units:
            return index
    raise KeyError(f"{name!r} is in no layer of scripts/import_graph.py's LAYERS")


def imports(root: Path = ROOT) -> list[Import]:
    """Every import between modules of sim, outside ``if TYPE_CHECKING:`` blocks."""
    known = modules(root)
    found = []
    for name, path in known.items():
        text = path.read_text()
        lines = text.splitlines()
        for node in _runtime_imports(ast.parse(text)):
            comment = " ".join(line.partition("#")[1] + line.partition("#")[2]
                               for line in lines[node.lineno - 1:node.end_lineno])
            for target in _targets(node, name, path, known):
                found.append(Import(name, target, path.relative_to(root), node.lineno, comment))
    return found


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of a module that run: all but those under ``if TYPE_CHECKING:``."""
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _type_checking(node.test)
               for stmt in node.body for n in ast.walk(stmt)}
    return [node for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skipped]


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _targets(node: ast.Import | ast.ImportFrom, name: str, path: Path, known: dict[str, Path]) -> list[str]:
    """The modules of sim an import statement reads (a name imported from a package may be a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in known]
    base = node.module or ""
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join(package + ([node.module] if node.module else []))
    if base not in known:
        return []
    return sorted({f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names})


def circles(found: list[Import]) -> list[str] | None:
    """One circle between modules (as a list of names, first = last), or None when there is none."""
    graph: dict[str, set[str]] = defaultdict(set)
    for item in found:
        if item.target != item.source:
            graph[item.source].add(item.target)
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        return list(error.args[1])
    return None


def package_graph(found: list[Import]) -> dict[str, set[str]]:
    """Each unit with the units it imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for item in found:
        if unit(item.target) != unit(item.source):
            graph[unit(item.source)].add(unit(item.target))
    return graph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", action="store_true", help="the graph between modules, not packages")
    args = parser.parse_args(argv)
    found = imports()
    if args.modules:
        graph: dict[str, set[str]] = defaultdict(set)
        for item in found:
            graph[item.source].add(item.target)
        for source in sorted(graph, key=lambda m: (layer(unit(m)), m)):
            print(f"{source} -> {', '.join(sorted(graph[source]))}")
    else:
        graph = package_graph(found)
        for index, units in reversed(list(enumerate(LAYERS))):
            for name in units:
                below = sorted(graph.get(name, ()), key=lambda u: (-layer(u), u))
                print(f"{index:2d} {name:<12} -> {', '.join(below) or '(nothing)'}")
    for item in found:
        if item.upward:
            state = "explained" if item.explained else "NOT EXPLAINED"
            print(f"upward ({state}): {item.path}:{item.line} {item.source} -> {item.target}")
    circle = circles(found)
    if circle:
        print("circle: " + " -> ".join(circle))
    return 1 if circle or any(item.upward and not item.explained for item in found) else 0


if __name__ == "__main__":
    raise SystemExit(main())
