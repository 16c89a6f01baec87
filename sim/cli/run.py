"""``cartsim run``: simulate virtual trials and compare them with the reported figures."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from sim.inputs.trial_catalog import trial_path
from sim.cli.options import add_run_options, format_summary, output_folder
from sim.cli.progress import ProgressBar

if TYPE_CHECKING:
    from sim.inputs.params import Params

NAME = "run"
HELP = "simulate virtual trials and compare them with the reported figures"
EPILOG = """\
outputs (CSV opens in a spreadsheet; times in days from the first enrolment):
  patients.csv    one row per virtual patient: every event time, grade, response, final state
  events.csv      tidy event log: trial, patient, event, time
  trials.csv      one row per virtual trial: every reported figure, KM OS/LFS at 6 and 12 months
  facilities.csv  per trial and facility: uses, queue waits, utilisation, peak occupancy
  summary.csv     per figure: reported value, simulated mean, median and 95% interval
  summary.json    the same with a manifest (versions, params hash, seed, command, run time)
  parameters.csv  every parameter: value, source, note, uncertainty, whether a scenario set it
  summary.csv/.json also hold the key outcomes (as 'cartsim compare' names them), overall and by dose group
  report.md       the run report, laid out as the STRESS-DES checklist
  report.html     the same as one self-contained page, key outcomes and key pictures first
  figures/        with --plots: the pictures, PNG and SVG (see 'cartsim plot --help')

Results are over parameter uncertainty unless --base-values is given.  Either way the other of the
two is also run on the same seed, and where a survival outcome's mean differs between them by more
than the Monte Carlo error, the terminal and report.md say so and why they can (which inputs move an
outcome is what 'cartsim sensitivity' measures).

example:
  cartsim run params/cd5_tall.toml --trials 1000 --seed 1 --out results/cd5
  cartsim run params/cd5_tall.toml --base-values
  cartsim run params/cll1_aml.toml --scenario params/scenarios/cll1_dose_c.toml --plots"""


def add_parser(commands) -> None:
    from sim.output.run_files import FORMATS

    parser = commands.add_parser(
        NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulate N virtual trials of the design in PARAMS, print each reported figure next "
        "to the simulated median and 95% interval, and write the tables.")
    add_run_options(parser)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--base-values", action="store_true",
                      help="run every trial at the base values, so only patient-level chance varies "
                      "(default: each trial draws its parameters from their uncertainty distributions)")
    mode.add_argument("--parameter-uncertainty", action="store_true",
                      help="draw each trial's parameters from their uncertainty distributions (the default; "
                      "kept for scripts that name it)")
    parser.add_argument("--scenario", type=trial_path, default=None, metavar="FILE",
                        help="a scenario file whose base is PARAMS (see params/scenarios/); "
                        "default --out: results/<trial name>/<scenario name>")
    parser.add_argument("--plots", action="store_true", help="also draw the pictures into DIR/figures/")
    parser.add_argument("--force", action="store_true",
                        help="replace the results of another params file in DIR (two files sharing a trial name)")
    parser.add_argument("--format", choices=FORMATS, default="csv",
                        help="format of patients and events, the two large tables (default: %(default)s)")


def load_run_params(params_file: Path, scenario_file: Path | None) -> Params:
    """PARAMS (a params or scenario file), with the scenario applied when one is given."""
    from sim.inputs.scenarios import load_params_or_scenario, load_scenario, require_base

    params = load_params_or_scenario(params_file)
    if scenario_file is None:
        return params
    scenario = load_scenario(scenario_file)
    require_base(scenario, params)
    return scenario


def default_folder(params: Params) -> Path:
    """results/<trial name>, or results/<trial name>/<scenario name> for a scenario."""
    folder = Path("results") / params.name
    return folder / params.scenario.name if params.scenario is not None else folder


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from sim.analyses.base_agreement import run_with_agreement

    params = load_run_params(args.params, args.scenario)
    out = output_folder(args.out, default_folder(params))
    with ProgressBar() as bar:
        results, written, agreement = run_with_agreement(
            params, out, trials=args.trials, seed=args.seed, base_values=args.base_values, fmt=args.format,
            plots=args.plots, force=args.force, progress=bar, command=["cartsim", *argv])
    print(f"{params.text['trial.title']}: {results.n_trials} virtual trials, seed {results.seed}"
          f"{', parameters drawn from their uncertainty' if results.parameter_uncertainty else ', base parameters'}")
    if params.scenario is not None:
        print(f"scenario {params.scenario.name}: {params.scenario.title}")
    print(format_summary(results.summary(), params.scenario.manifest() if params.scenario is not None else None))
    if params.seeds.planned:
        from sim.output.key_outcome_view import interval_note, text_table

        records = results.key_outcomes().rows()
        print("a planned trial: no reported figures to compare with; its key outcomes over the virtual trials:\n"
              + text_table(records) + "\n" + interval_note(records))
    print(textwrap.fill(agreement.why(), 110))
    print(f"wrote {len(set(written))} files to {out}/")
    return 0
