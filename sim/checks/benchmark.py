"""Speed and memory of the engines, measured side by side on the same machine.

Four measures on a trial's base case, all in patients per second: the project's SimPy engine, a
plain SimPy floor (the same processes and timeouts with no model logic), a straightforward
hand-written SimPy model of the pathway (what a user would otherwise write; kept here only as the
reference), and the cohort engine.  Peak memory is traced in a separate, untimed pass.
"""

from __future__ import annotations

import math
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy

from sim.inputs.params import Params
from sim.runs.runner import iterate_trials


@dataclass
class Measure:
    name: str
    patients: int
    seconds: float
    peak_mib: float = math.nan

    @property
    def rate(self) -> float:
        return self.patients / self.seconds if self.seconds > 0 else math.inf


def _timed(work, repeat: int = 1) -> tuple[float, object]:
    """The fastest of ``repeat`` timings of ``work()`` (the least disturbed by the machine's other work),
    and the last result."""
    fastest, result = math.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest, result


def _peak_mib(work) -> float:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def engine_records(params: Params, trials: int, engine: str, seed: int = 1) -> list:
    return [record for _, record in iterate_trials(params, trials, seed, engine=engine)]


def timeouts_per_patient(records: list) -> float:
    """The SimPy engine's timeouts per patient: to collection, to the end of manufacturing, to infusion."""
    total = sum(np.count_nonzero(~np.isnan(r["t_collection"]) | ~np.isnan(r["t_mfg_start"]))
                + np.count_nonzero(~np.isnan(r["t_mfg_start"])) + np.count_nonzero(~np.isnan(r["t_infusion"]))
                for r in records)
    return total / sum(r.n for r in records)


def simpy_floor(trials: int, n: int, timeouts: float) -> None:
    """One process per patient doing ``timeouts`` timeouts on average, and nothing else."""
    whole, extra = int(timeouts), timeouts - int(timeouts)

    def patient(env, k):
        for _ in range(k):
            yield env.timeout(1.0)

    for _ in range(trials):
        env = simpy.Environment()
        for i in range(n):
            env.process(patient(env, whole + (i < extra * n)))
        env.run()


def reference_trial(params: Params, rng: np.random.Generator) -> int:
    """A plain hand-written SimPy model of the pathway: one process per patient, a draw per step."""
    env = simpy.Environment()
    slots = simpy.Resource(env, capacity=10**9)
    icu = simpy.Resource(env, capacity=10**9)
    n = int(params["accrual.enrolled"])
    infused = []

    def lognormal(path):
        return params[f"{path}.median"] * rng.lognormal(0.0, params[f"{path}.sigma"])

    def patient(env):
        progression = env.now + rng.exponential(1 / max(params["withdrawal.progression_hazard"], 1e-12))
        if rng.random() < params["donor.p_new_donor"]:
            yield env.timeout(lognormal("donor.search_days"))
        yield env.timeout(lognormal("manufacturing.collection_days"))
        with slots.request() as slot:
            yield slot
            yield env.timeout(lognormal("manufacturing.manufacturing_days"))
        if env.now > progression or rng.random() < params["manufacturing.p_failure"]:
            return
        infused.append(env.now)
        if rng.random() < params["crs.incidence"]:
            yield env.timeout(lognormal("crs.onset_day"))
            if rng.random() < params["crs.p_grade_at_least_3"]:
                with icu.request() as bed:
                    yield bed
                    yield env.timeout(lognormal("crs.duration_days_severe"))
        yield env.timeout(params["response.assessment_day"])
        if rng.random() < params["response.categories"].get("no_cr", 0.0):
            return
        hazard = params["late.relapse_hazard"] + params["late.infection_death_hazard"] + params["late.tma_death_hazard"]
        yield env.timeout(rng.exponential(1 / max(hazard, 1e-12)))

    def arrivals(env):
        for _ in range(n):
            env.process(patient(env))
            yield env.timeout(rng.exponential(params["accrual.mean_period_days"] / max(n - 1, 1)))

    env.process(arrivals(env))
    env.run()
    return len(infused)


