"""``cartsim new``: a new trial's params and seeds files, from a shipped trial, ready to run as written.

Every entry of the params file gets a marker line saying what the user supplies:

- ``SUPPLY``: a fact of the new trial's protocol (enrolled count, dose levels, ...), stated in the new
  seeds file's ``[design]`` and cited as ``seeds:KEY``: change it in both files (a mismatch is an error);
- ``BORROWED``: a result of the template's paper, now an ``assumption`` (or a ``scenario`` setting when the
  paper gave no uncertainty for it): keep it, or replace it with a better estimate;
- ``ASSUMED`` / ``CALIBRATED``: the template's own assumption or calibration, to check;
- ``PREDICTED``: the late levels before transplant, from the evidence synthesis' robust predictive
  distribution for the trial's target class (``--class``), not from the template's own posterior.

The new seeds file holds the design facts and no figures: a planned trial has nothing to validate
against until its results are in.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sim.errors import InputError
from sim.inputs.params import Params, load_params
from sim.inputs.trial_catalog import trial_path
from sim.output.run_files import write_atomic
from sim.analyses.synthesis.new_trial import load_predictive, predicted_text, write_predicted_draws
from sim.inputs.series import CLASSES
from sim.analyses.calibrated_params import remove_posterior_draws

NAME = "new"
HELP = "start a new trial: write its params and seeds files from a shipped trial"
DEFAULT_FROM = "cd5_tall"
ENTRY = re.compile(r'^(?P<key>[A-Za-z0-9_]+) = \{.*source = "(?P<source>[^"]+)"')
EPILOG = """\
writes DIR/params/NAME.toml and DIR/seeds/NAME.toml; every entry of the params file is marked
  # SUPPLY      a fact of your protocol, also in seeds/NAME.toml [design]: change it in both
  # BORROWED    a result of the template trial's paper, now an assumption: keep or replace
  # ASSUMED     the template's assumption, with its range: check it
  # CALIBRATED  fitted to the template trial's outcomes: check it
  # PREDICTED   late levels from the evidence synthesis for the target class (--class)
The files run as written; then change the marked entries, e.g. accrual.enrolled.

example:
  cartsim new my_trial --from cd5_tall --dir .
  cartsim run params/my_trial.toml --trials 200"""


def add_parser(commands) -> None:
    parser = commands.add_parser(NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 description="Write the params and seeds files of a new trial NAME, copied from a "
                                 "shipped trial with every entry marked for what you must supply.")
    parser.add_argument("name", metavar="NAME", help="the new trial's name (letters, digits, '_', '.', '-')")
    parser.add_argument("--from", dest="template", type=trial_path, default=trial_path(DEFAULT_FROM), metavar="TRIAL",
                        help=f"a shipped trial's name or a params file to start from (default: {DEFAULT_FROM})")
    parser.add_argument("--dir", type=Path, default=Path("."), metavar="DIR",
                        help="folder to write params/NAME.toml and seeds/NAME.toml into (default: the current folder)")
    parser.add_argument("--class", dest="target_class", choices=CLASSES, default=None, metavar="CLASS",
                        help="target class whose robust predictive late course the new trial takes "
                        f"({', '.join(CLASSES)}; default: the template's trial.target_class)")
    parser.add_argument("--force", action="store_true", help="replace the two files if they exist")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", args.name):
        raise InputError("NAME", "", f"must be letters, digits, '_', '.' or '-' (it names the files), got {args.name!r}")
    template = load_params(args.template)
    params_file, seeds_file = args.dir / "params" / f"{args.name}.toml", args.dir / "seeds" / f"{args.name}.toml"
    for path in (params_file, seeds_file):
        if path.exists() and not args.force:
            raise InputError(path, "", "exists; choose another NAME or --dir, or pass --force to replace it")
    design = design_facts(template)
    predictive = load_predictive(_target_class(args.target_class, template))
    params_text = predicted_text(new_params_text(template, args.name, design), predictive, params_file)
    write_atomic(seeds_file, new_seeds_text(template, args.name, design))
    write_atomic(params_file, params_text)
    remove_posterior_draws(params_file)  # a replaced file's old draws would not match its entries
    write_predicted_draws(params_file, predictive, load_params(params_file))
    load_params(params_file)  # what was written runs as written
    print(f"late course PREDICTED for class {predictive.target_class}: rests on {len(predictive.trials)} trials of the "
          f"class among {predictive.provenance['series']} published series (cartsim evidence)")
    if predictive.warning():
        print("WARNING" + predictive.warning().split("WARNING", 1)[1])
    print(f"wrote {params_file} and {seeds_file} (from {template.name}); "
          f"{params_text.count('# SUPPLY')} entries to supply, marked '# SUPPLY'")
    print(f"next: edit the marked entries, then: cartsim run {params_file}")
    return 0


def _target_class(given: str | None, template: Params) -> str:
    value = given or template.text.get("trial.target_class")
    if value is None:
        raise InputError(template.path, "trial.target_class", "states no target class; pass --class")
    return value


def design_facts(template: Params) -> dict[str, tuple[float, str, str]]:
    """The protocol facts the template cites, by seeds key: (value, unit, says).

    A design fact of the template's seeds file, or its enrolled count (a reported figure there, a
    design fact of a planned trial).
    """
    seeds = template.seeds
    facts = {}
    for entry in template.entries.values():
        key = entry.source[len("seeds:"):] if entry.source.startswith("seeds:") else None
        if key in seeds.design and isinstance(seeds.design[key].get("value"), (int, float)):
            fact = seeds.design[key]
            facts[key] = (fact["value"], fact.get("unit", ""), fact["says"])
        elif key is not None and key in seeds.figures and seeds.figures[key].metric == "enrolled":
            facts[key] = (int(seeds.figures[key].value), "patients", "patients to enrol")
    return facts


def new_params_text(template: Params, name: str, design: dict) -> str:
    """The template's params file with the trial renamed and every entry marked."""
    lines = [HEADER.format(name=name, template=template.name)]
    section = ""
    for line in template.path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and section == "":
            continue  # the template's own header
        if line.startswith("["):
            section = line.strip("[] ")
        lines += _converted(line, section, name, template, design)
    return "\n".join(lines).rstrip() + "\n"


