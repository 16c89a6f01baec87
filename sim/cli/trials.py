"""``cartsim trials``: the shipped trials and scenarios, runnable by name from any folder."""

from __future__ import annotations

import argparse

from sim.errors import InputError
from sim.inputs.tomlfile import read_toml
from sim.inputs.trial_catalog import shipped_scenarios, shipped_trials

NAME = "trials"
HELP = "list the shipped trials and scenarios, which every command takes by name"
EPILOG = """\
example:
  cartsim trials
  cartsim run cd5_tall
  cartsim compare cll1_dose_a cll1_dose_b cll1_dose_c
  cartsim new my_trial --from cd5_tall        # a new trial of your own, from a shipped one"""


def add_parser(commands) -> None:
    commands.add_parser(NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                        description="List the trials and scenarios shipped with cartsim.  Every command that takes "
                        "a params or scenario file also takes one of these names.")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    trials, scenarios = shipped_trials(), shipped_scenarios()
    if not trials:
        raise InputError("trials", "", "no shipped trials found: the installation lacks its params files")
    print("trials (cartsim run NAME):")
    for name, path in trials.items():
        print(f"  {name:36} {_title(path, 'trial', 'title')}")
    print("scenarios (cartsim run NAME, cartsim compare BASE NAME...):")
    for name, path in scenarios.items():
        print(f"  {name:36} {_title(path, 'title')}")
    return 0


def _title(path, *keys: str) -> str:
    """A shipped file's title, read without loading the model (the shipped files' checks are tests')."""
    value = read_toml(path)[0]
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, str):
        raise InputError(path, ".".join(keys), "missing: every shipped file has a title")
    return value
