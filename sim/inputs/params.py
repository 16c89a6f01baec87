"""Loading, checking and varying a trial's params file.

Every number in a params file is an entry ``{ value, source, note, uncertainty }``: its base value,
where it comes from (``seeds:KEY`` for a figure or design fact of the paper, ``calibration``,
``assumption`` or ``scenario``), a note saying why, and its uncertainty distribution.
Entries are addressed by dotted paths such as ``crs.incidence`` or ``donor.search_days.median``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


from sim.inputs import schema as S
from sim.inputs.centring import off_centre
from sim.errors import InputError, printable
from sim.inputs.paper import NO_SEEDS, Seeds, load_seeds
from sim.inputs.posterior_draws import load_draws
from sim.inputs.seeds_agreement import UNCOMPARED_KINDS, disagreement
from sim.inputs.durations import FAMILIES, argument_problem
from sim.inputs.tomlfile import read_toml
from sim.inputs.trial_catalog import trial_path, unknown_trial
from sim.rng.streams import MAX_PATIENTS
from sim.inputs.uncertainty import DirichletUncertainty, Uncertainty, parse_dirichlet, parse_scalar

MAX_NAME = 100  # a trial or scenario name, as a folder name: well inside every file system's limit
SOURCES_NEEDING_NOTE = ("assumption", "calibration", "scenario", "predicted")
SEEDS, JOIN = "seeds:", "+"  # an entry derived from several figures: source = "seeds:a+seeds:b"
TIMEDIST_ARG_KINDS = {"days": "duration", "mean": "positive", "low": "duration", "high": "duration",
                      "median": "positive", "sigma": "positive", "loc": "duration"}


@dataclass(frozen=True)
class Entry:
    """One parameter: base value (a number, or weights by category), provenance and uncertainty."""

    value: Any
    kind: str
    source: str
    note: str = ""
    uncertainty: Uncertainty | DirichletUncertainty | None = None
    prior: Uncertainty | None = None  # a calibrated entry's stated prior, kept for the next fit (see ``scalar``)

    @property
    def seeds_keys(self) -> tuple[str, ...]:
        """The seeds figures and design facts the entry rests on (:func:`seeds_keys`)."""
        return seeds_keys(self.source)


def seeds_keys(source: str) -> tuple[str, ...]:
    """The keys a source cites: ``seeds:a`` gives ``('a',)``, ``seeds:a+seeds:b`` gives ``('a', 'b')``;
    any other source (calibration, assumption, scenario) cites none.

    Examples
    --------
    >>> seeds_keys("seeds:mrd_negative_cr+seeds:mrd_positive_cr")
    ('mrd_negative_cr', 'mrd_positive_cr')
    >>> seeds_keys("assumption")
    ()
    """
    if not source.startswith(SEEDS):
        return ()
    return tuple(part[len(SEEDS):] for part in source.split(JOIN))


@dataclass(frozen=True)
class Params:
    """A trial's parameters, checked; never mutated (``with_values`` and ``draw`` return copies)."""

    path: Path
    sha256: str
    seeds: Seeds
    text: dict[str, str | None]
    entries: dict[str, Entry]
    families: dict[str, str]
    scenario: Any = None  # a sim.inputs.scenarios.Scenario when the params come from a scenario file
    posterior: Any = None  # a sim.inputs.posterior_draws.PosteriorDraws when calibrate wrote joint draws

    def __getitem__(self, path: str) -> Any:
        return self.entries[path].value

    @property
    def name(self) -> str:
        return self.text["trial.name"]

    def timedist(self, path: str) -> tuple[str, dict[str, float]]:
        """A time distribution's family and argument values."""
        family = self.families[path]
        required, optional = FAMILIES[family]
        args = dict(optional)
        args.update({arg: self.entries[f"{path}.{arg}"].value
                     for arg in (*required, *optional) if f"{path}.{arg}" in self.entries})
        return family, args

    def dose_levels(self) -> dict[str, float]:
        prefix = "dose.levels."
        return {p[len(prefix):]: e.value for p, e in self.entries.items() if p.startswith(prefix)}

    def uncertain(self) -> list[str]:
        """Paths of the entries that carry an uncertainty distribution."""
        return [path for path, entry in self.entries.items() if entry.uncertainty is not None]

    def with_values(self, changes: Mapping[str, Any], source: str = "scenario") -> "Params":
        """A copy with some base values changed, checked like a params file.

        An edited entry is **fixed** at its new value: its uncertainty distribution is dropped, so a
        run with parameter uncertainty draws every other parameter and keeps this one as set.  (The
        old distribution described the old value; keeping it would let each draw undo the edit.)
        To move a parameter together with its range, replace the entry whole, as a scenario file does.
        """
        entries = dict(self.entries)
        for path, value in changes.items():
            if path not in entries:
                raise InputError(self.path, path, "no such parameter")
            entries[path] = dataclasses.replace(entries[path], uncertainty=None, prior=None,
                                                value=_checked_value(self.path, path, entries[path], value))
        new = dataclasses.replace(self, entries=entries)
        _check_consistency(new)
        return new

    def draw(self, seed: int, trial: int = 0) -> "Params":
        """A copy with every uncertain value drawn from its uncertainty distribution, as virtual trial
        ``trial`` of a run with ``seed`` and parameter uncertainty draws it (:mod:`sim.inputs.parameter_draws`)."""
        from sim.inputs.parameter_draws import draw_trial_parameters  # that module reads Params

        return draw_trial_parameters(self, seed, trial)


