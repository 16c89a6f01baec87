"""Reading a TOML file, turning every failure into one InputError line.

Besides syntax, a file is refused here if it holds a whole number too large for a float (every
number of the model is used as one: a 401-digit integer would otherwise fail deep inside with an
``OverflowError``), or if its arrays and tables nest deeper than any params file needs.
"""

from __future__ import annotations

import hashlib
import sys
import tomllib
from pathlib import Path
from typing import Callable

from sim.errors import InputError

MAX_DEPTH = 32  # params, seeds and scenario files nest at most a handful of levels


def read_toml(path: Path, missing: Callable[[Path], str] | None = None) -> tuple[dict, str]:
    """The parsed table and the SHA-256 of the file's bytes; ``missing`` words the problem of a file that
    does not exist (default: the system's words)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as err:
        raise InputError(path, "", missing(path) if missing else f"cannot read file: {err.strerror}") from None
    except OSError as err:
        raise InputError(path, "", f"cannot read file: {err.strerror or err}") from None
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(path, "", f"not valid TOML: {err}") from None
    except RecursionError:
        raise InputError(path, "", "not valid TOML here: arrays or tables nested too deep") from None
    except ValueError as err:  # e.g. an integer of more digits than Python converts
        raise InputError(path, "", f"not valid TOML here: {err}") from None
    check_values(path, table)
    return table, hashlib.sha256(data).hexdigest()


def check_values(path: Path, table: dict) -> None:
    """Refuse whole numbers a float cannot hold and nesting deeper than :data:`MAX_DEPTH` (no recursion)."""
    stack: list[tuple[str, object, int]] = [("", table, 0)]
    while stack:
        where, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(path, where, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((f"{where}.{key}" if where else str(key), item, depth + 1) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item, depth + 1) for i, item in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
            raise InputError(path, where, f"number too large ({len(str(abs(value)))} digits; "
                             f"at most {sys.float_info.max:.3g})")
