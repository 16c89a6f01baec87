"""The README and docs/ name only files, modules and commands that exist.

Every markdown file is read for three kinds of name:

- file paths: inline code or a link target that starts with a top-level folder or file of the
  repository (``sim/``, ``tests/``, ``params/``, ...); code spans are relative to the repository
  root, link targets to the markdown file's folder;
- modules: ``sim.xxx`` dotted names; the longest prefix that is a module file or package must
  exist, and the next name must be an attribute of it;
- commands: ``cartsim WORD`` (and ``cartsim sensitivity WORD``): WORD must be a subcommand of the
  command-line parser.

A name a user makes (``params/my_trial.toml`` written by ``cartsim new``) is listed in ``MADE_BY_USER``.
"""

from __future__ import annotations

import argparse
import importlib
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = ("sim/", "tests/", "params/", "seeds/", "docs/", "scripts/", ".ci/")
ROOT_FILES = ("README.md", "pyproject.toml", "CITATION.cff", "LICENSE")
# files the examples have a user create (cartsim new ...), not files of the repository
MADE_BY_USER = ("my_trial", "params/my.toml", "seeds/my.toml")

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
MODULE = re.compile(r"(?<![\w./-])sim(?:\.[A-Za-z_]\w*)+")
COMMAND = re.compile(r"(?<![\w-])cartsim[ \t]+([a-z][\w+-]*)(?:[ \t]+([a-z][\w+-]*))?")
PATH = re.compile(r"[\w.+*-]+(?:/[\w.+*<>-]*)+|[\w.-]+\.(?:md|toml|cff)\b|LICENSE")


def markdown_files() -> list[Path]:
    """README.md and every markdown file under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]


def named_paths(text: str) -> list[str]:
    """Repository paths named in code spans (relative to the repository root)."""
    found = []
    for span in CODE.findall(text):
        for token in PATH.findall(span):
            token = token.rstrip(".,;:")
            if token.startswith(TOP_LEVEL) or token in ROOT_FILES:
                found.append(token)
    return found


def named_links(text: str) -> list[str]:
    """Relative link targets (no URL, no anchor-only link), without their anchor."""
    targets = [t.split("#")[0] for t in LINK.findall(text)]
    return [t for t in targets if t and "://" not in t and not t.startswith("mailto:")]


def named_modules(text: str) -> list[str]:
    """Dotted ``sim.xxx`` names."""
    return [m.rstrip(".") for m in MODULE.findall(text)]


def named_commands(text: str) -> list[tuple[str, str]]:
    """``(command, next word)`` pairs after ``cartsim`` in code (fenced blocks and code spans), not prose."""
    fenced = FENCE.findall(text)
    spans = CODE.findall(FENCE.sub("", text))
    return [pair for code in fenced + spans for pair in COMMAND.findall(code)]


def path_exists(path: str, base: Path = ROOT) -> bool:
    """A file or folder; a pattern with ``*`` must match something."""
    if "*" in path:
        return any(base.glob(path))
    return (base / path).exists()


def wheel_packages() -> set[str]:
    """Packages the wheel maps from other folders (the shipped trials, ``sim.shipped.*``)."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return {name for name in [*setuptools.get("packages", []), *setuptools.get("package-dir", {})]
            if name.startswith("sim.shipped")}


def module_problem(name: str) -> str | None:
    """Why ``name`` does not exist, or None: a module prefix (file or package), then one attribute."""
    if any(package == name or package.startswith(name + ".") for package in wheel_packages()):
        return None
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = parts[:cut]
        as_file = ROOT.joinpath(*prefix[:-1], prefix[-1] + ".py")
        as_package = ROOT.joinpath(*prefix, "__init__.py")
        if as_file.is_file() or as_package.is_file():
            break
    else:
        return "no such module"
    rest = parts[cut:]
    if not rest:
        return None
    module = importlib.import_module(".".join(prefix))
    if hasattr(module, rest[0]):
        return None
    try:
        importlib.import_module(".".join(prefix + rest[:1]))
        return None
    except ImportError:
        return f"{'.'.join(prefix)} has no {rest[0]}"


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """A parser's subcommands by name."""
    return {name: sub for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name, sub in action.choices.items()}


def command_problem(parser: argparse.ArgumentParser, word: str, second: str) -> str | None:
    """Why ``cartsim word second`` names no command, or None."""
    commands = subcommands(parser)
    if word not in commands:
        return f"no command {word!r}"
    inner = subcommands(commands[word])
    if inner and second and second not in inner and not second.startswith("-"):
        return f"no subcommand {word} {second!r}"
    return None


def is_user_made(name: str) -> bool:
    return any(part in name for part in MADE_BY_USER)


def problems(text: str, where: Path, parser: argparse.ArgumentParser) -> list[str]:
    """Every name in ``text`` that does not exist, as 'kind name: why'."""
    out = [f"path {p}" for p in named_paths(text) if not is_user_made(p) and not path_exists(p)]
    out += [f"link {t}" for t in named_links(text) if not path_exists(t, where.parent)]
    out += [f"module {m}: {why}" for m in named_modules(text) if (why := module_problem(m))]
    out += [f"command cartsim {w}: {why}" for w, s in named_commands(text)
            if (why := command_problem(parser, w, s))]
    return out


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    from sim.cli.main import build_parser

    return build_parser()


MADE_UP = """
The engine is in `sim/cli/main.py` and the old one in `sim/pathway.py`; see [the guide](nowhere.md)
and [the licence](../LICENSE).  Call `sim.load_params` or `sim.nothing_here`, or read `sim.outcomes`.
Run cartsim in prose, `cartsim run cd5_tall`, `cartsim frobnicate`, `cartsim sensitivity psa` and `cartsim sensitivity tea`.
Tests: `tests/test_validation.py`, `tests/test_sensitivity_*.py`.  Made by you: `params/my_trial.toml`.
"""


def test_the_extractor_finds_each_kind_of_name():
    assert named_paths(MADE_UP) == ["sim/cli/main.py", "sim/pathway.py", "tests/test_validation.py",
                                    "tests/test_sensitivity_*.py", "params/my_trial.toml"]
    assert named_links(MADE_UP) == ["nowhere.md", "../LICENSE"]
    assert named_modules(MADE_UP) == ["sim.load_params", "sim.nothing_here", "sim.outcomes"]
    assert [w for w, _ in named_commands(MADE_UP)] == ["run", "frobnicate", "sensitivity", "sensitivity"]


def test_the_check_fails_on_names_that_do_not_exist(parser):
    found = problems(MADE_UP, ROOT / "docs" / "made_up.md", parser)
    assert found == [
        "path sim/pathway.py", "path tests/test_validation.py", "path tests/test_sensitivity_*.py",
        "link nowhere.md",
        "module sim.nothing_here: sim has no nothing_here", "module sim.outcomes: sim has no outcomes",
        "command cartsim frobnicate: no command 'frobnicate'",
        "command cartsim sensitivity: no subcommand sensitivity 'tea'",
    ]


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 300


@pytest.mark.parametrize("doc", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_name_in_the_docs_exists(doc, parser):
    assert problems(doc.read_text(encoding="utf-8"), doc, parser) == []
