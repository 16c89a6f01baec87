"""The run report's sentences about the model, built from the model's own facts.

Each sentence reads what it states from where the code keeps it: the late causes and the number of
bands from :mod:`sim.inputs.schema`, the band start days and the levers' values from the run's
parameters, the death causes from :mod:`sim.model.records`, the random streams from
:mod:`sim.model.draws` and the generator from :mod:`sim.rng.streams`.  A change to any of them changes
the report, so its description of the model cannot go stale.

Every function takes ``value``, a lookup from a params path (``late.band_2_start_days``) to the run's
value as text ('-' when the run has none).
"""

from __future__ import annotations

from typing import Callable

from sim.inputs import schema
from sim.model import draws, records, timeline
from sim.rng import streams

Lookup = Callable[[str], str]
DIED = "died_"


def shown(text: str) -> str:
    """A value as the report shows it: a number without trailing zeros, other text as it is."""
    try:
        return f"{float(text):g}"
    except (TypeError, ValueError):
        return str(text)


def listed(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def late_causes() -> tuple[list[str], list[str]]:
    """The late causes' entry names: those acting from the response, and those only after a transplant."""
    late = schema.SCHEMA["late"]
    always = [name for name in schema.LATE_HAZARD_NAMES.values() if f"{name}_hazard" in late]
    after_only = [name for name in schema.LATE_HAZARD_NAMES.values() if name not in always]
    return always, after_only


def band_sentence(value: Lookup) -> str:
    """The bands of time since infusion and the day each starts."""
    starts = [f"band {k} from day {shown(value(f'late.band_{k}_start_days'))}"
              for k in range(2, schema.LATE_BANDS + 1)]
    return f"{schema.LATE_BANDS} bands of time since infusion (band 1 from infusion, {listed(starts)})"


def late_course(value: Lookup) -> str:
    """How the late causes compete: banded hazards that change at transplant."""
    always, after_only = late_causes()
    causes = listed([f"`{name}`" for name in always]
                    + [f"`{name}` (after a transplant only)" for name in after_only])
    disease = ("  Death from disease follows relapse or a failed response at a constant hazard "
               f"(`late.disease_death_hazard` = {shown(value('late.disease_death_hazard'))} per day)."
               if "disease_death_hazard" in schema.SCHEMA["late"] else "")
    return (f"From the response assessment the late causes {causes} compete with piecewise-constant hazards over "
            f"{band_sentence(value)}: a cause's hazard in band k is its level (`late.<cause>_hazard`, or "
            "`late.<cause>_hazard_after_transplant` once transplanted) times its relative level "
            "`late.<cause>_shape_k`.  Each patient carries one unit-exponential target per cause, inverted through "
            f"the piecewise-linear cumulative hazard, so event times are exact.{disease}")


def early_deaths(value: Lookup) -> str:
    """Which toxicities can kill, with the chance each run used."""
    fatal = [section for section, keys in schema.SCHEMA.items() if "p_death_given_grade_4" in keys]
    chances = listed([f"grade 4 {section.upper()} (`{section}.p_death_given_grade_4` = "
                      f"{shown(value(f'{section}.p_death_given_grade_4'))})" for section in fatal])
    return (f"Early deaths come from {chances}, death cause `{timeline.TOXICITY}`; "
            f"CRS of grade {timeline.ICU_MIN_GRADE} or more needs an ICU bed.")


def death_causes() -> str:
    """The final states of a patient who died."""
    died = [f"`{state}`" for state in records.FINAL_STATES if state.startswith(DIED)]
    return f"A patient who dies ends in one of {listed(died)}."


def levers(value: Lookup) -> list[tuple[str, str]]:
    """Every log-odds lever of the schema (a real-valued entry) with its value in this run."""
    return [(f"{section}.{key}", shown(value(f"{section}.{key}")))
            for section, keys in schema.SCHEMA.items() for key, kind in keys.items() if kind == schema.REAL]


def lever_sentence(value: Lookup) -> str:
    """The levers, each with its value and whether it acts as run."""
    shown_levers = [f"`{path}` = {number}" + (" (no effect as run)" if number == "0" else "")
                    for path, number in levers(value)]
    return ("Levers, each a shift on the log-odds scale (per unit of its own scale, as its params note says): "
            f"{listed(shown_levers)}.")


def random_numbers() -> str:
    """The random streams and the generator behind them."""
    names = list(draws.STREAMS)
    return (f"{len(names)} named streams, one per stochastic element ({', '.join(names)}), each keyed by the "
            "seed and the stream's name through `numpy.random.SeedSequence`, so adding a stream shifts no other; "
            f"within a stream the uniform of virtual trial k and patient i is the output at counter (k, i) of "
            f"the counter-based generator {streams.GENERATOR} (`{streams.__name__}`), and every time or category "
            "comes from its uniform through an inverse CDF.  The same seed therefore gives each patient the same "
            "luck in every scenario (common random numbers), whatever the number of patients or trials.")


def structural_assumptions(value: Lookup) -> str:
    """What the model's structure takes as given, with the values of the levers that carry it."""
    return (f"{early_deaths(value)}  Infection, TMA and transplant deaths act in and out of remission.  "
            f"Response depends on dose only through `response.dose_log_odds` "
            f"(= {shown(value('response.dose_log_odds'))} as run).  GVHD outside death from transplant, and cell "
            "kinetics beyond the expansion peak, are not modelled.")
