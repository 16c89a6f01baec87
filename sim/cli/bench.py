"""``cartsim bench``: patients per second of each engine, and peak memory, on this machine."""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

from sim.cli.options import whole

NAME = "bench"
HELP = "measure the engines' speed and memory on a trial's base case"
DEFAULT_PARAMS = Path("params") / "cd5_tall.toml"


def add_parser(commands) -> None:
    parser = commands.add_parser(
        NAME, help=HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Time, in one run on this machine: the SimPy engine, a plain SimPy floor with the same "
        "processes and timeouts and no model logic, a straightforward hand-written SimPy model of the "
        "pathway, and the cohort engine; then 'cartsim run' as run by default (over parameter uncertainty, the "
        "base values run beside it and compared, every table and report written), the cohort engine "
        "with parameter uncertainty, and sensitivity evaluations (a PSA at 20 trials per draw), each over the "
        "cohort engine's rate; then a probabilistic sensitivity analysis of parameter draws. "
        "Prints patients per second, the ratios, and peak traced memory.")
    parser.add_argument("params", metavar="PARAMS", type=Path, nargs="?", default=DEFAULT_PARAMS,
                        help="params file of the base case (default: %(default)s)")
    parser.add_argument("--patients", type=whole(1), default=100_000, metavar="N",
                        help="patients per engine, in whole trials of the base case (default: %(default)s)")
    parser.add_argument("--psa-draws", type=whole(1), default=1000, metavar="D",
                        help="parameter draws in the PSA measure (default: %(default)s)")
    parser.add_argument("--psa-patients", type=whole(1), default=1000, metavar="P",
                        help="patients per draw in the PSA measure (default: %(default)s)")
    parser.add_argument("--repeat", type=whole(1), default=1, metavar="K",
                        help="time each engine and whole-run measure K times and keep the fastest, the one "
                        "least disturbed by other work on the machine; the PSA measure is timed once "
                        "(default: %(default)s)")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from sim.checks.benchmark import psa_benchmark, run_benchmark, run_path_benchmark, sensitivity_benchmark, uncertainty_benchmark
    from sim.inputs.params import load_params

    params = load_params(args.params)
    print(f"cartsim bench on {params.name}: {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}, one process" + (f", fastest of {args.repeat}" if args.repeat > 1 else ""))
    m = run_benchmark(params, args.patients, args.repeat)
    for measure in m.values():
        memory = f"{measure.peak_mib:8.1f} MiB peak" if measure.peak_mib == measure.peak_mib else ""
        print(f"  {measure.name:48} {measure.rate:12,.0f} patients/s  {measure.seconds:7.2f} s  {memory}")
    print(f"  SimPy engine / floor      {m['des'].rate / m['floor'].rate:6.2f}   (target >= 0.60)")
    print(f"  SimPy engine / reference  {m['des'].rate / m['reference'].rate:6.2f}   (target >= 2)")
    print(f"  cohort / SimPy engine     {m['cohort'].rate / m['des'].rate:6.2f}   (target >= 30)")
    print(f"  cohort engine / reference {m['cohort'].rate / m['reference'].rate:6.2f}   (target >= 10)")
    runs = [run_path_benchmark(params, args.patients, repeat=args.repeat),
            uncertainty_benchmark(params, args.patients, args.repeat),
            sensitivity_benchmark(params, args.patients, repeat=args.repeat)]
    for measure in runs:
        print(f"  {measure.name:48} {measure.rate:12,.0f} patients/s  {measure.seconds:7.2f} s")
    cohort = m["cohort"].rate
    print(f"  run end to end / cohort engine            {runs[0].rate / cohort:6.3f}   (target >= 0.5)")
    print(f"  run end to end / parameter uncertainty    {runs[0].rate / runs[1].rate:6.3f}   "
          "(no target: the engine in the mode the run simulates)")
    print(f"  parameter uncertainty / base              {runs[1].rate / cohort:6.3f}   (target >= 0.5)")
    print(f"  sensitivity evaluations / cohort engine   {runs[2].rate / cohort:6.3f}   (target >= 0.5)")
    psa = psa_benchmark(params, args.psa_draws, args.psa_patients)
    print(f"  {psa.name}: {psa.seconds:.2f} s ({psa.rate:,.0f} patients/s), {psa.peak_mib:.1f} MiB peak "
          f"for a tenth of the draws (target <= 10 s, < 1 GiB)")
    print(f"  PSA / cohort engine       {psa.rate / cohort:6.2f}   (target: PSA <= 2.5 s, or >= 0.6 of the cohort "
          "engine's rate)")
    return 0
