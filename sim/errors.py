"""The one error type that bad input raises, and how it reads."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: a params, seeds or scenario file, or a command-line argument.

    The message is one line naming the file, the key and the problem, so the
    command-line interface can print it as it is and exit with status 2.
    """

    def __init__(self, source: object, key: str, problem: str) -> None:
        self.source = str(source)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.source}: {key}: {problem}" if key else f"{self.source}: {problem}")
