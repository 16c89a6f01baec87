"""Reading a TOML file, turning every failure into one InputError line."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path


def read_toml(path: Path) -> tuple[dict, str]:
    """The parsed table and the SHA-256 of the file's bytes."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        from sim.errors import InputError

        raise InputError(path, "", f"cannot read file: {err.strerror or err}") from None
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        from sim.errors import InputError

        raise InputError(path, "", f"not valid TOML: {err}") from None
    return table, hashlib.sha256(data).hexdigest()
