"""The ``[design]`` section: which dose-finding design runs, and its settings, checked.

Every number is an entry ``{ value, source, note }`` whose source is ``scenario`` (a setting of
the simulated design) or ``assumption``; choices are plain strings.  Absent keys take the defaults
below (the published defaults of each design); an absent section is the ``fixed`` design, today's
allocation by ``dose.allocation``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.errors import InputError

DESIGNS = ("fixed", "3+3", "boin", "tite_boin")
DLT_PARTS = ("crs", "icans", "death")
SOURCES = ("scenario", "assumption")
DEFAULTS = {"cohort_size": 3, "max_sample_size": 30, "target_dlt_rate": 0.3, "elimination_cutoff": 0.95,
            "dlt_window_days": 28, "dlt_crs_min_grade": 3, "dlt_icans_min_grade": 3,
            "max_pending_fraction": 0.5}
BOIN_TARGET_RANGE = (0.05, 0.6)  # the BOIN package's limits on the target
MAX_SAMPLE_SIZE = 1000  # patients one dose-finding trial may treat; published designs treat tens


@dataclass(frozen=True)
class DLTDefinition:
    """What counts as a dose-limiting toxicity: parts within ``window_days`` of infusion.

    Attributes
    ----------
    window_days : float
        The DLT assessment window after infusion, days.
    crs_min_grade, icans_min_grade : int or None
        The lowest CRS (ICANS) grade that counts; None when that part does not count.
    death : bool
        Whether death within the window counts.
    """

    window_days: float
    crs_min_grade: int | None
    icans_min_grade: int | None
    death: bool

    def describe(self) -> str:
        parts = [f"CRS grade >= {self.crs_min_grade}" if self.crs_min_grade else "",
                 f"ICANS grade >= {self.icans_min_grade}" if self.icans_min_grade else "",
                 "death" if self.death else ""]
        return f"{' or '.join(p for p in parts if p)} within {self.window_days:g} days of infusion"


@dataclass(frozen=True)
class DesignSettings:
    """A dose-finding design, ready to run.

    Attributes
    ----------
    name : str
        ``fixed``, ``3+3``, ``boin`` or ``tite_boin``.
    levels : tuple of str
        Dose levels in escalation order (increasing dose).
    start : int
        Index into ``levels`` of the starting dose.
    cohort_size, max_sample_size : int
        Patients per cohort; most patients treated (BOIN and TITE-BOIN).
    target : float
        Target DLT rate phi (BOIN, TITE-BOIN).
    elimination_cutoff : float
        Eliminate a dose when P(p > phi | data) exceeds this (BOIN, TITE-BOIN).
    early_stop_patients : int or None
        BOIN's ``n.earlystop``: stop once this many are treated at the current dose and the
        decision is to stay; None turns it off.
    dlt : DLTDefinition
        What counts as a DLT.
    dose_while_open : bool
        True: patients ready while a DLT window is open are dosed with partial follow-up
        (TITE-BOIN); False: they wait for the decision.
    replace_non_evaluable : bool
        Whether a patient who withdraws or is not infused is replaced.
    expand_mtd : bool
        3+3 only: the MTD must have 6 patients (expanded, de-escalating while it fails).
    max_pending_fraction : float
        TITE-BOIN: suspend accrual while more than this share at the current dose is pending.
    tite_estimator : str
        ``imputation`` (Yuan et al. 2018) or ``ess`` (effective sample size, Lin and Yuan 2020).
    """

    name: str
    levels: tuple[str, ...]
    start: int
    cohort_size: int
    max_sample_size: int
    target: float
    elimination_cutoff: float
    early_stop_patients: int | None
    dlt: DLTDefinition
    dose_while_open: bool
    replace_non_evaluable: bool
    expand_mtd: bool
    max_pending_fraction: float
    tite_estimator: str

    def with_name(self, name: str) -> "DesignSettings":
        """The same settings under another design (its own default for dosing while a window is open)."""
        from dataclasses import replace

        return replace(self, name=name, dose_while_open=name == "tite_boin")


def _number(params, key: str):
    path = f"design.{key}"
    return params.entries[path].value if path in params.entries else DEFAULTS.get(key)


def _text(params, key: str, default: str | None = None) -> str | None:
    value = params.text.get(f"design.{key}")
    return default if value is None else value


def design_settings(params) -> DesignSettings:
    """The design of ``params`` (a :class:`sim.params.Params`), with defaults for absent keys."""
    name = _text(params, "name", "fixed")
    levels = _levels(params)
    start = _text(params, "start_level", levels[0])
    early = _number(params, "early_stop_patients")
    return DesignSettings(
        name=name, levels=levels, start=levels.index(start) if start in levels else -1,
        cohort_size=int(_number(params, "cohort_size")), max_sample_size=int(_number(params, "max_sample_size")),
        target=float(_number(params, "target_dlt_rate")), elimination_cutoff=float(_number(params, "elimination_cutoff")),
        early_stop_patients=None if early is None else int(early), dlt=_dlt(params),
        dose_while_open=_text(params, "while_window_open", "dose" if name == "tite_boin" else "wait") == "dose",
        replace_non_evaluable=_text(params, "replace_non_evaluable", "yes") == "yes",
        expand_mtd=_text(params, "expand_mtd_to_six", "no") == "yes",
        max_pending_fraction=float(_number(params, "max_pending_fraction")),
        tite_estimator=_text(params, "tite_estimator", "imputation"))


def _levels(params) -> tuple[str, ...]:
    text = _text(params, "levels")
    if text is None:
        doses = params.dose_levels()
        return tuple(sorted(doses, key=doses.get))
    return tuple(name.strip() for name in text.split(","))


def _dlt(params) -> DLTDefinition:
    parts = _parts(_text(params, "dlt_parts", ",".join(DLT_PARTS)))
    return DLTDefinition(window_days=float(_number(params, "dlt_window_days")),
                         crs_min_grade=int(_number(params, "dlt_crs_min_grade")) if "crs" in parts else None,
                         icans_min_grade=int(_number(params, "dlt_icans_min_grade")) if "icans" in parts else None,
                         death="death" in parts)


def _parts(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def check_design(params) -> None:
    """Checks across the design entries; InputError naming the file and the key."""
    if not any(path.startswith("design.") for path in (*params.entries, *params.text)):
        return
    fail = _failer(params)
    _check_sources(params, fail)
    _check_levels(params, fail)
    _check_dlt(params, fail)
    _check_settings(design_settings(params), fail)


def check_run(params, s: DesignSettings) -> None:
    """The settings ``s`` checked for the design they run (``cartsim design --design`` may run another design
    than the file's own, on the same settings); InputError naming the file and the key."""
    _check_settings(s, _failer(params))


def _check_settings(s: DesignSettings, fail) -> None:
    if s.cohort_size < 1:
        fail("cohort_size", f"must be at least 1, got {s.cohort_size}")
    if s.cohort_size > s.max_sample_size:
        fail("cohort_size", f"a cohort of {s.cohort_size} exceeds max_sample_size {s.max_sample_size}")
    if s.max_sample_size > MAX_SAMPLE_SIZE:
        fail("max_sample_size", f"at most {MAX_SAMPLE_SIZE} patients per dose-finding trial, got {s.max_sample_size}")
    low, high = BOIN_TARGET_RANGE
    if s.name in ("boin", "tite_boin") and not low <= s.target <= high:
        fail("target_dlt_rate", f"{s.name} needs a target DLT rate in [{low}, {high}], got {s.target}")
    if not 0.5 <= s.elimination_cutoff < 1:
        fail("elimination_cutoff", f"must be in [0.5, 1), got {s.elimination_cutoff}")
    if s.max_pending_fraction <= 0:
        fail("max_pending_fraction", "must be above 0 (0 would suspend accrual for ever)")
    if s.dose_while_open and s.name != "tite_boin":
        fail("while_window_open", f"'dose' (dosing with partial follow-up) needs the time-to-event design "
             f"tite_boin, not {s.name}")


def _failer(params):
    def fail(key: str, problem: str) -> None:
        raise InputError(params.path, f"design.{key}", problem)
    return fail


def _check_sources(params, fail) -> None:
    for path, entry in params.entries.items():
        if path.startswith("design.") and entry.source not in SOURCES:
            fail(f"{path[len('design.'):]}.source", f"a design setting is chosen, not estimated: its source must be "
                 f"'scenario' or 'assumption', got {entry.source!r}")


def _check_levels(params, fail) -> None:
    doses = params.dose_levels()
    levels = _levels(params)
    for name in levels:
        if name not in doses:
            fail("levels", f"dose level '{name}' does not exist (levels: {sorted(doses)})")
    if len(set(levels)) != len(levels):
        fail("levels", "names a dose level twice")
    if any(doses[a] >= doses[b] for a, b in zip(levels, levels[1:])):
        fail("levels", f"must list dose levels in increasing dose, got {', '.join(f'{n}={doses[n]:g}' for n in levels)}")
    start = _text(params, "start_level")
    if start is not None and start not in levels:
        fail("start_level", f"dose level '{start}' is not among the design's levels {list(levels)}")


def _check_dlt(params, fail) -> None:
    parts = _parts(_text(params, "dlt_parts", ",".join(DLT_PARTS)))
    for part in parts:
        if part not in DLT_PARTS:
            fail("dlt_parts", f"unknown part '{part}' (expected some of {list(DLT_PARTS)}, comma-separated)")
    if not parts:
        fail("dlt_parts", "names no part: nothing would count as a DLT")
    for key in ("dlt_crs_min_grade", "dlt_icans_min_grade"):
        grade = _number(params, key)
        if not 1 <= grade <= 4:
            fail(key, f"a grade is 1 to 4, got {grade:g}")
    if _number(params, "dlt_window_days") <= 0:
        fail("dlt_window_days", "the DLT window must be longer than 0 days")


def check_design_name(name: str) -> str:
    """A design name from the command line: one of :data:`DESIGNS`."""
    if name not in DESIGNS:
        raise InputError("--design", "", f"unknown design {name!r} (expected one of {list(DESIGNS)})")
    return name
