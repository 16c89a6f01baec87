"""``cartsim validate``: every reported figure against virtual trials with parameter uncertainty."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.cli.options import IN_MEMORY, MAX_CALIBRATION_TRIALS, MAX_DRAWS, add_run_options, output_folder, whole

from sim.output.atomic_folder import staged_folder
from sim.cli.progress import ProgressBar

if TYPE_CHECKING:  # for annotations only; imported where used
    from sim.table import Table

NAME = "validate"
# every file validate may write: a run without --leave-one-out or --detectability removes their old tables,
# which would otherwise sit beside a validation they were not computed from
OUTPUTS = ("validation.csv", "validation.json", "validation.png", "validation.svg", "leave_one_out.csv",
           "detectability.csv", "detectability.png", "detectability.svg")
HELP = "check every reported figure against virtual trials with parameter uncertainty"
MIN_TRIALS = 40  # below this the 2.5th and 97.5th percentiles are the extremes of the sample
EPILOG = """\
outputs (in --out, default results/<trial name>):
  validation.csv        one row per figure of the seeds file: reported value, simulated median,
                        95% interval, percentile of the reported value (percentile, p_below,
                        p_at_or_below, percentile_mcse), central_band and band_margin_se,
                        calibration_target, pass/fail (or not modelled)
  validation.json       the same with the definitions and a manifest (versions, hashes, seed, command)
  validation.png/.svg   forest plot: each figure's simulated interval with the reported value marked
  leave_one_out.csv     with --leave-one-out: each calibration target against a refit that never saw it
                        (nor the figures that give it away); 'unidentified' when no other figure informs
                        the parameter fitted to it
  detectability.csv     with --detectability: parameter, shift, p_detect (the chance one real trial
                        fails validation when that parameter is wrong by that shift), its Monte Carlo
                        error, ...; shift 'none' is the false-alarm rate.  detectability.png/.svg: chart

percentile: mid-rank (mid-p), 100 x (P(X < r) + P(X = r)/2), so a count that ties with many virtual
trials sits in the middle of its own probability mass; p_below and p_at_or_below are P(X < r) and
P(X <= r), the interval a count's position spans; percentile_mcse is the percentile's Monte Carlo
standard error from the number of virtual trials compared.  pass: inside the central 95% interval.
central_band: 'inside' if the mid-p percentile lies in [20, 80] (the band calibration targets must
meet under parameter uncertainty), else 'outside'; band_margin_se: its distance from the nearer edge
in Monte Carlo standard errors (negative outside; within 2 the verdict is not settled).
roles: input (an entry cites the figure, or the cited figures determine it), calibrated (a calibration
target, or determined by targets and inputs), independent (neither).  A count 'k of n' is compared
with the virtual trials whose denominator is n (the predictive of k given n), so no bound exceeds n.
exit status: 0 if every modelled figure passes, 1 if any fails, 2 on bad input.