def load_params(path: str | Path) -> Params:
    """Read and check a params file (and the seeds file it names); InputError on any problem.

    ``path`` may name a shipped trial instead (``"cd5_tall"``, or ``"params/cd5_tall.toml"`` run from
    outside the repository): see :func:`~sim.inputs.trial_catalog.trial_path`.
    """
    path = trial_path(path)
    table, sha = read_toml(path, missing=unknown_trial)
    reader = _Reader(path)
    reader.closed("", table, set(S.SCHEMA), required=set(S.SCHEMA) - set(S.OPTIONAL_SECTIONS))
    reader.section("trial", table["trial"])
    reader.seeds = _seeds(path, reader.text.get("trial.seeds"))
    for section in S.SCHEMA:
        if section != "trial" and section in table:
            reader.section(section, table[section])
    params = Params(path, sha, reader.seeds, reader.text, reader.entries, reader.families,
                    posterior=load_draws(path, _DrawsCheck(path, reader.entries)))
    check_params(params)
    return params


class _DrawsCheck:
    """The check of joint draws against the parameters of the params file at ``path``: each column names one
    of its parameters, and its lowest and highest draws lie in that parameter's domain (a fault of the draws
    file, named as such).  A class, not a closure, so that Params still pickle for process pools."""

    def __init__(self, path: Path, entries: dict[str, Entry]) -> None:
        self.path, self.entries = path, entries

    def __call__(self, source: Path, name: str, low: float | None = None, high: float | None = None) -> None:
        if name not in self.entries or self.entries[name].kind == "weights":
            raise InputError(source, "columns", f"column '{name}' names no parameter of {self.path.name} that draws "
                             "can set")
        for value in (low, high):
            if value is not None:
                _checked_value(source, name, self.entries[name], value)


def _seeds(path: Path, name: str | None) -> Seeds:
    """The seeds file named by ``trial.seeds``, relative to the params file; none for a planned trial."""
    if name is None:
        return NO_SEEDS
    seeds_path = path.parent / name
    if not seeds_path.is_file():
        raise InputError(path, "trial.seeds", f"seeds file '{name}' not found beside the params file")
    return load_seeds(seeds_path)


