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

import functools
import hashlib
import io
import json
import math
from pathlib import Path

import numpy as np

from sim.errors import InputError
from sim.rng.streams import uniforms
from sim.table import Table

POSTERIOR_STREAM = "posterior"
JOINT_SOURCES = ("calibration", "predicted")  # entries whose draws beside the params file are taken jointly
RELATIVE_MATCH = 1e-9  # a calibrated value read back from TOML matches its record to this precision


MAX_DRAWS_BYTES = 64 * 1024 * 1024  # calibrate writes about 20 bytes per draw and parameter: 1000 x 10 is 0.2 MB
MAX_RECORD_BYTES = 1024 * 1024  # the provenance JSON: a few hundred bytes per parameter


class PosteriorDraws:
    """Joint draws beside a params file: their columns and provenance are read and checked when the params
    file loads; the rows (``values``: draws x parameters) only when a run first uses them, and then checked
    against the SHA-256 the provenance records and against each parameter's domain.

    ``check(source, name, low=None, high=None)`` raises InputError, naming ``source``, if column ``name``
    is not a parameter of the params file, or its lowest or highest draw lies outside its domain.
    """

    def __init__(self, path: Path, sha256: str, names: tuple[str, ...], fitted: dict[str, float], diagnostics: dict,
                 check=None) -> None:
        self.path, self.sha256, self.names = Path(path), sha256, names
        self.fitted, self.diagnostics, self._check = fitted, diagnostics, check

    @functools.cached_property
    def values(self) -> np.ndarray:
        data = _read_bounded(self.path, MAX_DRAWS_BYTES, "draws")
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise InputError(self.path, "sha256", "the draws differ from those their provenance records; "
                             "run cartsim calibrate again")
        _, values = parse_draws(self.path, data.decode("utf-8", errors="replace"), len(self.names))
        if self._check is not None:
            for j, name in enumerate(self.names):
                self._check(self.path, name, float(values[:, j].min()), float(values[:, j].max()))
        return values

    def manifest(self) -> dict:
        return {"file": self.path.name, "sha256": self.sha256, "draws": int(self.values.shape[0]),
                "parameters": list(self.names), "converged": bool(self.diagnostics.get("converged", False))}


def draws_paths(params_path: Path) -> tuple[Path, Path]:
    """The draws CSV and its provenance JSON beside a params file."""
    stem = Path(params_path).with_suffix("")
    return stem.with_name(stem.name + ".posterior.csv"), stem.with_name(stem.name + ".posterior.json")


def draws_csv_text(names: tuple[str, ...], values: np.ndarray) -> str:
    """The draws as CSV text: a ``draw`` column, then one column per parameter (each name once)."""
    if len(set(names)) != len(names) or "draw" in names:
        raise ValueError(f"each parameter names one column, and none is 'draw': {names}")
    values = np.asarray(values, dtype=float).reshape(-1, len(names))
    columns = {"draw": np.arange(len(values)), **{name: values[:, j] for j, name in enumerate(names)}}
    return Table(columns).to_csv_text()


def provenance_text(csv_text: str, csv_name: str, fitted: dict[str, float], diagnostics: dict, extra: dict) -> str:
    """The provenance JSON of a draws CSV."""
    record = {"draws_file": csv_name, "sha256": hashlib.sha256(csv_text.encode()).hexdigest(),
              "fitted": fitted, "diagnostics": diagnostics, **extra}
    return json.dumps(record, indent=2) + "\n"


