"""What every picture shares: a figure without pyplot's global state, the house style, saving."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Iterator

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.stats.intervals import median_interval

FORMATS = ("png", "svg")
DPI = 150
STYLE = {
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8.5,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.6, "svg.fonttype": "none",
    "figure.titlesize": 12, "figure.titleweight": "bold",
}
COLOURS = {
    "os": "#1f5a96", "lfs": "#2a9d8f", "relapse": "#c0392b", "nrm": "#7d3c98", "transplant": "#2e86c1",
    "reported": "#111111", "manufacturing_slots": "#d68910", "icu_beds": "#c0392b", "transplant_beds": "#2e86c1",
    "grey": "#8c8c8c", "paired": "#1f5a96", "independent": "#b0b0b0",
}
GRADE_COLOURS = {1: "#f9e79f", 2: "#f5b041", 3: "#e74c3c", 4: "#78281f"}


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """The house style for the drawing inside the block (matplotlib reads it when artists are made)."""
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure with an Agg canvas, independent of pyplot and of the user's backend."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def footnote(figure: Figure, text: str) -> None:
    """A small grey note under the plot: the data it rests on, or a caveat."""
    figure.supxlabel(text, fontsize=8, color="#555555", ha="center")


def band(ax, x: np.ndarray, low: np.ndarray, middle: np.ndarray, high: np.ndarray, colour: str, label: str) -> None:
    """A median line with a shaded band, drawn as steps (estimates that change at events)."""
    ax.fill_between(x, low, high, step="post", color=colour, alpha=0.18, linewidth=0)
    ax.step(x, middle, where="post", color=colour, linewidth=2, label=label)


SAVE_OPTIONS = {"png": {}, "svg": {"metadata": {"Date": None}}}  # no time stamp: the same figure, the same bytes
SVG_SALT = {"svg.hashsalt": "cartsim"}  # fixed ids inside an SVG (else random on every save)


def save(figure: Figure, folder: Path, name: str) -> list[Path]:
    """Write ``name``.png and ``name``.svg into ``folder``, each whole or not at all; saving the same figure
    again gives the same bytes."""
    paths = []
    for fmt in FORMATS:
        buffer = io.BytesIO()
        with matplotlib.rc_context(SVG_SALT):
            figure.savefig(buffer, format=fmt, dpi=DPI, **SAVE_OPTIONS[fmt])
        paths.append(_write_bytes(Path(folder) / f"{name}.{fmt}", buffer.getvalue()))
    return paths


def _write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def percentile_band(values: np.ndarray, min_defined: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2.5th, 50th and 97.5th percentiles over trials (rows) at each column; NaN where fewer than
    ``min_defined`` of the trials have a value there (too few trials still followed up)."""
    values = np.asarray(values, dtype=float)
    defined = ~np.isnan(values)
    enough = defined.mean(axis=0) >= min_defined if values.size else np.zeros(values.shape[1:], bool)
    out = np.full((3, values.shape[1]), np.nan)
    for j in np.flatnonzero(enough):
        mid, low, high = median_interval(values[defined[:, j], j])
        out[:, j] = low, mid, high
    return out[0], out[1], out[2]
