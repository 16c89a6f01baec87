"""``cartsim plot``: draw the pictures of a saved run (or comparison) and embed them in its report."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.errors import InputError
from sim.output.atomic_folder import staged_folder

NAME = "plot"
HELP = "draw the pictures of a saved run or comparison from its output files"
EPILOG = """\
pictures (PNG and SVG, in RESULTS_DIR/figures/):
  flow                  CONSORT-style patient flow: simulated counts with reported counts beside them
  survival              Kaplan-Meier overall and leukaemia-free survival, band across virtual trials
  cumulative_incidence  relapse, non-relapse mortality and transplant as competing risks (Aalen-Johansen)
  swimmer               one virtual trial's patients: CRS grade, response, transplant, relapse, death
  resources             manufacturing slots and ICU beds in use over time, and queue waits
  comparison            (a 'cartsim compare' folder) paired differences from the base with intervals

report.md is redrawn with the pictures embedded.

example (the pictures of a run):
  cartsim run params/cd5_tall.toml --out results/cd5_tall
  cartsim plot results/cd5_tall"""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Draw every picture of the run (or scenario comparison) saved in RESULTS_DIR, reading back the "
        "files 'cartsim run' or 'cartsim compare' wrote, and redraw its report with the pictures.")
    parser.add_argument("folder", metavar="RESULTS_DIR", type=Path,
                        help="an output folder of 'cartsim run' or 'cartsim compare'")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from sim.plots.draw import draw_folder

    folder = args.folder
    if not folder.is_dir():
        raise InputError(folder, "", "not found: give the output folder of 'cartsim run' or 'cartsim compare'")
    with staged_folder(folder, replace=(), option="RESULTS_DIR") as stage:  # redrawn whole or not at all
        try:
            written = draw_folder(stage)
        except InputError as err:  # name the folder given, not the staging copy
            raise InputError(err.source.replace(str(stage), str(folder)), err.key,
                             err.problem.replace(str(stage), str(folder))) from None
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
            raise InputError(folder, "", f"damaged output files, not as cartsim wrote them "
                             f"({type(err).__name__}: {err})") from None
    print(f"drew {sum(p.suffix == '.png' for p in written)} pictures (PNG and SVG) in {args.folder}/, "
          f"and its report")
    return 0
