"""``cartsim sensitivity psa|oneway|sobol|morris``: which uncertain inputs drive the outcomes, and how much."""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli import verbosity
from sim.cli.options import IN_MEMORY, MAX_DRAWS, MAX_TRIALS, names, output_folder, seconds, whole
from sim.inputs.trial_catalog import trial_path
from sim.output.atomic_folder import folder_lock, staged_folder

if TYPE_CHECKING:  # for annotations only; imported where used
    from sim.inputs.params import Params

NAME = "sensitivity"
HELP = "sensitivity analysis: PSA, one-way (tornado), Sobol' indices, Morris screening"
SHOWN = 5  # inputs printed per outcome
EPILOG = """\
outcomes (--outcomes, comma-separated; default %s):
%s

outputs in --out (default results/<trial>/sensitivity/<method>):
  run.json, evaluations.jsonl  the run's settings, and one line per finished evaluation (for --resume)
  psa_summary.csv, psa_draws.csv / oneway.csv / sobol.csv / morris.csv   the results
  <method>.json                the results with the run's manifest (versions, settings, seed, run time)
  figures/*.png, *.svg         histograms / tornado / index / screening plots

examples:
  cartsim sensitivity psa params/cd5_tall.toml --draws 1000 --inner 20 --workers 8
  cartsim sensitivity oneway params/cll1_aml.toml --outcomes crs_g3_rate,os_12m
  cartsim sensitivity sobol params/cd5_tall.toml --inputs late,transplant --samples 1024 --dask local
  cartsim sensitivity morris params/cd5_tall.toml --trajectories 40 --dask tcp://scheduler:8786
  (interrupted? run the same command again with --resume)"""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        NAME, help=HELP, description="Vary a trial's uncertain parameters (those with an uncertainty "
        "distribution in PARAMS) and see how the outcomes move.  Run 'cartsim sensitivity METHOD --help'.")
    methods = parser.add_subparsers(dest="method", required=True, metavar="METHOD", parser_class=type(parser))
    for method, (help_text, inner, extra) in METHODS.items():
        sub = methods.add_parser(method, help=help_text, description=textwrap.fill(help_text + "."), epilog=_epilog(),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        _add_common(sub, inner)
        extra(sub)


def _epilog() -> str:
    from sim.stats.key_outcomes import DEFAULT_OUTCOMES, OUTCOMES

    listing = "\n".join(f"  {name:22} {o.label} ({o.unit})" for name, o in OUTCOMES.items())
    return EPILOG % (",".join(DEFAULT_OUTCOMES), listing)


def _add_common(parser: argparse.ArgumentParser, inner: int) -> None:
    from sim.rng.streams import MAX_PATIENTS
    from sim.sensitivity.backends import DASK_CONNECT_SECONDS
    from sim.stats.key_outcomes import DEFAULT_OUTCOMES

    parser.add_argument("params", metavar="PARAMS", type=trial_path, help="a trial's params file, e.g. params/cd5_tall.toml")
    parser.add_argument("--scenario", type=trial_path, metavar="FILE",
                        help="analyse this scenario of PARAMS (a scenario file whose base is PARAMS)")
    parser.add_argument("--outcomes", type=names, default=list(DEFAULT_OUTCOMES), metavar="LIST",
                        help="outcomes by name, comma-separated (listed below)")
    parser.add_argument("--inputs", type=names, default=None, metavar="LIST",
                        help="uncertain parameters to vary, comma-separated paths or sections such as 'crs' "
                        "(default: every parameter with an uncertainty distribution)")
    parser.add_argument("--inner", type=whole(1, MAX_TRIALS, IN_MEMORY), default=inner, metavar="K",
                        help="virtual trials per evaluation (default: %(default)s)")
    parser.add_argument("--enrolled", type=whole(1, MAX_PATIENTS), default=None, metavar="N",
                        help="patients enrolled per virtual trial (default: the trial's own)")
    parser.add_argument("--seed", type=whole(0, None), default=0, metavar="S",
                        help="random seed; the same seed gives the same results on every backend (default: 0)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output folder (default: results/<trial>/sensitivity/<method>)")
    parser.add_argument("--workers", type=whole(1), default=None, metavar="N",
                        help="local worker processes (default: all cores; 1: in this process)")
    parser.add_argument("--dask", metavar="ADDRESS", default=None,
                        help="run on Dask: 'local' starts a LocalCluster (of --workers workers), "
                        "tcp://HOST:PORT joins a running scheduler (e.g. dask-jobqueue on SLURM/PBS)")
    parser.add_argument("--dask-timeout", type=seconds, default=DASK_CONNECT_SECONDS, metavar="SECONDS",
                        help="how long to wait for the Dask scheduler (default: %(default)s)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted run in --out, keeping every finished evaluation")
    parser.add_argument("--save-patients", action="store_true",
                        help="also write each evaluation's patient table to DIR/patients/ (large)")


def _psa_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--draws", type=whole(2, MAX_DRAWS, IN_MEMORY), default=1000, metavar="D",
                        help="parameter draws (default: %(default)s)")


