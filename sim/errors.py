"""The one error type that bad input raises, and how it reads."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: object) -> str:
    """``text`` as one printable line: every control character (newline, ESC, ...) escaped as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        str(text))


class InputError(ValueError):
    """Bad input: a params, seeds or scenario file, or a command-line argument.

    The message is one line naming the file, the key and the problem, so the
    command-line interface can print it as it is and exit with status 2.  Control characters
    taken from a file (a quoted key holding a newline or a terminal escape) are escaped, so they
    never reach the terminal raw nor split the line.  The error survives pickling, so bad input
    found in a pool or Dask worker reads as it would in the main process.
    """

    def __init__(self, source: object, key: str, problem: str) -> None:
        self.source = str(source)
        self.key = key
        self.problem = problem
        text = f"{self.source}: {key}: {problem}" if key else f"{self.source}: {problem}"
        super().__init__(printable(text))

    def __reduce__(self):
        return (type(self), (self.source, self.key, self.problem))


class OutputError(InputError):
    """An output place that cannot be written: a file in the way, no permission, a full disk,
    a name the file system refuses, or a folder another run is writing."""