example:
  cartsim validate params/cd5_tall.toml --trials 2000 --seed 0"""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulate N virtual trials of the design in PARAMS, each with its parameters drawn from "
        "their uncertainty distributions, and place every figure of the trial's seeds file in the simulated "
        "distribution of the same figure.")
    add_run_options(parser, trials=2000, least=MIN_TRIALS)
    parser.add_argument("--leave-one-out", action="store_true",
                        help="also refit the calibration without each of its targets and predict it")
    parser.add_argument("--detectability", action="store_true",
                        help="also estimate, per uncertain parameter and shift, the chance that validation flags it")
    parser.add_argument("--replicates", type=whole(10, MAX_DRAWS, IN_MEMORY), default=400, metavar="R",
                        help="observed trials simulated per shift for --detectability (default: %(default)s)")
    parser.add_argument("--refit-trials", type=whole(10, MAX_CALIBRATION_TRIALS, IN_MEMORY), default=200, metavar="N",
                        help="simulated trials behind each refit of --leave-one-out (default: %(default)s)")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from sim.checks.validation_files import run_validation
    from sim.inputs.params import load_params


    if args.trials < MIN_TRIALS:
        raise InputError("--trials", "", f"validation needs at least {MIN_TRIALS} virtual trials for a 95% interval, "
                         f"got {args.trials}")
    params = load_params(args.params)
    if params.seeds.planned:
        print(f"{params.text['trial.title']}: its seeds file reports no figures (a planned trial), so there is nothing "
              "to compare; add the reported figures once the trial is published.")
        return 0
    out = output_folder(args.out, Path("results") / params.name)
    with staged_folder(out, replace=OUTPUTS) as folder:  # validation files join a run's outputs in the same folder
        with ProgressBar() as bar:
            validation = run_validation(params, trials=args.trials, seed=args.seed, progress=bar)
        written = validation.write(folder, ["cartsim", *argv])
        extra = []
        if args.leave_one_out:
            extra.append(_leave_one_out(params, args, folder))
        if args.detectability:
            extra.append(_detectability(params, validation, args, folder))
    results = validation.results
    print(f"{params.text['trial.title']}: {results.n_trials} virtual trials, seed {results.seed}, "
          "parameters drawn from their uncertainty")
    print(format_validation(validation.table))
    print(f"wrote {', '.join(p.name for p in written)} to {out}/")
    for text in extra:
        print(text)
    return 1 if validation.failed else 0


def _leave_one_out(params, args, folder: Path) -> str:
    """Write ``leave_one_out.csv`` into ``folder``; the text to print."""
    from sim.output.run_files import write_atomic
    from sim.output.shown_values import number


    from sim.analyses.leave_one_out import leave_one_out

    table = leave_one_out(params, trials=args.trials, seed=args.seed, calibration_trials=args.refit_trials,
                          draws=args.refit_trials)
    write_atomic(folder / "leave_one_out.csv", table.to_csv_text())
    lines = ["", "leave-one-out: each calibration target predicted by a calibration refitted without it and the "
             "figures that give it away"]
    for row in table.rows():
        result = (f"unidentified without it: {row['unidentified']}" if row["status"] == "unidentified" else
                  f"[{number(row['sim_low95'])}, {number(row['sim_high95'])}]  {row['status']}")
        lines.append(f"  {row['figure']:32} {number(row['reported']):>6}  hidden: {row['left_out']};  {result}")
    return "\n".join(lines + ["wrote leave_one_out.csv"])


def _detectability(params, validation, args, folder: Path) -> str:
    """Write ``detectability.csv`` and its chart into ``folder``; the text to print."""
    from sim.output.run_files import write_atomic


    from sim.analyses.detectability import detectability
    from sim.plots.detectability import draw

    table = detectability(params, validation.table, replicates=args.replicates, seed=args.seed,
                          reference=validation.results.trials)
    write_atomic(folder / "detectability.csv", table.to_csv_text())
    pictures = draw(table, folder, f"{params.name}: chance that one real trial fails validation, by parameter shift "
                    f"({args.replicates} replicates each)")
    alarm = table.rows()[0]
    lines = ["", f"detectability ({args.replicates} replicate trials per shift, other parameters at base values; "
             f"+- 95% Monte Carlo error): false-alarm rate {alarm['p_detect']:.3f}"]
    ranked = sorted((r for r in table.rows()[1:] if not math.isnan(r["p_detect"])), key=lambda r: -r["p_detect"])
    lines += [f"  {r['parameter']:44} {r['shift']:6} p_detect {r['p_detect']:.3f} +- {1.96 * r['mc_se']:.3f}"
              for r in ranked[:10]]
    return "\n".join(lines + [f"wrote detectability.csv and {', '.join(p.name for p in pictures)}"])


def format_validation(table: Table) -> str:
    """The validation table as plain text, with lines saying how it reads."""
    from sim.analyses.validation import NOT_MODELLED, PASS, failed

    lines = [f"{'figure':32} {'reported':>9} {'median':>7}  {'95% interval':<15} {'pctile +- mcse':>14}  "
             f"{'P(<r)-P(<=r)':<12} {'20-80':<7} result",
             f"{'-' * 32} {'-' * 9} {'-' * 7}  {'-' * 15} {'-' * 14}  {'-' * 12} {'-' * 7} {'-' * 6}"]
    role = None
    for row in table.rows():
        if row["role"] != role:
            role = row["role"]
            lines.append(f"[{role}]")
        lines.append(_figure_line(row))
    modelled = [r for r in table.rows() if r["status"] != NOT_MODELLED]
    lines += _role_lines(table)
    passed = sum(r["status"] == PASS for r in modelled)
    few = len(modelled) - len([r for r in modelled if r["central_band"]])
    lines.append(f"{passed} of {len(modelled)} modelled figures pass"
                 f"{f' ({few} not judged: too few virtual trials at their denominator; run more trials)' if few else ''}; "
                 f"{len(table) - len(modelled)} not modelled.  pass: inside the simulated central 95% interval.")
    lines += _band_lines(table)
    bad = failed(table)
    if bad:
        lines.append(f"FAILED: {', '.join(bad)}")
    return "\n".join(lines)


def _figure_line(row: dict) -> str:
    """One figure's line of the printed table."""
    from sim.analyses.validation import NOT_MODELLED, TOO_FEW
    from sim.output.shown_values import number
    from sim.stats.predictive_position import SETTLED

    reported = number(row["reported"]) + (f"/{int(row['of'])}" if not math.isnan(row["of"]) else "")
    name = row["figure"] + (" *" if row["calibration_target"] else "")
    if row["status"] == NOT_MODELLED:
        return f"{name:32} {reported:>9} {'-':>7}  {'-':<15} {'-':>14}  {'-':<12} {'-':<7} not modelled: {row['why']}"
    if row["status"] == TOO_FEW:
        return (f"{name:32} {reported:>9} {'-':>7}  {'-':<15} {'-':>14}  {'-':<12} {'-':<7} {TOO_FEW} "
                f"({int(row['trials_defined'])})")
    interval = f"[{number(row['sim_low95'])}, {number(row['sim_high95'])}]"
    pctile = f"{row['percentile']:.1f}% +- {row['percentile_mcse']:.1f}"
    spans = f"{row['p_below']:.2f}-{row['p_at_or_below']:.2f}"
    band = ("in" if row["central_band"] == "inside" else "OUT") + ("?" if abs(row["band_margin_se"]) < SETTLED else "")
    return (f"{name:32} {reported:>9} {number(row['sim_median']):>7}  {interval:<15} {pctile:>14}  {spans:<12} "
            f"{band:<7} {row['status']}")