def _oneway_options(parser: argparse.ArgumentParser) -> None:
    return None


def _sobol_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--samples", type=whole(2, MAX_DRAWS, IN_MEMORY), default=512, metavar="N",
                        help="rows of the Sobol' matrices A and B, a power of 2; evaluations: N x (inputs + 3) "
                        "(default: %(default)s)")
    parser.add_argument("--bootstrap", type=whole(100, MAX_DRAWS, IN_MEMORY), default=1000, metavar="B",
                        help="bootstrap resamples for the intervals (default: %(default)s)")


def _morris_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trajectories", type=whole(2, MAX_DRAWS, IN_MEMORY), default=20, metavar="R",
                        help="trajectories; evaluations: R x (inputs + 1) (default: %(default)s)")
    parser.add_argument("--levels", type=whole(2), default=4, metavar="L",
                        help="grid levels per input, even (default: %(default)s)")
    parser.add_argument("--bootstrap", type=whole(100, MAX_DRAWS, IN_MEMORY), default=1000, metavar="B",
                        help="bootstrap resamples for the interval of mu* (default: %(default)s)")


METHODS = {
    "psa": (("probabilistic sensitivity analysis: each outcome's distribution over parameter draws, and the "
             "share of its variance due to parameter uncertainty"), 20, _psa_options),
    "oneway": (("one-way sensitivity analysis: each input at its 2.5th and 97.5th percentile on common random "
                "numbers, ranked by swing in a tornado plot"), 100, _oneway_options),
    "sobol": ("Sobol' first-order and total indices with bootstrap intervals and the simulation's noise floor",
              20, _sobol_options),
    "morris": ("Morris elementary-effects screening (needs SALib: pip install 'cartsim[sensitivity]')", 20,
               _morris_options),
}


def load_study(args: argparse.Namespace) -> Params:
    """PARAMS, or the scenario of PARAMS named by --scenario, with --enrolled applied."""
    from sim.inputs.params import load_params
    from sim.inputs.scenarios import load_scenario, require_base

    params = load_params(args.params)
    if args.scenario is not None:
        scenario = load_scenario(args.scenario)
        require_base(scenario, params)
        params = scenario
    if args.enrolled is not None:
        params = params.with_values({"accrual.enrolled": args.enrolled})
    return params


def _default_out(params: Params, method: str) -> Path:
    folder = Path("results") / params.name / "sensitivity"
    return folder / (f"{method}-{params.scenario.name}" if params.scenario is not None else method)


def _method_options(args: argparse.Namespace) -> dict:
    if args.method == "psa":
        return {"draws": args.draws}
    if args.method == "sobol":
        return {"samples": args.samples, "resamples": args.bootstrap}
    if args.method == "morris":
        return {"trajectories": args.trajectories, "levels": args.levels, "resamples": args.bootstrap}
    return {}


