"""Writing a calibration back into a params file: only the fitted entries' lines change.

Each fitted entry is rewritten in place (value, ``source = "calibration"``, its uncertainty and a
note naming the targets); comments and layout are kept.  The new text is loaded as a params file
before anything is written, and the params file and its joint posterior draws are replaced together
(:mod:`sim.output.staged_files`): an interrupt or a failure at any moment leaves the old pair whole.
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.analyses.calibration import Calibration, Fit
from sim.errors import InputError
from sim.inputs.centring import MARKER, off_centre
from sim.inputs.params import load_params
from sim.inputs.uncertainty import parse_scalar
from sim.inputs.posterior_draws import draws_csv_text, draws_paths, provenance_text
from sim.inputs.params_text import inline_entry, number as toml_number, replace_entries, replace_text_value


def updated_text(result: Calibration, out: Path) -> str:
    """The params file's text with every fitted entry rewritten, and its seeds path made relative to
    ``out`` if the file moves, unless the path it states already finds the same seeds file from there
    (the copy ``cartsim calibrate --out`` makes beside a new folder)."""
    params = result.params
    text = params.path.read_text(encoding="utf-8")
    text = replace_entries(text, {fit.path: inline_entry(fit.value, "calibration", fit.uncertainty,
                                                         calibration_note(fit, result)) for fit in result.fits},
                           params.path)
    if Path(out).resolve().parent != params.path.resolve().parent and not _same_seeds_from(params, out):
        text = seeds_relative_to(text, params, out)
    return text


def seeds_relative_to(text: str, params, place: Path) -> str:
    """``params``' text ``text`` with its seeds path made to find the same seeds file from a file at ``place``."""
    seeds = os.path.relpath(Path(params.seeds.path).resolve(), Path(place).resolve().parent)
    return replace_text_value(text, "trial.seeds", Path(seeds).as_posix(), params.path)


def _same_seeds_from(params, out: Path) -> bool:
    """Whether the seeds path the params file states, read from ``out``'s folder, finds a file with the
    same content as the params file's own seeds file."""
    stated = params.text.get("trial.seeds")
    if not stated or params.seeds.path is None:
        return False
    found = Path(out).parent / stated
    return found.is_file() and found.read_bytes() == Path(params.seeds.path).read_bytes()


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


def check_staged(files, result: Calibration, out: Path):
    """The new params text loaded where it lies in the stage ``files`` (a
    :class:`~sim.output.staged_files.StagedFiles` under ``out``'s folder), its seeds path made to
    resolve from there; raises InputError naming ``out`` if it does not load.  Nothing is written."""
    staged = files.staged(out)
    try:
        return load_params(files.put(out, updated_text(result, staged)))
    except InputError as err:
        raise InputError(out, err.key, f"{err.problem} (in the calibrated copy; nothing was written)") from None


def posterior_texts(out: str | Path, sample, fitted_params, command: str) -> dict[Path, str]:
    """The joint posterior draws to write beside the params file ``out``: the draws CSV, and its
    provenance JSON naming the CSV's SHA-256 and the value each parameter holds in ``out`` (as
    ``fitted_params``, the checked new params, give it), so the draws apply only while those entries
    are unchanged."""
    csv_path, json_path = draws_paths(Path(out))
    text = draws_csv_text(sample.names, sample.draws)
    fitted = {name: float(fitted_params[name]) for name in sample.names}
    record = provenance_text(text, csv_path.name, fitted, sample.diagnostics(),
                             {"params_file": Path(out).name, "command": command})
    return {csv_path: text, json_path: record}


def stage_calibration(files, out: str | Path, text: str, draws: dict[Path, str] | None) -> list[Path]:
    """Stage the params file ``out`` with ``text`` and its posterior draws into ``files``, to be swapped in
    together; without ``draws`` any earlier draws there are removed with the same swap, since they rest on
    the fits being replaced.  Returns the files staged."""
    out = Path(out)
    files.put(out, text)
    for path in draws_paths(out):
        if draws:
            files.put(path, draws[path])
        else:
            files.remove(path)
    return [out, *(draws or {})]


def write_calibration(out: str | Path, text: str, draws: dict[Path, str] | None) -> list[Path]:
    """Replace the params file ``out`` and its posterior draws (from :func:`posterior_texts`) together, or
    neither; returns the files written."""
    from sim.output.staged_files import StagedFiles

    out = Path(out)
    with StagedFiles(out.parent, f"{out.name} and its posterior draws") as files:
        return stage_calibration(files, out, text, draws)
