"""Output folders that never clobber another run's results silently.

A run folder belongs to one params (or scenario) file, a comparison folder to one set of arms.
Writing into a folder that holds another's results is refused unless ``--force``; a comparison's
default folder is named after its arms, so two comparisons of one trial never share it (and when one
replaces another with ``--force``, the staged write in :mod:`sim.output.atomic_folder` removes the
earlier comparison's arm folders).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sim.errors import InputError

MAX_NAME = 80


def comparison_folder_name(labels: list[str]) -> str:
    """``BASE_vs_A_B``, shortened with a hash of the whole when longer than ``MAX_NAME`` characters."""
    name = f"{labels[0]}_vs_{'_'.join(labels[1:])}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[:MAX_NAME - 11]}_{digest}"


def claim_comparison(out: Path, labels: list[str], force: bool) -> None:
    """Refuse to replace a comparison of other arms in ``out`` unless ``force``."""
    previous = _json(out / "comparison.json")
    if previous is None or force:
        return
    arms = [previous.get("base", {}).get("label"), *[a.get("label") for a in previous.get("scenarios", [])]]
    if arms != labels:
        raise InputError(out, "--out", f"holds another comparison ({arms[0]} against {', '.join(map(str, arms[1:]))}); "
                         "choose another --out, or pass --force to replace it")


def claim_run(out: Path, params_file: str, force: bool, sha256: str = "") -> None:
    """Refuse to write a run of ``params_file`` over another params file's results in ``out`` unless ``force``.

    The same file named another way (from another folder) with the same SHA-256 is not another file.
    """
    previous = _json(out / "summary.json")
    if previous is None or force:
        return
    earlier = previous.get("manifest", {}).get("params_file")
    same_content = bool(sha256) and previous.get("manifest", {}).get("params_sha256") == sha256
    if earlier and earlier != params_file and not same_content:
        raise InputError(out, "--out", f"holds the results of {earlier}, not {params_file}; choose another --out, "
                         "or pass --force to replace them")


def _json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
