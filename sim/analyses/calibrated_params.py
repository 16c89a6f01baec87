"""Writing a calibration back into a params file: only the fitted entries' lines change.

Each fitted entry is rewritten in place (value, ``source = "calibration"``, its uncertainty and a
note naming the targets); comments and layout are kept.  The new text is loaded as a params file
before anything is written, and written atomically.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sim.analyses.calibration import Calibration, Fit
from sim.inputs.centring import MARKER, off_centre
from sim.inputs.params import load_params
from sim.inputs.uncertainty import parse_scalar
from sim.inputs.posterior_draws import draws_csv_text, draws_paths, provenance_text
from sim.inputs.params_text import inline_entry, number as toml_number, replace_entry, replace_text_value
from sim.output.run_files import write_atomic


def updated_text(result: Calibration, out: Path) -> str:
    """The params file's text with every fitted entry rewritten (and the seeds path made relative
    to ``out`` if the file moves)."""
    params = result.params
    text = params.path.read_text(encoding="utf-8")
    for fit in result.fits:
        text = replace_entry(text, fit.path, inline_entry(fit.value, "calibration", fit.uncertainty,
                                                          calibration_note(fit, result)), params.path)
    if Path(out).resolve().parent != params.path.resolve().parent:
        seeds = os.path.relpath(params.seeds.path.resolve(), Path(out).resolve().parent)
        text = replace_text_value(text, "trial.seeds", Path(seeds).as_posix(), params.path)
    return text


def calibration_note(fit: Fit, result: Calibration) -> str:
    """The note written beside a fitted entry: the run behind it, its targets, method and interval."""
    targets = ", ".join(f"{t.key} = {t.reported:g}" + (f"/{t.of:g}" if t.of is not None else f" {t.unit}".rstrip())
                        for t in fit.targets if not t.key.startswith("("))
    low, high = fit.interval
    return (f"calibrated by `cartsim calibrate` ({result.trials} simulated trials, seed {result.seed}) to {targets}: "
            f"{fit.method}; 95% interval {toml_number(low, 3)} to {toml_number(high, 3)}{_centre_reason(fit)}")


def _centre_reason(fit: Fit) -> str:
    """The reason, after the marker of :mod:`sim.inputs.centring`, when the fitted value is not the median of
    the uncertainty written with it (a maximum-likelihood or posterior-mean point estimate)."""
    if not fit.uncertainty:
        return ""
    written = parse_scalar({k: [float(toml_number(a)) for a in v] for k, v in fit.uncertainty.items()}, "", fit.path)
    if off_centre(float(toml_number(fit.value)), written, "") is None:
        return ""
    return (f"; {MARKER} the value is the fit's point estimate (its method above), the uncertainty the spread of "
            f"the fit, median {toml_number(written.ppf(0.5), 4)}")


def check_loads(text: str, out: Path) -> None:
    """Load ``text`` as a params file from a temporary file beside ``out`` (so that its seeds path
    resolves as it will there); raises InputError, and leaves ``out`` alone, if it does not load."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=".toml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        load_params(temporary)
    finally:
        Path(temporary).unlink(missing_ok=True)


def write_calibrated(result: Calibration, out: str | Path) -> Path | None:
    """Write the params file with the fitted entries into ``out``; None (nothing written) without fits."""
    out = Path(out)
    if not result.fits:
        return None
    text = updated_text(result, out)
    check_loads(text, out)
    write_atomic(out, text)
    return out


def write_posterior_draws(out: str | Path, sample, command: str) -> tuple[Path, Path]:
    """Write the joint posterior draws beside the params file ``out`` (as written by
    :func:`write_calibrated`): the draws CSV, then its provenance JSON naming the CSV's SHA-256 and the
    value each parameter holds in ``out``, so the draws apply only while those entries are unchanged."""
    out = Path(out)
    written = load_params(out)
    csv_path, json_path = draws_paths(out)
    text = draws_csv_text(sample.names, sample.draws)
    fitted = {name: float(written[name]) for name in sample.names}
    record = provenance_text(text, csv_path.name, fitted, sample.diagnostics(),
                             {"params_file": out.name, "command": command})
    write_atomic(csv_path, text)
    write_atomic(json_path, record)
    return csv_path, json_path


def remove_posterior_draws(out: str | Path) -> None:
    """Remove joint draws beside ``out`` (stale once the fits they rest on are rewritten)."""
    for path in draws_paths(Path(out)):
        path.unlink(missing_ok=True)