def _role_lines(table: Table) -> list[str]:
    """What each role's passes show, and how many figures are genuinely independent."""
    from sim.analyses.validation import INDEPENDENT, independent_count, passes_by_role

    roles = "; ".join(f"{role} {n} of {m} pass" for role, (n, m) in passes_by_role(table).items())
    return [f"by role: {roles}.  Only independent figures test the model: an input is reproduced by "
            "construction, a calibration target by the fit.",
            f"genuinely independent figures: {independent_count(table)} (a figure is {INDEPENDENT} only when no "
            "entry cites it and the figures entries use do not determine it in every virtual trial).",
            "counts 'k/n' are compared at the reported n: only virtual trials whose denominator is n."]


def _band_lines(table: Table) -> list[str]:
    """How the percentile columns read, and the calibration targets against the central 20-80 band."""
    from sim.analyses.validation import judged_targets, outside_band
    from sim.stats.predictive_position import SETTLED

    judged, outside = judged_targets(table), outside_band(table)
    lines = ["pctile: mid-rank (mid-p) percentile of the reported value r among the simulated values X, "
             "100 x (P(X < r) + P(X = r)/2), +- its Monte Carlo standard error (percentage points) from the virtual "
             "trials compared; P(<r)-P(<=r): the interval a count's position spans.",
             "20-80: 'in' if the mid-p percentile lies in [20, 80]; '?' marks a verdict within "
             f"{SETTLED:g} Monte Carlo standard errors of an edge (not settled by this many trials).  * a calibration target."]
    if not judged:
        return lines + ["calibration targets in the 20-80 band: none judged (no calibration target, or too few trials)."]
    shown = "; ".join(f"{r['figure']} {r['percentile']:.1f}% +- {r['percentile_mcse']:.1f}" for r in judged
                      if r["figure"] in outside)
    return lines + [f"calibration targets in the 20-80 band: {len(judged) - len(outside)} of {len(judged)}"
                    + (f"; outside: {shown}" if outside else "") + "."]