class Progress:
    """Progress on standard error: a line at every tenth of the design."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.done = 0
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        tenth = math.floor(10 * done / total)
        if tenth != self.shown:
            self.shown = tenth
            if verbosity.level > verbosity.QUIET:
                print(f"{self.method}: {done}/{total} evaluations", file=sys.stderr, flush=True)


RUNNERS = {"psa": "run_psa", "oneway": "run_oneway", "sobol": "run_sobol", "morris": "run_morris"}  # in sim.sensitivity


def run(args: argparse.Namespace, argv: list[str]) -> int:
    import sim.sensitivity as sensitivity
    from sim.sensitivity.backends import make_backend
    from sim.stats.key_outcomes import check_outcomes

    params = load_study(args)
    outcomes = check_outcomes(args.outcomes)
    out = output_folder(args.out, _default_out(params, args.method))
    backend = make_backend(args.workers, args.dask, args.dask_timeout)
    progress = Progress(args.method)
    with folder_lock(out):  # one run at a time in a folder; the place is checked before anything runs
        try:
            result = getattr(sensitivity, RUNNERS[args.method])(params, inner=args.inner, seed=args.seed, outcomes=outcomes,
                                          inputs=args.inputs, backend=backend, out=out, resume=args.resume,
                                          progress=progress, keep_patients=args.save_patients,
                                          **_method_options(args))
        except KeyboardInterrupt:
            print(f"\ncartsim: interrupted; {progress.done} finished evaluations are saved in {out}/ "
                  "(run the same command with --resume to continue)", file=sys.stderr)
            return 130
        with staged_folder(out, replace=(), lock=False) as folder:  # the results appear together
            result.info.out = folder  # the staged folder is the one marked complete
            written = result.write(folder)
        result.info.out = out
    info = result.info
    print(f"{result.label}: {args.method}, {info.config['points']} evaluations of {args.inner} virtual trials, "
          f"seed {args.seed}, on {info.backend}, {info.seconds:.1f} s"
          + (f" ({info.resumed} resumed from {out})" if info.resumed else ""))
    print(SUMMARIES[args.method](result))
    print(f"wrote {len(written)} files to {out}/")
    return 0


def number(value: float) -> str:
    """Three significant figures, '-' if missing."""
    return "-" if value is None or math.isnan(value) else f"{value:.3g}"


def _psa_summary(result) -> str:
    header = f"{'outcome':22} {'median':>9}  {'95% interval':<20} {'parameters':>10}"
    lines = [header + "  (share of trial-to-trial variance)"]
    for row in result.summary_table().rows():
        interval = f"[{number(row['low95'])}, {number(row['high95'])}]"
        share = "-" if math.isnan(row["share_parameter"]) else f"{row['share_parameter']:.0%}"
        lines.append(f"{row['outcome']:22} {number(row['median']):>9}  {interval:<20} {share:>10}")
    return "\n".join(lines)


def _ranked(result, key: str, describe) -> str:
    table = result.summary_table()
    lines = []
    for name in result.outcomes:
        rows = [row for row in table.rows() if row["outcome"] == name]
        rows.sort(key=lambda row: -row[key] if not math.isnan(row[key]) else math.inf)
        lines.append(f"{name}:" + (f" {rows[0]['note']}" if rows[0].get("note") else ""))
        lines.extend(f"  {describe(row)}" for row in rows[:SHOWN])
    return "\n".join(lines)


def _oneway_summary(result) -> str:
    def describe(r) -> str:
        return (f"{r['input']:48} swing {number(r['swing']):>8}  ({number(r['outcome_at_low'])} to "
                f"{number(r['outcome_at_high'])}, base {number(r['outcome_base'])})")
    return _ranked(result, "swing", describe)


def _sobol_summary(result) -> str:
    def describe(r) -> str:
        mark = "*" if r["ST_above_floor"] else " "
        return (f"{r['input']:48} ST {number(r['ST']):>6} [{number(r['ST_low'])}, {number(r['ST_high'])}]{mark} "
                f"S1 {number(r['S1']):>6}  (noise floor: ST {number(r['floor_ST'])})")
    return _ranked(result, "ST", describe) + "\n* total index above the noise floor"


def _morris_summary(result) -> str:
    return _ranked(result, "mu_star", lambda r: f"{r['input']:48} mu* {number(r['mu_star']):>8} "
                   f"+- {number(r['mu_star_conf'])}  sigma {number(r['sigma'])}")


SUMMARIES = {"psa": _psa_summary, "oneway": _oneway_summary, "sobol": _sobol_summary, "morris": _morris_summary}
