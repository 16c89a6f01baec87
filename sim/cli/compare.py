"""``cartsim compare``: scenarios against a base on common random numbers, as paired differences."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.inputs.trial_catalog import trial_path
from sim.cli.options import IN_MEMORY, MAX_DRAWS, MAX_TRIALS, number, output_folder, whole
from sim.cli.progress import ProgressBar
from sim.output.atomic_folder import staged_folder

if TYPE_CHECKING:  # for annotations only; imported where used
    from sim.analyses.comparison import Comparison

NAME = "compare"
OUTPUTS = ("comparison.csv", "comparison.json", "report.md", "figures")
WIDTH = 110
HELP = "run scenarios against a base with common random numbers and print paired differences"
EPILOG = """\
BASE is a params file or a scenario file; each SCENARIO is a scenario file on the same base params file.
Headline (unless --base-values-only): each outcome's effect over parameter uncertainty - D parameter
draws (--draws), each arm running M virtual trials per draw (--inner) on common random numbers; the
effect is the 2.5th-97.5th percentile over draws of the expected difference, each endpoint with its
Monte Carlo standard error, shown with the Monte Carlo interval of its mean and the spread of the
difference between two real trials (other patients in each arm), and flagged (!) when it rests on
a parameter estimated from zero events.  Below, the base-values analysis (--base-values-only alone):
every arm runs on --seed, so virtual trial k has the same patients with the same luck in every arm,
and each outcome's difference scenario - base is taken trial by trial.  Printed per outcome: the
means, the mean difference with a 95% t interval for it, the spread (2.5th-97.5th percentile) of the
single-trial differences with the same patients in both arms and with other patients in each arm (two
real trials), and the width ratio: the interval's width over its width when the scenario
runs on another seed (--seed + 1) instead; below 1 means common random numbers sharpened it.

outputs in DIR (default results/<trial name>/compare/<BASE>_vs_<SCENARIO...>, one folder per set of arms;
a DIR holding a comparison of other arms is replaced only with --force):
  <arm>/            each arm's run outputs and report (see 'cartsim run --help')
  comparison.csv    per scenario and outcome: means, difference, interval, spread, width ratio
  comparison.json   the arms, seeds, trials and the interval used
  report.md         the comparison, with links to each arm's report
  figures/          with --plots: the comparison chart, and each arm's pictures in its folder

