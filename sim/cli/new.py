"""``cartsim new``: a new trial's params and seeds files, from a shipped trial, ready to run as written.

Every entry of the params file gets a marker line saying what the user supplies:

- ``SUPPLY``: a fact of the new trial's protocol (enrolled count, dose levels, ...), stated in the new
  seeds file's ``[design]`` and cited as ``seeds:KEY``: change it in both files (a mismatch is an error);
- ``BORROWED``: a result of the template's paper, now an ``assumption`` (or a ``scenario`` setting when the
  paper gave no uncertainty for it): keep it, or replace it with a better estimate;
- ``ASSUMED`` / ``CALIBRATED``: the template's own assumption or calibration, to check;
- ``PREDICTED``: the late levels before transplant, from the evidence synthesis' robust predictive
  distribution for the trial's target class (``--class``), not from the template's own posterior, with
  the shared inputs the synthesis sampled in the same draws; the levels after transplant, from the prior
  for one trial's level that the template states.

The new seeds file holds the design facts and no figures: a planned trial has nothing to validate
against until its results are in.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError
from sim.inputs.trial_catalog import trial_path

if TYPE_CHECKING:  # for annotations only; imported where used
    from sim.inputs.params import Params
from sim.inputs.series import CLASSES

NAME = "new"
HELP = "start a new trial: write its params and seeds files from a shipped trial"
DEFAULT_FROM = "cd5_tall"
EPILOG = """\
writes DIR/params/NAME.toml and DIR/seeds/NAME.toml; every entry of the params file is marked
  # SUPPLY      a fact of your protocol, also in seeds/NAME.toml [design]: change it in both
  # BORROWED    a result of the template trial's paper, now an assumption: keep or replace
  # ASSUMED     the template's assumption, with its range: check it
  # CALIBRATED  fitted to the template trial's outcomes: check it
  # PREDICTED   late levels (and the inputs sampled with them) from the evidence synthesis
                for the target class (--class)
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
    from sim.inputs.params import is_safe_name, load_params, name_rule
    from sim.output.staged_files import StagedFiles

    if not is_safe_name(args.name):  # the rule of trial.name, checked before anything is read or written
        raise InputError("NAME", "", f"{name_rule()} (it names the trial and its files), got {args.name!r}")
    template = load_params(args.template)
    params_file, seeds_file = args.dir / "params" / f"{args.name}.toml", args.dir / "seeds" / f"{args.name}.toml"
    for path in (params_file, seeds_file):
        if (path.exists() or path.is_symlink()) and not args.force:
            raise InputError(path, "", "exists; choose another NAME or --dir, or pass --force to replace it")
        if path.is_dir():
            raise InputError(path, "", "is a folder; choose another NAME or --dir")
    design = design_facts(template)
    from sim.analyses.synthesis.new_trial import load_predictive, predicted_draws_texts, predicted_text

    predictive = load_predictive(_target_class(args.target_class, template))
    params_text = (predicted_text(new_params_text(template, args.name, design), predictive, params_file, template)
                   + design_section(template))  # both texts in memory, then one staged swap
    seeds_text = new_seeds_text(template, args.name, design)
    with StagedFiles(args.dir, "the new trial's params and seeds files") as files:
        files.put(seeds_file, seeds_text)
        try:
            written = load_params(files.put(params_file, params_text))  # the pair runs as written, checked there
        except InputError as err:  # named as the file it would have been; nothing is written
            raise InputError(files.shown(err.source), err.key,
                             f"{err.problem} (in the new copy; nothing was written)") from None
        for path, text in predicted_draws_texts(params_file, predictive, written).items():
            files.put(path, text)  # the predicted levels' draws, swapped in with the pair
    print(f"late course PREDICTED for class {predictive.target_class}: rests on {len(predictive.trials)} trials of the "
          f"class ({', '.join(predictive.trials)}) among {predictive.provenance['series']} published series (cartsim "
          "evidence); check that they resemble the planned trial's disease and donor source")
    if predictive.warning():
        print(predictive.warning().removeprefix("; "))
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
        key = entry.seeds_keys[0] if len(entry.seeds_keys) == 1 else None
        if key in seeds.design and isinstance(seeds.design[key].get("value"), (int, float)):
            fact = seeds.design[key]
            facts[key] = (fact["value"], fact.get("unit", ""), fact["says"])
        elif key is not None and key in seeds.figures and seeds.figures[key].metric == "enrolled":
            facts[key] = (int(seeds.figures[key].value), "patients", "patients to enrol")
    return facts


def design_section(template: Params) -> str:
    """A ``[design]`` section for ``cartsim design``, marked for the user to supply ('' if the template has one).

    ``cartsim run`` does not read it.  Its maximum sample size is left out, so dose finding runs up to the
    trial's own size (``accrual.enrolled``) until the protocol says otherwise.
    """
    if any(path.startswith("design.") for path in (*template.entries, *template.text)):
        return ""
    doses = template.dose_levels()
    levels = sorted(doses, key=doses.get)
    lines = ["", "# The dose-finding design, read by 'cartsim design' only (see 'cartsim design --help'); every value",
             "# below is a placeholder to SUPPLY from your protocol.  Without max_sample_size, dose finding runs up",
             "# to the trial's own size, accrual.enrolled; uncomment it to set another.", "[design]",
             'name = "boin"', f'levels = "{",".join(levels)}"', f'start_level = "{levels[0]}"']
    for key, value, what in DESIGN_PLACEHOLDERS:
        lines += [f"# SUPPLY design.{key}: your protocol's value (a placeholder)",
                  f'{key} = {{ value = {value}, source = "scenario", note = "{what}; a placeholder until the protocol '
                  'gives it" }']
    lines.append('# max_sample_size = { value = 30, source = "scenario", note = "the most patients dose finding treats" }')
    return "\n".join(lines) + "\n"