def read_entry(params: Params, source: str | Path, path: str, spec: object, raw: Any) -> Params:
    """A copy of ``params`` with the item at ``path`` read from ``raw`` exactly as :func:`load_params` reads it.

    ``spec`` is the item's schema (:mod:`sim.inputs.schema`): a scalar, weights, a time distribution (whose
    old arguments are dropped), or a text.  Errors name ``source``.  Checks across entries are left
    to :func:`check_params`, once every item is read.
    """
    reader = _Reader(Path(source))
    reader.seeds, reader.text = params.seeds, dict(params.text)
    reader.entries, reader.families = dict(params.entries), dict(params.families)
    if isinstance(spec, S.TimeDist):
        reader.entries = {p: e for p, e in reader.entries.items() if not p.startswith(f"{path}.")}
    reader.item(path, spec, raw)
    return dataclasses.replace(params, text=reader.text, entries=reader.entries, families=reader.families)


def check_params(params: Params) -> None:
    """The checks across entries that :func:`load_params` makes once every entry is read."""
    _check_consistency(params)
    _check_figure_levels(params)
    _check_seeds_agreement(params)
    _check_whole_splits(params)


def _check_whole_splits(params: Params) -> None:
    """Category weights read from a split of patients cite every count of the split: a figure of the same
    metric, denominator and qualifiers but another category that the entry leaves out would look
    independent in validation while the weights rest on it."""
    figures = params.seeds.figures
    for path, entry in params.entries.items():
        cited = [figures[k] for k in entry.seeds_keys if k in figures and "category" in figures[k].qualifiers]
        if entry.kind != "weights" or not cited:
            continue
        same = lambda f, g: (f.metric, f.of, {q: v for q, v in f.qualifiers.items() if q != "category"}) == \
            (g.metric, g.of, {q: v for q, v in g.qualifiers.items() if q != "category"})  # noqa: E731
        missing = [k for k, f in figures.items() if k not in entry.seeds_keys and any(same(f, c) for c in cited)]
        if missing:
            raise InputError(params.path, f"{path}.source", f"the weights rest on a split of patients: cite all of it "
                             f"({SEEDS}{(JOIN + SEEDS).join([*entry.seeds_keys, *missing])}), not only part")


def _check_seeds_agreement(params: Params) -> None:
    """A ``seeds:KEY`` value must be the number the seeds file gives (:mod:`sim.inputs.seeds_agreement`)."""
    seeds = params.seeds
    for path, entry in params.entries.items():
        key = entry.seeds_keys[0] if len(entry.seeds_keys) == 1 else None  # a derived value is not one figure
        if key is None or not seeds.has(key):
            continue
        cited = seeds.figures.get(key)
        value, of = (cited.value, cited.of) if cited is not None else (seeds.design[key].get("value"), None)
        if cited is None and entry.kind not in UNCOMPARED_KINDS and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InputError(seeds.path, f"design.{key}.value", f"must be a number: {path} in {params.path.name} "
                             f"cites it, got {value!r}")
        problem = disagreement(entry.kind, entry.value, value, of)
        if problem:
            raise InputError(params.path, f"{path}.value",
                             f"{problem} at {_relative(seeds.path, params.path)}: {'figures' if cited else 'design'}.{key}"
                             " (change one of the two files)")


def _relative(path: Path, beside: Path) -> str:
    """``path`` as it reads from the folder of ``beside`` (e.g. ``../seeds/my_trial.toml``), so a message naming
    two files of one name says which is which."""
    try:
        return os.path.relpath(path, Path(beside).parent)
    except ValueError:  # another drive
        return str(path)


def _check_figure_levels(params: Params) -> None:
    """A seeds figure that counts a dose level must name one of the params' levels."""
    for key, figure in params.seeds.figures.items():
        level = figure.qualifiers.get("level")
        if level is not None and level not in params.dose_levels():
            raise InputError(params.seeds.path, f"figures.{key}.level",
                             f"dose level '{level}' does not exist in {params.path.name} (levels: {sorted(params.dose_levels())})")