def run_benchmark(params: Params, patients: int, repeat: int = 1) -> dict[str, Measure]:
    """Time each engine on about ``patients`` patients (whole trials of the params' size)."""
    n = int(params["accrual.enrolled"])
    trials = max(1, round(patients / n))
    total = trials * n
    des_seconds, records = _timed(lambda: engine_records(params, trials, "des"), repeat)
    timeouts = timeouts_per_patient(records)
    floor_seconds, _ = _timed(lambda: simpy_floor(trials, n, timeouts), repeat)
    rng = np.random.default_rng(1)
    reference_seconds, _ = _timed(lambda: [reference_trial(params, rng) for _ in range(trials)], repeat)
    cohort_seconds, _ = _timed(lambda: engine_records(params, trials, "cohort"), repeat)
    small = max(1, trials // 10)
    return {
        "des": Measure("SimPy engine (this project)", total, des_seconds,
                       _peak_mib(lambda: engine_records(params, small, "des"))),
        "floor": Measure(f"plain SimPy floor ({timeouts:.2f} timeouts per patient)", total, floor_seconds),
        "reference": Measure("hand-written SimPy reference", total, reference_seconds),
        "cohort": Measure("cohort engine", total, cohort_seconds,
                          _peak_mib(lambda: engine_records(params, small, "cohort"))),
    }


def run_path_benchmark(params: Params, patients: int, fmt: str = "csv", repeat: int = 1) -> Measure:
    """``cartsim run`` as a user runs it, without the printing: trials simulated over parameter uncertainty
    with the engine ``auto`` chooses, the base values run on the same seed and compared, every table
    computed and written (patients and events streamed) and the reports rendered, into a fresh folder."""
    from sim.analyses.base_agreement import run_with_agreement

    trials = _trials(params, patients)

    def work():
        with tempfile.TemporaryDirectory() as folder:
            run_with_agreement(params, Path(folder) / "run", trials=trials, seed=1, fmt=fmt,
                               command=["cartsim", "bench"])

    seconds, _ = _timed(work, repeat)
    return Measure(f"run end to end, as 'cartsim run' ({fmt})", trials * int(params["accrual.enrolled"]), seconds)


def uncertainty_benchmark(params: Params, patients: int, repeat: int = 1) -> Measure:
    """The cohort engine with each trial's parameters drawn from their uncertainty distributions."""
    trials = _trials(params, patients)
    seconds, _ = _timed(lambda: [None for _ in iterate_trials(params, trials, 1, True, "cohort")], repeat)
    return Measure("cohort engine, parameter uncertainty", trials * int(params["accrual.enrolled"]), seconds)


def sensitivity_benchmark(params: Params, patients: int, inner: int = 20, repeat: int = 1) -> Measure:
    """A probabilistic sensitivity analysis (every uncertain parameter, the default outcomes) at ``inner``
    virtual trials of the trial's size per draw: patients simulated and summarised per second."""
    from sim.sensitivity.psa import run_psa

    n = int(params["accrual.enrolled"])
    draws = max(2, round(patients / (inner * n)))  # a PSA needs two draws at least
    seconds, _ = _timed(lambda: run_psa(params, draws=draws, inner=inner, seed=1), repeat)
    return Measure(f"sensitivity evaluations (PSA, {inner} trials per draw)", draws * inner * n, seconds)


def _trials(params: Params, patients: int) -> int:
    return max(1, round(patients / int(params["accrual.enrolled"])))


def psa_benchmark(params: Params, draws: int, patients: int) -> Measure:
    """Parameter draws x one trial of ``patients`` each with the cohort engine, keeping one figure per draw."""
    big = params.with_values({"accrual.enrolled": patients})

    def work():
        return [float(np.mean(~np.isnan(r["t_infusion"])))
                for _, r in iterate_trials(big, draws, 1, parameter_uncertainty=True, engine="cohort")]

    seconds, _ = _timed(work)
    return Measure(f"PSA {draws} draws x {patients} patients (cohort engine)", draws * patients, seconds,
                   _peak_mib(lambda: [None for _ in iterate_trials(big, max(1, draws // 10), 1, True, "cohort")]))