def _converted(line: str, section: str, name: str, template: Params, design: dict) -> list[str]:
    if section == "trial":
        return [_trial_line(line, name)]
    match = ENTRY.match(line)
    if match is None:
        return [line]
    key, source = match["key"], match["source"]
    path = f"{section}.{key}"
    if source.startswith("seeds:") and source[len("seeds:"):] in design:
        return [f"# SUPPLY {path}: your protocol's value (also in seeds/{name}.toml [design.{source[6:]}])", line]
    if source.startswith("seeds:"):
        return _borrowed(line, path, source, template)
    marker = {"assumption": "ASSUMED", "calibration": "CALIBRATED"}.get(source, "SCENARIO")
    return [f"# {marker} {path}: from {template.name}; check it", line]


def _trial_line(line: str, name: str) -> str:
    key = line.split("=")[0].strip()
    values = {"name": f'"{name}"', "title": f'"{name}: a planned trial (SUPPLY a title)"',
              "seeds": f'"../seeds/{name}.toml"'}
    return f"{key} = {values[key]}" if key in values else line


def _borrowed(line: str, path: str, source: str, template: Params) -> list[str]:
    """A result of the template's paper, cited ``seeds:KEY``, as an assumption of the new trial."""
    entry = template.entries.get(path)
    figure = template.seeds.figures.get(source[len("seeds:"):])
    said = f"{template.name} {source}" + (f" ({figure.says})" if figure is not None else "")
    kind = "assumption" if entry is not None and entry.uncertainty is not None else "scenario"
    note = f"borrowed from {said}".replace('"', "'")
    line = line.replace(f'source = "{source}"', f'source = "{kind}"')
    if 'note = "' in line:
        line = line.replace('note = "', f'note = "{note}; ', 1)
    else:
        line = line[:line.rindex("}")].rstrip() + f', note = "{note}" }}'
    return [f"# BORROWED {path}: {template.name}'s result, now a{'n' if kind[0] == 'a' else ''} {kind}; "
            "keep it or give your own estimate", line]


def new_seeds_text(template: Params, name: str, design: dict) -> str:
    """A planned trial's seeds file: the design facts the params cite, and no reported figures yet."""
    lines = [SEEDS_HEADER.format(name=name, template=template.name)]
    for key, (value, unit, says) in design.items():
        lines += ["", f"# SUPPLY: your protocol's value (copied from {template.name})", f"[design.{key}]",
                  f"value = {value!r}"] + ([f'unit = "{unit}"'] if unit else []) + [f'says = "{says}"']
    return "\n".join(lines) + "\n" + FIGURES_EXAMPLE


HEADER = """\
# {name}: a planned trial, written by 'cartsim new {name} --from {template}'.
#
# Every entry is {{ value, source, note, uncertainty }} (see docs/user-guide.md, "The params file").  Each entry
# is marked on the line above it:
#   SUPPLY      a fact of your protocol, cited as seeds:KEY: change it here AND in ../seeds/{name}.toml
#               (the two must agree; a mismatch stops the run naming both)
#   BORROWED    a result of {template}'s paper, now an assumption: keep it, or give your own estimate
#   ASSUMED     {template}'s assumption, with its plausible range as the uncertainty: check it
#   CALIBRATED  fitted to {template}'s outcomes: check it, recalibrate once your results are in
#   PREDICTED   the late levels before transplant, from the evidence synthesis' robust predictive
#               distribution for the target class (published series and shipped trials pooled)
#   SCENARIO    a setting of the simulated scenario (e.g. resources): set it for your centre
# The file runs as written: cartsim run params/{name}.toml
"""

SEEDS_HEADER = """\
# {name}: the protocol facts of a planned trial (written by 'cartsim new', from {template}).
# The params file cites them as seeds:KEY, and each must give the same number as here.
#
# When the trial is published, add its citation and the figures it reports; 'cartsim validate' then
# compares them with the simulated ones.  Until then there is nothing to validate against.
#
# [citation]
# topic = "..."
# first_author = "..."
# last_author = "..."
# journal = "..."
# year = 2027
# doi = "..."
"""

FIGURES_EXAMPLE = """
# A reported figure, once known (see the shipped seeds files for every metric):
# [figures.infused]
# metric = "infused"
# value = 26
# of = 30
# says = "infused, of 30 enrolled"
"""