class _Reader:
    """Walks a params table against the schema, collecting entries by dotted path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seeds: Seeds | None = None
        self.text: dict[str, str | None] = {}
        self.entries: dict[str, Entry] = {}
        self.families: dict[str, str] = {}

    def fail(self, key: str, problem: str) -> None:
        raise InputError(self.path, key, problem)

    def closed(self, where: str, table: Any, allowed: set[str], required: set[str]) -> None:
        if not isinstance(table, dict):
            self.fail(where, f"must be a table, got {type(table).__name__}")
        prefix = f"{where}." if where else ""
        for key in table:
            if key not in allowed:
                self.fail(prefix + key, f"unknown key (expected one of {sorted(allowed)})")
        for key in sorted(required - set(table)):
            self.fail(prefix + key, "missing" + (" section" if not where else ""))

    def section(self, name: str, table: Any) -> None:
        spec = S.SCHEMA[name]
        required = {k for k, v in spec.items() if not getattr(v, "optional", False)}
        self.closed(name, table, set(spec), required)
        # levels first, so that allocation and the low-yield level can be checked against them
        for key in sorted(table, key=lambda k: not isinstance(spec[k], S.Levels)):
            self.item(f"{name}.{key}", spec[key], table[key])

    def item(self, path: str, spec: object, value: Any) -> None:
        if isinstance(spec, S.Text):
            self.text_item(path, spec, value)
        elif isinstance(spec, S.Scalar):
            self.entries[path] = self.scalar(path, spec.kind, value)
        elif isinstance(spec, S.TimeDist):
            self.timedist(path, value)
        elif isinstance(spec, S.Levels):
            self.closed(path, value, set(value) if isinstance(value, dict) else set(), set())
            if not value:
                self.fail(path, "must name at least one dose level")
            for level, entry in value.items():
                self.entries[f"{path}.{level}"] = self.scalar(f"{path}.{level}", "positive", entry)
        elif isinstance(spec, S.Weights):
            self.entries[path] = self.weights(path, spec, value)

    def text_item(self, path: str, spec: S.Text, value: Any) -> None:
        if not isinstance(value, str) or not value:
            self.fail(path, f"must be a non-empty string, got {value!r}")
        if path == "trial.name" and not is_safe_name(value):
            self.fail(path, f"{name_rule()} (it names the output folder), got {value!r}")
        if isinstance(spec, S.Choice) and value not in spec.options:
            self.fail(path, f"must be one of {list(spec.options)}, got {value!r}")
        if spec.level and value not in self.levels():
            self.fail(path, f"dose level '{value}' does not exist (levels: {sorted(self.levels())})")
        self.text[path] = value

    def levels(self) -> list[str]:
        return [p.split(".")[-1] for p in self.entries if p.startswith("dose.levels.")]

    def scalar(self, path: str, kind: str, raw: Any) -> Entry:
        self.closed(path, raw, S.SCALAR_ENTRY_KEYS, required={"value", "source"})
        value = raw["value"]
        problem = S.value_problem(kind, value)
        if problem:
            self.fail(f"{path}.value", problem)
        uncertainty = parse_scalar(raw["uncertainty"], self.path, f"{path}.uncertainty") if "uncertainty" in raw else None
        if uncertainty is not None and not uncertainty.contains(value):
            self.fail(f"{path}.uncertainty", f"base value {value} lies outside {uncertainty!r}")
        entry = Entry(float(value), kind, *self.provenance(path, raw), uncertainty, self.prior(path, raw, value))
        self.require_range(path, entry)
        self.require_centre(path, entry)
        return entry

    def prior(self, path: str, raw: dict, value: float) -> Uncertainty | None:
        """The prior a calibrated entry was fitted under (``prior = { lognormal = [...] }``): an input the
        evidence synthesis sampled keeps its stated prior beside its posterior, so that the next fit starts
        from the same prior and not from the last fit's posterior.  Only a ``calibration`` entry has one, or a
        ``predicted`` one (a new trial's input, the synthesis' posterior taken with its predicted levels)."""
        if "prior" not in raw:
            return None
        if raw["source"] not in ("calibration", "predicted"):
            self.fail(f"{path}.prior", "only a calibrated or predicted entry keeps the prior it was fitted under; "
                      f"this one's source is {raw['source']!r} (state its range as its uncertainty)")
        prior = parse_scalar(raw["prior"], self.path, f"{path}.prior")
        if not prior.contains(value):
            self.fail(f"{path}.prior", f"base value {value} lies outside the prior {prior!r}")
        return prior

    def weights(self, path: str, spec: S.Weights, raw: Any) -> Entry:
        categories = self.levels() if spec.over == "dose.levels" else list(spec.over)
        self.closed(path, raw, S.SCALAR_ENTRY_KEYS - {"prior"}, required={"value", "source"})
        value = raw["value"]
        if not isinstance(value, dict) or not value:
            self.fail(f"{path}.value", "must be a non-empty table of category = weight")
        for category, weight in value.items():
            if category not in categories:
                what = "dose level" if spec.over == "dose.levels" else "category"
                self.fail(f"{path}.value.{category}", f"{what} '{category}' does not exist (expected one of {categories})")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < math.inf:
                self.fail(f"{path}.value.{category}", f"a weight must be a finite number >= 0, got {weight!r}")
        if sum(value.values()) <= 0:
            self.fail(f"{path}.value", "weights are all zero")
        if not math.isfinite(sum(value.values())):
            self.fail(f"{path}.value", "weights too large: their sum is not a finite number")
        uncertainty = parse_dirichlet(raw["uncertainty"], list(value), self.path, f"{path}.uncertainty") if "uncertainty" in raw else None
        entry = Entry({c: float(w) for c, w in value.items()}, "weights", *self.provenance(path, raw), uncertainty)
        self.require_range(path, entry)
        self.require_centre(path, entry)
        return entry

    def timedist(self, path: str, raw: Any) -> None:
        family = raw.get("family") if isinstance(raw, dict) else None
        if not isinstance(family, str) or family not in FAMILIES:
            self.fail(f"{path}.family", f"must be one of {sorted(FAMILIES)}, got {family!r}")
        required, optional = FAMILIES[raw["family"]]
        self.closed(path, raw, {"family", *required, *optional}, {"family", *required})
        self.families[path] = raw["family"]
        for arg in raw:
            if arg != "family":
                self.entries[f"{path}.{arg}"] = self.scalar(f"{path}.{arg}", TIMEDIST_ARG_KINDS[arg], raw[arg])

    def provenance(self, path: str, raw: dict) -> tuple[str, str]:
        source, note = raw["source"], raw.get("note", "")
        if not isinstance(source, str) or not isinstance(note, str):
            self.fail(f"{path}.source", "source and note must be strings")
        if source.startswith(SEEDS):
            self.seeds_source(path, source, note)
        elif source in SOURCES_NEEDING_NOTE:
            if not note.strip():
                self.fail(f"{path}.note", f"a value whose source is '{source}' must say why in a note")
        else:
            self.fail(f"{path}.source", f"must be 'seeds:KEY' (or 'seeds:KEY+seeds:KEY' for several), 'calibration', 'predicted', 'assumption' or 'scenario', got {source!r}")
        return source, note

    def seeds_source(self, path: str, source: str, note: str) -> None:
        """``seeds:KEY``, or ``seeds:KEY+seeds:KEY...`` for a value derived from several figures (its note
        must then say how)."""
        if self.seeds.path is None:
            self.fail(f"{path}.source", f"'{source}' cites a seeds file, but trial.seeds names none")
        parts = source.split(JOIN)
        for part in parts:
            if not part.startswith(SEEDS) or not part[len(SEEDS):]:
                self.fail(f"{path}.source", f"several figures are cited as 'seeds:a+seeds:b', got {source!r}")
            if not self.seeds.has(part[len(SEEDS):]):
                self.fail(f"{path}.source", f"'{part}' names no figure or design fact in {self.seeds.path.name}")
        if len(set(parts)) < len(parts):
            self.fail(f"{path}.source", f"cites a figure twice: {source!r}")
        if len(parts) > 1 and not note.strip():
            self.fail(f"{path}.note", "a value derived from several figures must say how in a note")

    def require_centre(self, path: str, entry: Entry) -> None:
        """The value is the median of its uncertainty, or the note says why not (:mod:`sim.inputs.centring`)."""
        problem = off_centre(entry.value, entry.uncertainty, entry.note) if entry.uncertainty is not None else None
        if problem:
            self.fail(f"{path}.value", problem)

    def require_range(self, path: str, entry: Entry) -> None:
        if entry.source == "assumption" and entry.uncertainty is None and entry.kind != "capacity":
            self.fail(f"{path}.uncertainty", "an assumption must state its plausible range as an uncertainty distribution")


def _checked_value(source: Path, path: str, entry: Entry, value: Any) -> Any:
    if entry.kind == "weights":
        if not isinstance(value, Mapping) or set(value) != set(entry.value):
            raise InputError(source, path, f"weights must be given for exactly {sorted(entry.value)}")
        if any(isinstance(w, bool) or not (isinstance(w, (int, float)) and 0 <= w < math.inf) for w in value.values()) \
                or not 0 < sum(value.values()) < math.inf:
            raise InputError(source, path, "weights must be finite numbers >= 0, not all zero")
        return {c: float(w) for c, w in value.items()}
    problem = S.value_problem(entry.kind, value)
    if problem:
        raise InputError(source, path, problem)
    return float(value)


def is_safe_name(name: str) -> bool:
    """True if ``name`` can name a folder inside another: letters, digits, '_', '.' and '-', not '.' or '..'
    (nor any name of dots only), at most :data:`MAX_NAME` characters."""
    return bool(re.fullmatch(r"[A-Za-z0-9_.-]+", name)) and name.strip(".") != "" and len(name) <= MAX_NAME


def name_rule() -> str:
    """The rule of :func:`is_safe_name`, as a message says it."""
    return f"must be letters, digits, '_', '.' or '-', not only dots, at most {MAX_NAME} characters"


def folder_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a folder inside another (empty, dots only, a separator or control character,
    too long), or None."""
    if name.strip(".") == "" or any(c in name for c in "/\\") or printable(name) != name:
        return f"cannot name a folder inside the output folder, got {name!r}"
    if len(name) > MAX_NAME:
        return f"longer than {MAX_NAME} characters, got {len(name)}"
    return None


def _check_consistency(params: Params) -> None:
    """Checks across entries: time distributions whose arguments do not fit together, timing, and a trial
    no larger than the random streams address."""
    if params["accrual.enrolled"] > MAX_PATIENTS:
        raise InputError(params.path, "accrual.enrolled", f"at most {MAX_PATIENTS} patients per trial "
                         f"(the random streams' limit), got {params['accrual.enrolled']:g}")
    for path, family in params.families.items():
        problem = argument_problem(family, params.timedist(path)[1])
        if problem:
            raise InputError(params.path, path, problem)
    from sim.inputs.design_settings import check_design  # the design section's checks across entries

    check_design(params)
    if params["lymphodepletion.start_before_infusion_days"] < params["lymphodepletion.days"]:
        raise InputError(params.path, "lymphodepletion.start_before_infusion_days",
                         "lymphodepletion must end before infusion: start_before_infusion_days >= days")
    starts = [params[f"late.band_{k}_start_days"] for k in range(2, S.LATE_BANDS + 1)]
    for k, (low, high) in enumerate(zip(starts, starts[1:]), start=3):
        if high <= low:
            raise InputError(params.path, f"late.band_{k}_start_days",
                             f"bands must start in increasing order, got {high:g} after {low:g}")
