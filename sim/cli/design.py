"""``cartsim design``: operating characteristics of dose-finding designs on the patient flow."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.options import IN_MEMORY, MAX_TRIALS, output_folder, whole
from sim.output.atomic_folder import staged_folder
from sim.cli.progress import ProgressBar
from sim.errors import InputError

if TYPE_CHECKING:  # for annotations only; imported where used
    from sim.design.oc import DesignOC

NAME = "design"
OUTPUTS = ("oc.csv", "oc_overall.csv", "oc.json", "oc.png", "oc.svg")  # replaced together; others kept
HELP = "operating characteristics of 3+3, BOIN and TITE-BOIN dose finding on the patient flow"
EPILOG = """\
designs (--design, comma-separated; default: the [design] section of PARAMS):
  fixed      today's allocation by dose.allocation (no escalation, selects nothing)
  3+3        Storer 1989: 3 patients; 0 DLT escalate, 1 DLT add 3, >= 2 stop
  boin       Liu and Yuan 2015: escalate if the DLT rate <= lambda_e, de-escalate if >= lambda_d
  tite_boin  Yuan et al. 2018: BOIN dosing with partial follow-up of pending patients

outputs (in --out, default results/<trial>[/<scenario>]/design):
  oc.csv          per design and dose: DLT chance, selection as MTD, patients treated, DLTs
  oc_overall.csv  per design: no dose selected, duration and withdrawals (median, 95% interval)
  oc.json         the same with the design settings, BOIN's boundaries and a manifest
  oc.png, oc.svg  the picture