DESIGN_PLACEHOLDERS = (("cohort_size", 3, "patients per cohort"), ("target_dlt_rate", 0.3, "the target DLT rate"),
                       ("dlt_window_days", 28, "the DLT window after infusion, days"))


def new_params_text(template: Params, name: str, design: dict) -> str:
    """The template's params file with the trial renamed and every entry marked.

    The template is edited as a parsed TOML document (tomlkit keeps its comments and layout), so any
    valid template gives a valid copy: a title over several lines, a table header with a comment,
    entries written as tables or inline.
    """
    import tomlkit

    document = tomlkit.parse(template.path.read_text(encoding="utf-8"))
    out = tomlkit.document()
    for line in HEADER.format(name=name, template=template.name).splitlines():
        out.add(tomlkit.comment(line[2:]) if line.startswith("# ") else tomlkit.comment(line[1:]))
    out.add(tomlkit.nl())
    for key, item in document.body:
        if key is None:
            continue  # the template's own header and blank lines before its first table
        if key.key == "trial":
            _rename_trial(item, name)
            out.append(key, item)
        else:
            out.append(key, _marked(item, key.key, name, template, design))
    return tomlkit.dumps(out).rstrip() + "\n"


def _rename_trial(trial, name: str) -> None:
    """The new trial's name, placeholder title and seeds file, in the template's ``[trial]`` table."""
    trial["name"] = name
    trial["title"] = f"{name}: a planned trial (SUPPLY a title)"
    if "seeds" in trial:
        trial["seeds"] = f"../seeds/{name}.toml"


def _marked(table, prefix: str, name: str, template: Params, design: dict):
    """A copy of ``table`` with a marker comment above every entry (at any depth) and borrowed entries
    turned into assumptions."""
    import tomlkit
    from tomlkit.container import Container
    from tomlkit.items import Table

    if not isinstance(table, Table):
        return table
    out = Table(Container(), table.trivia, table.is_aot_element(), table.is_super_table(), table.name,
                table.display_name)
    for key, item in table.value.body:
        if key is not None and isinstance(item, dict) and "source" in item:
            path = f"{prefix}.{key.key}"
            out.append(None, tomlkit.comment(_marker(item, path, name, template, design)))
        elif key is not None:
            item = _marked(item, f"{prefix}.{key.key}", name, template, design)
        out.append(key, item)
    return out


def _marker(entry, path: str, name: str, template: Params, design: dict) -> str:
    """The marker of the entry at ``path`` (its source changed in ``entry`` when it is borrowed)."""
    source = str(entry["source"])
    if source.startswith("seeds:") and source[len("seeds:"):] in design:
        return f"SUPPLY {path}: your protocol's value (also in seeds/{name}.toml [design.{source[6:]}])"
    if source.startswith("seeds:"):
        return _borrowed(entry, path, source, template)
    marker = {"assumption": "ASSUMED", "calibration": "CALIBRATED"}.get(source, "SCENARIO")
    return f"{marker} {path}: from {template.name}; check it"


def _borrowed(entry, path: str, source: str, template: Params) -> str:
    """A result of the template's paper, cited ``seeds:KEY``, as an assumption of the new trial."""
    parsed = template.entries.get(path)
    figure = template.seeds.figures.get(source[len("seeds:"):])
    said = f"{template.name} {source}" + (f" ({figure.says})" if figure is not None else "")
    kind = "assumption" if parsed is not None and parsed.uncertainty is not None else "scenario"
    note = f"borrowed from {said}"
    entry["source"] = kind
    if "note" in entry:
        entry["note"] = f"{note}; {entry['note']}"
    else:
        entry["note"] = note
        if hasattr(entry, "value"):  # an inline table: a space before its closing brace, as the others have
            entry.value.body[-1][1].trivia.trail = " "
    return (f"BORROWED {path}: {template.name}'s result, now a{'n' if kind[0] == 'a' else ''} {kind}; "
            "keep it or give your own estimate")


def new_seeds_text(template: Params, name: str, design: dict) -> str:
    """A planned trial's seeds file: the design facts the params cite, and no reported figures yet."""
    lines = [SEEDS_HEADER.format(name=name, template=template.name)]
    for key, (value, unit, says) in design.items():
        lines += ["", f"# SUPPLY: your protocol's value (copied from {template.name})", _design_table(key, value, unit, says)]
    return "\n".join(lines) + "\n" + FIGURES_EXAMPLE


def _design_table(key: str, value: float, unit: str, says: str) -> str:
    """``[design.KEY]`` with its value, unit and text, written by a TOML writer (quotes escaped)."""
    import tomlkit

    fact = tomlkit.table()
    fact.add("value", value)
    if unit:
        fact.add("unit", unit)
    fact.add("says", says)
    document = tomlkit.document()
    document.add("design", tomlkit.table(is_super_table=True).add(key, fact))
    return tomlkit.dumps(document).rstrip("\n")


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
#               distribution for the target class (published series and shipped trials pooled), with
#               the band shapes and hazard ratios it sampled in the same draws; the levels after
#               transplant, from the prior for one trial that {template} states
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
