"""Joint posterior draws of a trial's calibrated parameters, kept beside its params file.

``cartsim calibrate params/NAME.toml`` writes ``params/NAME.posterior.csv`` (one row per draw, one
column per calibrated parameter, a spreadsheet opens it) and ``params/NAME.posterior.json`` (its
provenance: the calibrated value of each parameter, the sampler's diagnostics, the seed and the
CSV's SHA-256).  A run with parameter uncertainty takes the calibrated parameters of virtual trial
k together, from one row of the CSV chosen by trial k's own uniform of the ``posterior`` stream,
so the draws keep their correlation and every arm of a comparison sees the same row in trial k.

The rule for edits: a parameter is taken from the joint draws only while its entry is still the
calibrated (or predicted) one: source ``calibration`` (or ``predicted``, a new trial's levels from the
evidence synthesis) and the value the provenance records.  An entry that a
scenario or :meth:`~sim.inputs.params.Params.with_values` changes leaves the joint set and keeps
its own treatment; the other calibrated parameters keep their joint draws.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import InputError
from sim.rng.streams import uniforms

POSTERIOR_STREAM = "posterior"
JOINT_SOURCES = ("calibration", "predicted")  # entries whose draws beside the params file are taken jointly
RELATIVE_MATCH = 1e-9  # a calibrated value read back from TOML matches its record to this precision


@dataclass(frozen=True)
class PosteriorDraws:
    """Rows of joint draws (``values``: draws x parameters) and the calibrated value of each parameter."""

    path: Path
    sha256: str
    names: tuple[str, ...]
    values: np.ndarray
    fitted: dict[str, float]
    diagnostics: dict

    def manifest(self) -> dict:
        return {"file": self.path.name, "sha256": self.sha256, "draws": int(self.values.shape[0]),
                "parameters": list(self.names), "converged": bool(self.diagnostics.get("converged", False))}


def draws_paths(params_path: Path) -> tuple[Path, Path]:
    """The draws CSV and its provenance JSON beside a params file."""
    stem = Path(params_path).with_suffix("")
    return stem.with_name(stem.name + ".posterior.csv"), stem.with_name(stem.name + ".posterior.json")


def draws_csv_text(names: tuple[str, ...], values: np.ndarray) -> str:
    """The draws as CSV text: a ``draw`` column, then one column per parameter."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["draw", *names])
    for i, row in enumerate(values):
        writer.writerow([i, *(repr(float(v)) for v in row)])
    return out.getvalue()


def provenance_text(csv_text: str, csv_name: str, fitted: dict[str, float], diagnostics: dict, extra: dict) -> str:
    """The provenance JSON of a draws CSV."""
    record = {"draws_file": csv_name, "sha256": hashlib.sha256(csv_text.encode()).hexdigest(),
              "fitted": fitted, "diagnostics": diagnostics, **extra}
    return json.dumps(record, indent=2) + "\n"


def load_draws(params_path: Path) -> PosteriorDraws | None:
    """The joint draws beside ``params_path``, checked against their provenance; None if there are none."""
    csv_path, json_path = draws_paths(params_path)
    if not csv_path.is_file():
        return None
    if not json_path.is_file():
        raise InputError(csv_path, "provenance", f"'{json_path.name}' is missing beside it")
    data = csv_path.read_bytes()
    try:
        record = json.loads(json_path.read_text(encoding="utf-8"))
        fitted = {str(k): float(v) for k, v in record["fitted"].items()}
        expected = str(record["sha256"])
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise InputError(json_path, "fitted", f"not a posterior provenance record ({type(err).__name__})") from None
    sha = hashlib.sha256(data).hexdigest()
    if sha != expected:
        raise InputError(csv_path, "sha256", "the draws differ from those their provenance records; run cartsim calibrate again")
    names, values = _parse_csv(csv_path, data.decode("utf-8", errors="replace"))
    if set(names) != set(fitted):
        raise InputError(csv_path, "columns", "the columns differ from the parameters in the provenance record")
    return PosteriorDraws(csv_path, sha, names, values, fitted, dict(record.get("diagnostics", {})))


def _parse_csv(path: Path, text: str) -> tuple[tuple[str, ...], np.ndarray]:
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) < 2 or rows[0][:1] != ["draw"]:
        raise InputError(path, "header", "expected a 'draw' column and at least one row of draws")
    names = tuple(rows[0][1:])
    try:
        values = np.array([[float(v) for v in row[1:]] for row in rows[1:]], dtype=float)
    except ValueError:
        raise InputError(path, "values", "a draw is not a number") from None
    if values.shape[1] != len(names) or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise InputError(path, "values", "every draw must be a finite, non-negative number in every column")
    return names, values


def joint_paths(params, draws: PosteriorDraws | None) -> tuple[str, ...]:
    """Paths taken from the joint draws: entries still holding their calibrated value."""
    if draws is None:
        return ()
    return tuple(name for name in draws.names
                 if name in params.entries and params.entries[name].source in JOINT_SOURCES
                 and math.isclose(float(params[name]), draws.fitted[name], rel_tol=RELATIVE_MATCH, abs_tol=0.0))


def draw_rows(draws: PosteriorDraws, seed: int, trials: np.ndarray) -> np.ndarray:
    """The row of the draws used by each virtual trial: its own uniform of the ``posterior`` stream."""
    u = uniforms(seed, POSTERIOR_STREAM, np.atleast_1d(trials), 1)[:, 0]
    return np.minimum((u * draws.values.shape[0]).astype(int), draws.values.shape[0] - 1)


def joint_values(params, draws: PosteriorDraws | None, seed: int, trials: np.ndarray) -> dict[str, np.ndarray]:
    """Each joint path's value in each of ``trials`` (arrays along the trials)."""
    paths = joint_paths(params, draws)
    if not paths:
        return {}
    rows = draw_rows(draws, seed, trials)
    return {path: draws.values[rows, draws.names.index(path)] for path in paths}
