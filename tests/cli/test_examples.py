"""Every ``cartsim`` example in the README, in docs/ and in ``--help`` runs from a folder outside the repository.

The examples are collected from the text itself, so a new example is checked as soon as it is written.
The package under test is the one imported here (an installed wheel in CI, which reads the shipped trials
from the package; the source tree when run from it), run as ``python -m sim`` in a fresh temporary folder.

Fast: every example parses, and every trial, scenario or params file it names resolves there.
Slow: every example runs, the examples of one text in order (so ``cartsim new`` makes the file the next
example runs), with its counts made small (at most 40 trials, 10 draws, ...) so the whole set takes
minutes; an example that needs a Dask scheduler at a network address runs without ``--dask``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.cli.main import _parsers, build_parser, main

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PLACEHOLDER = re.compile(r"\b[A-Z]{3,}\b|\[|\.\.\.|<|: ")  # a usage line (PARAMS, [--trials N], ...) or output
SMALL = {"--trials": 40, "--draws": 10, "--tune": 50, "--inner": 2, "--samples": 8, "--trajectories": 2,
         "--bootstrap": 10, "--workers": 1, "--levels": 4}
FILE_ARGUMENTS = ("params", "base", "scenarios", "scenario", "template")
DEFAULT_COUNTS = {"run": {"--trials": 40}, "compare": {"--trials": 40, "--draws": 4, "--inner": 2},
                  "design": {"--trials": 40}, "validate": {"--trials": 40}, "calibrate": {"--trials": 40, "--draws": 20},
                  "psa": {"--draws": 10, "--inner": 2}, "oneway": {"--inner": 2}, "sobol": {"--samples": 8, "--inner": 2},
                  "morris": {"--trajectories": 2},
                  "evidence": {"--draws": 50, "--tune": 50, "--chains": 2, "--trials": 10}}  # small counts for what an example leaves at its default
# An evidence fit this small cannot meet the convergence bounds: it exits 1 after writing its files and saying
# NOT CONVERGED (its documented status), which is what the example is checked for.
NOT_CONVERGED = {"evidence": 1}


def _commands(lines: list[str]) -> list[str]:
    """The ``cartsim ...`` commands of some text lines, continuation lines joined, comments dropped."""
    found, pending = [], ""
    for raw in lines:
        line = raw.strip().removeprefix("$ ")
        if pending:
            line, pending = pending + " " + line, ""
        if not line.startswith("cartsim "):
            continue
        if line.endswith("\\"):
            pending = line[:-1].strip()
            continue
        line = line.split("  #")[0].split(" # ")[0].strip()
        if not PLACEHOLDER.search(line[len("cartsim "):]):
            found.append(line)
    return found


def _code_lines(text: str) -> list[str]:
    """The lines of a markdown text's code blocks (inline code names a command, it is not an example)."""
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
    return [line for block in blocks for line in block.splitlines()]


def examples() -> dict[str, list[str]]:
    """Each text's examples, in order: the README, each docs page, each command's ``--help``."""
    found = {path.name: _commands(_code_lines(path.read_text(encoding="utf-8"))) for path in TEXTS if path.is_file()}
    for parser in _parsers(build_parser()):
        found[f"{parser.prog} --help"] = _commands((parser.epilog or "").splitlines())
    return {where: commands for where, commands in found.items() if commands}


def small(command: str) -> list[str]:
    """The example's arguments with its counts made small and a remote Dask scheduler left out."""
    words = shlex.split(command)[1:]
    out = []
    for i, word in enumerate(words):
        if i and words[i - 1] in SMALL and word.isdigit():
            word = str(min(int(word), SMALL[words[i - 1]]))
        if word == "--dask" or (i and words[i - 1] == "--dask"):
            continue
        out.append(word)
    command = out[1] if out and out[0] == "sensitivity" and len(out) > 1 else (out[0] if out else "")
    if "--help" not in out and "-h" not in out:
        for option, value in DEFAULT_COUNTS.get(command, {}).items():
            out += [option, str(value)] if option not in out else []
    return out


def run_cartsim(arguments: list[str], folder: Path) -> subprocess.CompletedProcess:
    package_root = Path(sim.__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(package_root), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "sim", *arguments], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=900)


EXAMPLES = examples()


def test_there_are_examples_to_check():
    assert sum(map(len, EXAMPLES.values())) >= 10
    assert any(where.startswith("cartsim run") for where in EXAMPLES)


@pytest.mark.parametrize("where", sorted(EXAMPLES))
def test_every_example_parses_and_names_what_exists(where, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parser = build_parser()
    for command in EXAMPLES[where]:
        arguments = shlex.split(command)[1:]
        if arguments[0] == "new":
            assert main(arguments) == 0, command
        args = parser.parse_args(arguments)
        for name in FILE_ARGUMENTS:
            value = getattr(args, name, None)
            for path in value if isinstance(value, list) else [value] if value is not None else []:
                assert Path(path).exists(), f"{where}: {command}: {path} does not resolve outside the repository"


def own_copy(folder: Path) -> Path:
    """A folder holding a copy of the shipped params and seeds files: ``calibrate`` rewrites a params file in
    place, which must never be the shipped one (or the repository's, when the tests run from the source tree)."""
    import shutil

    from sim.inputs.trial_catalog import shipped_params_folder

    shipped = shipped_params_folder()
    shutil.copytree(shipped, folder / "params")
    shutil.copytree(shipped.parent / "seeds", folder / "seeds")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("where", sorted(EXAMPLES))
def test_every_example_runs_outside_the_repository(where, tmp_path):
    for command in EXAMPLES[where]:
        arguments = small(command)
        in_place = arguments[0] == "calibrate" and "--out" not in arguments
        folder = own_copy(tmp_path / "copy") if in_place and not (tmp_path / "copy").exists() else \
            tmp_path / "copy" if in_place else tmp_path
        done = run_cartsim(arguments, folder)
        expected = NOT_CONVERGED.get(arguments[0], 0)
        assert done.returncode == expected, f"{where}: {command}\n{done.stderr[-1500:]}"
        assert expected == 0 or "NOT CONVERGED" in done.stdout, f"{where}: {command}\n{done.stdout[-1500:]}"