def load_draws(params_path: Path, check=None) -> PosteriorDraws | None:
    """The joint draws beside ``params_path``, their columns checked against their provenance; None if there
    are none.  The rows are read when first used (see :class:`PosteriorDraws`, and ``check`` there)."""
    csv_path, json_path = draws_paths(params_path)
    if not csv_path.is_file() and not json_path.is_file():
        return None
    if not json_path.is_file():
        raise InputError(csv_path, "provenance", f"'{json_path.name}' is missing beside it")
    if not csv_path.is_file():
        raise InputError(json_path, "draws_file", f"the draws '{csv_path.name}' it records are missing beside it; "
                         "run cartsim calibrate again, or remove it")
    try:
        record = json.loads(_read_bounded(json_path, MAX_RECORD_BYTES, "provenance record").decode("utf-8"))
        fitted = {str(k): float(v) for k, v in record["fitted"].items()}
        expected = str(record["sha256"])
        diagnostics = dict(record.get("diagnostics", {}))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise InputError(json_path, "fitted", f"not a posterior provenance record ({type(err).__name__})") from None
    names = _header(csv_path)
    if set(names) != set(fitted):
        extra, lacking = sorted(set(names) - set(fitted)), sorted(set(fitted) - set(names))
        problem = (f"column '{extra[0]}' is not a parameter its provenance '{json_path.name}' records" if extra
                   else f"lacks a column for '{lacking[0]}', which its provenance '{json_path.name}' records")
        raise InputError(csv_path, "columns", problem)
    for name in names if check is not None else ():
        check(csv_path, name)  # each column names a parameter of the params file
    return PosteriorDraws(csv_path, expected, names, fitted, diagnostics, check)


def _read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, refused (naming the limit) when the file is larger than ``limit``."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as err:
        raise InputError(path, "", f"cannot read file: {err.strerror or err}") from None
    if len(data) > limit:
        raise InputError(path, "", f"larger than a {what} file may be ({limit // (1024 * 1024)} MiB); "
                         "calibrate with fewer --draws")
    return data


def _header(path: Path) -> tuple[str, ...]:
    """The parameter columns of a draws CSV (after its ``draw`` column), each named once."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as stream:
            first = stream.readline(64 * 1024)
    except OSError as err:
        raise InputError(path, "", f"cannot read file: {err.strerror or err}") from None
    row = _csv_cells(first)
    if row[:1] != ["draw"] or len(row) < 2:
        raise InputError(path, "header", "expected a 'draw' column, then one column per calibrated parameter")
    names = tuple(row[1:])
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InputError(path, "columns", f"column '{twice[0]}' appears {names.count(twice[0])} times; each parameter "
                         "has one column")
    return names


def _csv_cells(line: str) -> list[str]:
    """The cells of one CSV line (quotes as CSV has them); [] for an empty line."""
    import polars as pl

    if not line.strip():
        return []
    frame = pl.read_csv(io.StringIO(line), has_header=False, infer_schema=False, n_rows=1)
    return ["" if cell is None else cell for cell in frame.row(0)]


def parse_draws(path: Path, text: str, width: int | None = None) -> tuple[tuple[str, ...], np.ndarray]:
    """The parameter names and values (rows: draws) of a draws CSV, after its ``draw`` column; InputError,
    naming ``path``, for a table that is not whole (``width`` columns if given) or holds a cell that is
    not a finite number."""
    import polars as pl

    whole = "every row must hold a draw number" + (f" and {width} values" if width is not None else " and its values")
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False, raise_if_empty=False)
    except pl.exceptions.PolarsError:
        raise InputError(path, "values", whole) from None
    if frame.height == 0:
        raise InputError(path, "values", "expected at least one row of draws")
    cells = frame[:, 1:]
    if (width is not None and cells.width != width) or any(cells.null_count().row(0)):
        raise InputError(path, "values", whole)
    numbers = cells.select(pl.all().str.strip_chars().cast(pl.Float64, strict=False))
    if any(numbers.null_count().row(0)):
        raise InputError(path, "values", "a draw is not a number")
    values = numbers.to_numpy()
    if not np.all(np.isfinite(values)):
        raise InputError(path, "values", "every draw must be a finite number")
    return tuple(cells.columns), values


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
    count = draws.values.shape[0]
    return np.minimum((u * count).astype(int), count - 1)


def joint_values(params, draws: PosteriorDraws | None, seed: int, trials: np.ndarray) -> dict[str, np.ndarray]:
    """Each joint path's value in each of ``trials`` (arrays along the trials)."""
    paths = joint_paths(params, draws)
    if not paths:
        return {}
    rows = draw_rows(draws, seed, trials)
    return {path: draws.values[rows, draws.names.index(path)] for path in paths}
