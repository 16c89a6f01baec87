"""``cartsim calibrate``: fit the inputs the paper gives only through outcomes, and write the params file."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.cli.options import IN_MEMORY, MAX_CALIBRATION_TRIALS, MAX_POSTERIOR_DRAWS, number, whole
from sim.output.atomic_folder import check_output_place

if TYPE_CHECKING:  # for annotations only; imported where used
    from sim.analyses.calibration import Calibration

NAME = "calibrate"
HELP = "fit the inputs known only through reported outcomes and write them into the params file"
EPILOG = """\
what is fitted (only what the trial's seeds file informs):
  withdrawal.progression_hazard              from a count withdrawn or not infused, given the waits
  accrual.cutoff_after_last_enrolment_days   from the median follow-up (at the base accrual period)
  late.*_hazard[_after_transplant]           levels of the late hazards, from the outcomes at cut-off by
                                             transplant status (after transplant: with the params file's prior)

method: maximum likelihood with censoring on a fixed-seed simulated exposure.  N virtual trials
(same seed for every candidate value) give each patient's waits and windows; the chance of each
reported outcome is exact for piecewise-constant competing hazards over them (each cause's shape
over time since infusion fixed, its level fitted); the reported counts are binomial or
multinomial.  Uncertainty: a Jeffreys posterior (after transplant: the params file's gamma prior
times the likelihood), written as a gamma [events, exposure] with its mean and variance.

the file is rewritten in place (or to --out): only the fitted entries' lines change (value,
source = "calibration", uncertainty, note); comments and layout are kept.  Beside it,
NAME.posterior.csv holds joint posterior draws of the fitted hazards (importance sampling from
the Laplace fit of the same likelihood and priors; NAME.posterior.json: provenance, SHA-256 and
diagnostics).  Runs with parameter uncertainty take those hazards together from one row per
virtual trial while their entries keep the calibrated values; an entry changed since (by a
scenario or an edit) keeps its own treatment.

example:
  cartsim calibrate params/cd5_tall.toml"""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fit the inputs of PARAMS that its paper gives only through outcomes to the figures of "
        "its seeds file, print the fit, and write the updated params file.")
    parser.add_argument("params", metavar="PARAMS", type=Path, help="a trial's params file, e.g. params/cd5_tall.toml")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="where to write the calibrated params file (default: PARAMS itself, in place)")
    parser.add_argument("--trials", type=whole(10, MAX_CALIBRATION_TRIALS, IN_MEMORY), default=1000, metavar="N",
                        help="virtual trials simulated for the exposure (default: %(default)s)")
    parser.add_argument("--seed", type=whole(0, None), default=0, metavar="S",
                        help="seed of those trials, the same for every candidate value (default: %(default)s)")
    parser.add_argument("--draws", type=whole(10, MAX_POSTERIOR_DRAWS, IN_MEMORY), default=1000, metavar="D",
                        help="posterior draws behind each fit's uncertainty (default: %(default)s)")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from sim.analyses.calibration import calibrate
    from sim.inputs.params import load_params
    from sim.analyses.calibrated_params import check_staged, stage_calibration, updated_text
    from sim.output.staged_files import StagedFiles

    params = load_params(args.params)
    out = _out_file(args.out, args.params)
    result = calibrate(params, trials=args.trials, seed=args.seed, draws=args.draws)
    print(f"{params.text['trial.title']}: calibration on {result.trials} simulated trials, seed {result.seed}, "
          f"{result.draws} posterior draws")
    print(format_calibration(result))
    if not result.fits:
        print(f"nothing to calibrate: {out} left as it was")
        return 0
    with StagedFiles(out.parent, f"{out.name} and its posterior draws") as files:  # swapped in together, or not
        draws, note = _joint(result, check_staged(files, result, out), out, args.draws)
        stage_calibration(files, out, updated_text(result, out), draws)
    print(f"wrote {out} ({len(result.fits)} {'entry' if len(result.fits) == 1 else 'entries'} calibrated)")
    if note:
        print(note)
    return 0


def _joint(result: Calibration, fitted, out: Path, draws: int) -> tuple[dict | None, str]:
    """The joint posterior draws of the fitted hazards to write beside ``out`` (None when there are none or
    their diagnostics fail), and the line that says so."""
    from sim.analyses.calibration.joint import joint_posterior
    from sim.analyses.calibrated_params import posterior_texts

    sample = joint_posterior(result, fitted, draws=draws)
    if sample is None:
        return None, ""
    if not sample.converged:
        return None, ("joint posterior not written (each parameter keeps its own distribution): "
                      + "; ".join(sample.problems))
    texts = posterior_texts(out, sample, fitted, "cartsim calibrate")
    hazards = f"{len(sample.names)} hazard{'s' if len(sample.names) > 1 else ''}"
    return texts, (f"wrote {next(iter(texts)).name} beside it: {len(sample.draws)} joint posterior draws of {hazards} "
                   f"(adaptive importance sampling from the Laplace fit; Pareto k-hat {sample.pareto_k:.2f}, effective "
                   f"sample size {sample.ess:.0f}), taken together by runs with parameter uncertainty")


def _out_file(out: Path | None, params_path: Path) -> Path:
    target = out if out is not None else params_path
    if target.exists() and not target.is_file():
        raise InputError(target, "--out", "exists and is not a file")
    if target.suffix != ".toml":
        raise InputError(target, "--out", "a params file must end in .toml")
    check_output_place(target.parent, "--out")
    if len(os.fsencode(target.name)) > 200:
        raise InputError(target, "--out", "the file name is longer than the file system allows")
    if target.parent.exists() and not os.access(target.parent, os.W_OK):
        raise InputError(target, "--out", f"cannot write in {target.parent}: permission denied")
    return target


def format_calibration(result: Calibration) -> str:
    """The fit as plain text: each fitted value with its interval and uncertainty, then the targets."""
    lines = [f"{'parameter':46} {'fitted':>10}  {'95% interval':<22} uncertainty",
             f"{'-' * 46} {'-' * 10}  {'-' * 22} {'-' * 11}"]
    for fit in result.fits:
        (kind, args), = fit.uncertainty.items()
        interval = f"[{_short(fit.interval[0])}, {_short(fit.interval[1])}]"
        lines.append(f"{fit.path:46} {_short(fit.value):>10}  {interval:<22} {kind} [{', '.join(_short(a) for a in args)}]")
    lines += ["", f"{'target (seeds figure)':36} {'reported':>12} {'model at fit':>13}  informs",
              f"{'-' * 36} {'-' * 12} {'-' * 13}  {'-' * 7}"]
    for key, (target, paths) in _targets(result).items():
        reported = number(target.reported) + (f"/{target.of:g}" if target.of is not None else f" {target.unit}".rstrip())
        lines.append(f"{key:36} {reported:>12} {target.at_fit:>13.2f}  {_informs(paths)}")
    if result.skipped:
        lines += ["", "not calibrated (they stay as the params file states them):"]
        lines += [f"  {path}: {why}" for path, why in result.skipped.items()]
    return "\n".join(lines)


def _targets(result: Calibration) -> dict:
    """Each target once, with the parameters it informs."""
    out: dict = {}
    for fit in result.fits:
        for target in fit.targets:
            out.setdefault(target.key, (target, []))[1].append(fit.path.split(".")[-1])
    return out


def _informs(names: list[str]) -> str:
    """Parameter names without the repeated words: 'relapse, infection_death, tma_death (after transplant)'."""
    after = all(name.endswith("_after_transplant") for name in names)
    short = [name.removesuffix("_after_transplant").removesuffix("_hazard") for name in names]
    return ", ".join(short) + (" (after transplant)" if after else "")


def _short(value: float) -> str:
    """A fitted value for the screen: 4 significant digits."""
    from sim.inputs.params_text import number as toml_number

    return "-" if value is None or math.isnan(value) else toml_number(value, 4)