example:
  cartsim compare params/scenarios/cll1_dose_a.toml params/scenarios/cll1_dose_b.toml \\
      params/scenarios/cll1_dose_c.toml --trials 1000 --plots"""


def add_parser(commands) -> None:
    from sim.analyses.effects import DRAWS, INNER


    parser = commands.add_parser(
        NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run BASE and every SCENARIO with the same seed and print each outcome's paired difference "
        "from BASE with a 95% interval, and how much narrower that interval is than with independent seeds.")
    parser.add_argument("base", metavar="BASE", type=trial_path, help="a params file, or a scenario file to compare against")
    parser.add_argument("scenarios", metavar="SCENARIO", type=trial_path, nargs="+", help="scenario files on the same base")
    parser.add_argument("--trials", type=whole(2, MAX_TRIALS, IN_MEMORY), default=1000, metavar="N",
                        help="virtual trials per arm (default: %(default)s)")
    parser.add_argument("--seed", type=whole(0, None), default=0, metavar="S",
                        help="random seed of every arm (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output folder (default: results/<trial name>/compare/<BASE>_vs_<SCENARIO...>)")
    parser.add_argument("--parameter-uncertainty", action="store_true",
                        help="draw each trial's parameters from their uncertainty distributions, the same draw in "
                        "every arm for a parameter the scenarios leave alone")
    parser.add_argument("--draws", type=whole(2, MAX_DRAWS, IN_MEMORY), default=DRAWS, metavar="D",
                        help="parameter draws of the effect analysis (default: %(default)s)")
    parser.add_argument("--inner", type=whole(1, MAX_TRIALS, IN_MEMORY), default=INNER, metavar="M",
                        help="virtual trials per parameter draw and arm, on common random numbers (default: %(default)s)")
    parser.add_argument("--base-values-only", action="store_true",
                        help="skip the effect over parameter uncertainty: report only the Monte Carlo precision of "
                        "the mean difference at the base values")
    parser.add_argument("--plots", action="store_true", help="also draw the comparison chart and every arm's pictures")
    parser.add_argument("--force", action="store_true", help="replace a comparison of other arms in DIR")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from sim.analyses.comparison import arm_label, run_comparison, unique_labels, with_effects
    from sim.analyses.comparison_files import write_comparison
    from sim.inputs.scenarios import load_params_or_scenario, load_scenario, require_base
    from sim.output.folder_claims import claim_comparison, comparison_folder_name


    base = load_params_or_scenario(args.base)
    scenarios = [load_scenario(path) for path in args.scenarios]
    for scenario in scenarios:
        require_base(scenario, base)
    labels = unique_labels([arm_label(p) for p in (base, *scenarios)])
    _refuse_clashes(labels, [base, *scenarios])  # before anything runs
    out = output_folder(args.out, Path("results") / base.name / "compare" / comparison_folder_name(labels))
    claim_comparison(out, labels, args.force)  # another set of arms' comparison is replaced only with --force
    with staged_folder(out, replace=owned_entries(out, [base, *scenarios])) as folder:  # the place is checked and locked before anything runs
        with ProgressBar(label="trials, all arms") as bar:
            comparison = run_comparison(base, scenarios, args.trials, args.seed, args.parameter_uncertainty,
                                        progress=bar)
        if not args.base_values_only:
            with ProgressBar(label="parameter draws") as bar:
                comparison = with_effects(comparison, args.draws, args.inner, progress=bar)
        written = write_comparison(comparison, folder, command=["cartsim", *argv])
        if args.plots:
            from sim.plots.draw import draw_folder  # matplotlib loads only when pictures are drawn

            written += draw_folder(folder)
    print(format_comparison(comparison))
    print(f"wrote {len(set(written))} files to {out}/")
    return 0


def _refuse_clashes(labels: list[str], arms: list) -> None:
    """An arm's folder may not take the name of one of the comparison's own files or folders (compared
    without case, as some file systems do)."""
    own = {name.lower(): name for name in OUTPUTS}
    for label, arm in zip(labels, arms):
        if label.lower() in own:
            what = "scenario" if arm.scenario is not None else "trial"
            raise InputError(arm.path, "name", f"the {what} name '{label}' would name its folder like the comparison's "
                             f"own '{own[label.lower()]}': rename the {what} (its file) and compare again")


def owned_entries(out: Path, arms: list) -> list[str]:
    """What a comparison replaces in its folder: its files, its arms' folders, and the arm folders an earlier
    comparison there named (other files and folders are kept)."""
    from sim.analyses.comparison import arm_label, unique_labels
    from sim.inputs.params import folder_name_problem


    owned = [*OUTPUTS, *unique_labels([arm_label(p) for p in arms])]
    try:
        meta = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
        owned += [arm["folder"] for arm in (meta["base"], *meta["scenarios"])
                  if isinstance(arm.get("folder"), str) and folder_name_problem(arm["folder"]) is None]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return owned


def format_comparison(comparison: Comparison) -> str:
    """Every scenario's table of outcomes that moved, key outcomes first, then the paper's figures."""
    from sim.analyses.comparison_files import moved


    base = comparison.base
    if comparison.settings:
        return format_effects(comparison)
    lines = [f"Scenarios against {base.label}: {base.results.n_trials} virtual trials per arm, seed {comparison.seed} "
             f"(common random numbers); independent comparison on seed {comparison.independent_seed}.",
             "difference = scenario - base in the same virtual trial, mean with a 95% t interval for the mean; "
             "same patients = 2.5th-97.5th percentile of single-trial differences with the same patients in both arms "
             "(no pair of real trials can have that); two real trials = the same with other patients in each arm;",
             "width = interval width with common random numbers / with independent seeds (below 1: narrower)."]
    for arm in comparison.scenarios:
        rows = [r for r in comparison.table.rows() if r["scenario"] == arm.label]
        title = arm.params.scenario.title if arm.params.scenario is not None else arm.label
        lines += ["", f"{arm.label}: {title}", _header()]
        lines += [_line(r) for r in rows if r["key"] and moved(r)]
        lines += ["  the paper's figures (counts per trial):"] + [_line(r) for r in rows if not r["key"] and moved(r)]
        identical = [r["outcome"] for r in rows if r["trials_paired"] and not moved(r)]
        undefined = [r["outcome"] for r in rows if not r["trials_paired"]]
        for what, names in (("identical in every trial", identical), ("undefined in every trial", undefined)):
            if names:
                lines.append(textwrap.fill(f"{what}: {', '.join(names)}", WIDTH, initial_indent="  ",
                                           subsequent_indent="    "))
    return "\n".join(lines)


def format_effects(comparison: Comparison) -> str:
    """Key outcomes with the intervals: effect (headline) with its endpoints' Monte Carlo error, Monte Carlo
    error of the mean, two real trials."""
    from sim.analyses.comparison_files import effect_text, moved, signed


    s = comparison.settings
    lines = [f"Scenarios against {comparison.base.label}: {s['draws']} parameter draws x {s['inner']} virtual trials per "
             f"draw and arm, seed {comparison.seed}, common random numbers across arms.",
             "effect: median [2.5th, 97.5th percentile] over parameter draws of the expected difference (scenario - base)"
             " - the interval a decision rests on;",
             "(+-: Monte Carlo standard error of each endpoint, from the finite number of draws); mean [MC]: the mean "
             "effect with its 95% Monte Carlo interval (simulation precision only);",
             "two real trials: 2.5th-97.5th percentile of the difference between two trials with different patients "
             "in the same world (one draw);",
             "! = rests on a parameter estimated from zero events (see the report)."]
    for arm in comparison.scenarios:
        title = arm.params.scenario.title if arm.params.scenario is not None else arm.label
        lines += ["", f"{arm.label}: {title}",
                  f"  {'outcome':20} {'effect [95% over parameters] (+- MC s.e.)':<44} {'mean [MC 95%]':<30} "
                  f"{'two real trials':<20} zero-event"]
        for r in comparison.table.rows():
            if r["scenario"] == arm.label and r["key"] and moved(r):
                effect = effect_text(r)
                mc = f"{signed(r['effect_mean'])} [{signed(r['mc_low95'])}, {signed(r['mc_high95'])}]"
                trial = f"[{signed(r['two_trials_low95'])}, {signed(r['two_trials_high95'])}]"
                flag = f"! {r['zero_event_parameters']}" if r["zero_event_parameters"] else ""
                lines.append(f"  {r['outcome']:20} {effect:<44} {mc:<30} {trial:<20} {flag}")
    return "\n".join(lines)


def _header() -> str:
    return (f"  {'outcome':28} {'base':>8} {'scenario':>9}  {'difference [95% CI]':<31} {'same patients':<20} "
            f"{'two real trials':<20} {'width':>5}")


def _line(row: dict) -> str:
    from sim.analyses.comparison_files import signed


    interval = f"{signed(row['diff_mean'])} [{signed(row['diff_low95'])}, {signed(row['diff_high95'])}]"
    spread = f"[{signed(row['spread_low95'])}, {signed(row['spread_high95'])}]"
    two = f"[{signed(row['two_trials_low95'])}, {signed(row['two_trials_high95'])}]"
    return (f"  {row['outcome']:28} {number(row['base_mean']):>8} {number(row['scenario_mean']):>9}  "
            f"{interval:<31} {spread:<20} {two:<20} {number(row['width_ratio']):>5}")