example:
  cartsim design params/scenarios/cll1_design_boin.toml --design 3+3,boin --trials 1000
  cartsim design params/scenarios/cll1_design_boin.toml --dlt-probabilities 0.1,0.25,0.4"""


def add_parser(commands) -> None:
    from sim.inputs.design_settings import DESIGNS

    parser = commands.add_parser(
        NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulate N virtual dose-finding trials of each design on the patient flow of PARAMS (a params "
        "or scenario file) and print each dose's chance of selection as the MTD, patients and DLTs, with trial "
        "duration and withdrawals while waiting.")
    parser.add_argument("params", metavar="PARAMS", type=Path, help="a params or scenario file")
    parser.add_argument("--design", default=None, metavar="LIST",
                        help=f"designs to run on the same patients, comma-separated, from {list(DESIGNS)}")
    parser.add_argument("--trials", type=whole(1, MAX_TRIALS, IN_MEMORY), default=1000, metavar="N",
                        help="virtual trials per design (default: %(default)s)")
    parser.add_argument("--seed", type=whole(0, None), default=0, metavar="S",
                        help="random seed; the same seed gives the same tables (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="folder for the output files")
    parser.add_argument("--dlt-probabilities", default=None, metavar="P1,P2,...",
                        help="fixed true DLT rates, one per dose level in escalation order, instead of the model's")


def parse_rates(text: str | None, levels: tuple[str, ...]) -> list[float] | None:
    """The --dlt-probabilities list, checked: one number in [0, 1] per dose level."""
    if text is None:
        return None
    try:
        rates = [float(part) for part in text.split(",")]
    except ValueError:
        raise InputError("--dlt-probabilities", "", f"must be numbers separated by commas, got {text!r}") from None
    if len(rates) != len(levels):
        raise InputError("--dlt-probabilities", "", f"needs one rate per dose level {list(levels)}, got {len(rates)}")
    if any(not (0 <= r <= 1) or math.isnan(r) for r in rates):
        raise InputError("--dlt-probabilities", "", f"each rate must be in [0, 1], got {text!r}")
    return rates


def parse_designs(text: str | None, default: str) -> list[str]:
    """The --design list, checked against the known designs."""
    from sim.inputs.design_settings import check_design_name

    names = [default] if text is None else [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise InputError("--design", "", "names no design")
    for name in names:
        check_design_name(name)
    return names


def default_folder(params) -> Path:
    folder = Path("results") / params.name
    return (folder / params.scenario.name if params.scenario is not None else folder) / "design"


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from sim.design.oc import run_designs
    from sim.inputs.design_settings import check_run, design_settings
    from sim.design.write import DesignRun, write_design
    from sim.inputs.scenarios import load_params_or_scenario

    params = load_params_or_scenario(args.params)
    base = design_settings(params)
    names = parse_designs(args.design, base.name)
    rates = parse_rates(args.dlt_probabilities, base.levels)
    out = output_folder(args.out, default_folder(params))
    designs = [base if name == base.name else base.with_name(name) for name in names]
    for design in designs:
        check_run(params, design)  # each design's settings as that design needs them, before anything runs
    with staged_folder(out, replace=OUTPUTS) as folder:  # the place is checked and locked before anything runs
        with ProgressBar(label="trials, all designs") as bar:
            ocs, seconds = run_designs(params, designs, args.trials, args.seed, rates, progress=bar)
        run_info = DesignRun(params, args.seed, args.trials, seconds,
                             {"designs": names, "dlt_probabilities": rates})
        written = write_design(run_info, ocs, folder, ["cartsim", *argv])
        from sim.design.plot import draw_oc  # matplotlib loads only when the picture is drawn

        title = f"{params.text['trial.title']}\n{describe_run(ocs, rates)}"
        written += draw_oc(ocs, title, folder)
    print(f"{params.text['trial.title']}: {args.trials} virtual trials per design, seed {args.seed}, "
          "the same patients under every design")
    if params.scenario is not None:
        print(f"scenario {params.scenario.name}: {params.scenario.title}")
    print(format_oc(ocs, params))
    print(f"wrote {len(written)} files to {out}/")
    return 0


def describe_run(ocs: list[DesignOC], rates) -> str:
    s = ocs[0].settings
    what = "fixed true DLT rates" if rates is not None else f"DLT: {s.dlt.describe()}"
    return f"{what}; cohorts of {s.cohort_size}, at most {s.max_sample_size} patients (BOIN)"


def format_oc(ocs: list[DesignOC], params) -> str:
    """The operating characteristics as plain text: per dose, then per design overall."""
    from sim.design.boin import boundaries
    from sim.design.oc import NONE

    s = ocs[0].settings
    lines = [f"DLT: {s.dlt.describe()}"]
    for oc in ocs:
        if oc.settings.name in ("boin", "tite_boin"):
            lam_e, lam_d = boundaries(oc.settings.target)
            lines.append(f"{oc.settings.name}: target {oc.settings.target:g}, lambda_e = {lam_e:.3f}, "
                         f"lambda_d = {lam_d:.3f}, at most {oc.settings.max_sample_size} patients")
    lines += ["", f"{'design':10} {'level':6} {'dose':>5} {'DLT chance':>10} {'selected':>9} {'treated':>8} {'DLTs':>6}"]
    for oc in ocs:
        for j, name in enumerate(oc.settings.levels):
            lines.append(f"{oc.settings.name:10} {name:6} {params.dose_levels()[name]:>5g} {oc.dlt_chance[j]:>10.0%} "
                         f"{_share(oc, j):>9} {oc.treated[:, j].mean():>8.1f} {oc.dlts[:, j].mean():>6.1f}")
        lines.append(f"{oc.settings.name:10} {'none':6} {'':>5} {'':>10} {_share(oc, NONE):>9}")
    lines += ["", f"{'design':10} {'duration, days: median [95% interval]':38} {'withdrawn: mean [95% int.]':27} "
              f"{'waiting':>7} {'enrolled':>8} {'treated':>7}"]
    for oc in ocs:
        lines.append(_overall_line(oc))
    lines.append("95% interval: 2.5th-97.5th percentile over virtual trials (what one trial might see); "
                 "waiting: withdrawn after the product was ready.")
    return "\n".join(lines)


def _share(oc: DesignOC, j: int) -> str:
    return "-" if oc.settings.name == "fixed" else f"{(oc.selected == j).mean():.1%}"


def _overall_line(oc: DesignOC) -> str:
    from sim.design.oc import spread

    low, mid, high = spread(oc.duration)
    w = oc.counts["withdrawn"]
    wl, _, wh = spread(w, count=True)
    duration = f"{mid:.0f} [{low:.0f}, {high:.0f}]"
    withdrawn = f"{w.mean():.2f} [{wl:.0f}, {wh:.0f}]"
    return (f"{oc.settings.name:10} {duration:38} {withdrawn:27} {oc.counts['withdrawn_waiting'].mean():>7.2f} "
            f"{oc.counts['enrolled'].mean():>8.1f} {oc.treated.sum(axis=1).mean():>7.1f}")
