"""Running ``cartsim`` in this process for the reliability tests, and what a refusal must look like."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
from pathlib import Path

from sim.cli.main import main

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def in_process(*args, cwd: Path) -> subprocess.CompletedProcess:
    """``cartsim ARGS`` in this process (no interpreter start-up: fast); an argument error (argparse's
    SystemExit) is its exit status."""
    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as stop:
                code = stop.code
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def one_line(stderr: str) -> str:
    """The only non-blank line of ``stderr``, which holds no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]


def refused(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2 and one line, from ``cartsim``, without control characters, naming each of
    ``fragments``; returns the line."""
    assert result.returncode == 2, (result.returncode, result.stderr, result.stdout)
    line = one_line(result.stderr)
    assert line.startswith("cartsim"), line
    assert not CONTROL.search(line), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line
