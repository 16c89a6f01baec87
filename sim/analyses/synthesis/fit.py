"""The evidence synthesis: the published series and the shipped trials in one hierarchy.

- Each published series enters through :class:`~sim.analyses.synthesis.series_likelihood.SeriesLikelihood`
  (the model's own late chances over its follow-up), all series in one block.
- A shipped trial whose seeds report outcomes at cut-off by transplant status enters with the
  calibration's exact per-patient likelihood (:class:`~sim.analyses.calibration.late.LateModel` over
  its simulated windows, cut at the fitted cut-off, the multinomial of each group's counts); its
  levels after transplant are sampled with it under the params file's gamma priors.
- The inputs both likelihoods depend on smoothly - every cause's band shapes and the patient factors (the
  MRD-positive relapse ratio, the infection hazard ratios after grade 3-4 cytopenia and after an early
  infection) - are sampled with the levels under the reference params' stated priors when
  ``sample_inputs`` is set (:mod:`~sim.analyses.synthesis.nuisance`); a series reads the band shapes (its
  level is its typical patient's, so no patient factor applies), a shipped trial reads every one its
  params file states with the same prior.  Otherwise, and always for the band starts and the cut-off
  (the nuisance module says why), they are held at their base values.
- A shipped trial without such outcomes is a unit with no data: its levels are the class's
  predictive distribution given everything else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from sim.analyses.calibration import calibrate, late_groups
from sim.analyses.calibration.late import DRAW_WINDOWS, LateModel, hazard_path, level_log_prior
from sim.analyses.synthesis.hierarchy import CAUSES, Block, Hierarchy, Unit
from sim.analyses.synthesis.nuisance import FACTORS, Nuisance, as_stated, nuisance_of, smooth_nuisance
from sim.analyses.synthesis.sampler import TARGET_ACCEPT, HierarchySample, diagnosed, sample_hierarchy
from sim.analyses.synthesis.series_likelihood import SeriesLikelihood
from sim.errors import InputError
from sim.inputs.params import Params
from sim.inputs.series import Series
from sim.model import late_bands
from sim.model.late_bands import LATE_CAUSES
from sim.rng.streams import stream_key

OWN_DRAWS = 400  # the trial-only fit's posterior draws, for its 95% interval beside the pooled one
SHIPPED_WINDOWS = 100  # simulated windows behind a shipped trial's likelihood in the sampler: the averaged chance's Monte Carlo error (about 0.025 on a share) is small beside its posterior spread (about 0.13 for 12 patients)


@dataclass(frozen=True)
class Synthesis:
    """A fitted synthesis: the series, the hierarchy and its sample."""

    series: tuple[Series, ...]
    shipped: tuple[str, ...]
    sample: HierarchySample
    likelihood: SeriesLikelihood

    @property
    def hierarchy(self) -> Hierarchy:
        return self.sample.hierarchy


def trial_class(params: Params) -> str:
    """The target class a params file states (``trial.target_class``)."""
    value = params.text.get("trial.target_class")
    if value is None:
        raise InputError(params.path, "trial.target_class", "is needed to pool the trial with the published series")
    return value


def series_block(series: list[Series], reference: Params, first: int,
                 nuisance: list[Nuisance] = ()) -> tuple[list[Unit], Block, SeriesLikelihood]:
    """Units of the series (indices from ``first``) and their one block, which reads the sampled band shapes."""
    likelihood = SeriesLikelihood(series, reference)
    units = [Unit(s.key, s.target_class, s.infused) for s in series]
    reads = tuple(m.path for m in nuisance if m.path not in FACTORS)
    block = Block(list(range(first, first + len(series))), lambda levels, extras: likelihood(levels, _inputs(extras, reads)),
                  reads)
    return units, block, likelihood


def _inputs(extras: dict, reads: tuple[str, ...]) -> dict | None:
    """The sampled inputs among a block's extras (None when it reads none)."""
    return {path: extras[path] for path in reads} or None


def shipped_reads(params: Params, nuisance: list[Nuisance]) -> tuple[str, ...]:
    """The sampled inputs a shipped trial's likelihood reads: those its params file states with the same prior as
    the reference (an input it states otherwise stays at its own base value)."""
    return tuple(m.path for m in nuisance if (own := nuisance_of(params, m.path)) is not None and own.stated == m.stated)


def shipped_block(params: Params, index: int, trials: int, seed: int,
                  nuisance: list[Nuisance] = ()) -> tuple[Unit, Block | None]:
    """A shipped trial as a unit, with its exact likelihood when its seeds report late outcomes."""
    params = as_stated(params)  # its trial-only fit at the inputs as stated, not an earlier synthesis' posteriors
    infused = next((f.value for f in params.seeds.figures.values() if f.metric == "infused"), 0)
    groups = late_groups(params)
    if not groups:
        return Unit(params.name, trial_class(params), int(infused or 0)), None
    result = calibrate(params, trials=trials, seed=seed, draws=OWN_DRAWS)
    fitted = params.with_values({fit.path: fit.value for fit in result.fits}, source="calibration")
    model = LateModel(result.late, fitted)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_key("synthesis"),)))
    light = model.subset(rng.choice(len(model.length), size=min(len(model.length), SHIPPED_WINDOWS, DRAW_WINDOWS),
                                    replace=False))
    after_paths = {c: hazard_path(c, True) for g in groups if g.transplanted for c in g.causes}
    extras = {path: (float(fitted[path]), level_log_prior(fitted, c, True)) for c, path in after_paths.items()}
    fixed_after = {c: late_bands.level(fitted, c, True) for c in LATE_CAUSES}
    fixed_before = {c: late_bands.level(fitted, c, False) for c in LATE_CAUSES}

    reads = shipped_reads(params, list(nuisance))

    def log_likelihood(levels: dict, values: dict) -> np.ndarray:
        before = fixed_before | {c: levels[c][:, 0] for c in CAUSES}
        after = fixed_after | {c: values[path] for c, path in after_paths.items()}
        states = light.states(before, after, _inputs(values, reads))  # once for every group
        return sum(light.log_likelihood(g, before, after, states) for g in groups)

    before = {hazard_path(c, False) for c in LATE_CAUSES}
    own = {fit.path: (float(fit.value), fit.draws) for fit in result.fits if fit.path in before}
    unit = Unit(params.name, trial_class(params), int(infused or 0), extras, own)
    return unit, Block([index], log_likelihood, reads)


def build_hierarchy(series: list[Series], shipped: list[Params], reference: Params, trials: int = 200,
                    seed: int = 0, sample_inputs: bool = False) -> tuple[Hierarchy, SeriesLikelihood]:
    """The hierarchy over the series and the shipped trials (in that order of units); with ``sample_inputs``,
    the smooth inputs of the likelihood (band shapes, patient factors) are sampled with the levels."""
    nuisance = smooth_nuisance(reference) if sample_inputs else []
    units, block, likelihood = series_block(series, reference, 0, nuisance)
    blocks = [block]
    for params in shipped:
        unit, trial_block = shipped_block(params, len(units), trials, seed, nuisance)
        units.append(unit)
        if trial_block is not None:
            blocks.append(trial_block)
    read = {path for b in blocks for path in b.reads}
    return Hierarchy(units, blocks, nuisance=[m for m in nuisance if m.path in read]), likelihood


def fit_synthesis(series: list[Series], shipped: list[Params], reference: Params, draws: int = 1000,
                  tune: int = 1000, chains: int = 4, trials: int = 200, seed: int = 0,
                  sample_inputs: bool = False, low_rank: bool = False,
                  target_accept: float = TARGET_ACCEPT) -> Synthesis:
    """Build the hierarchy and sample it (NUTS: ``chains`` chains of ``draws`` draws after ``tune``; the smooth
    inputs with the levels when ``sample_inputs`` is set; ``low_rank`` and ``target_accept``: as
    :func:`~sim.analyses.synthesis.sampler.sample_hierarchy` takes them)."""
    hierarchy, likelihood = build_hierarchy(series, shipped, reference, trials, seed, sample_inputs)
    sample = sample_hierarchy(hierarchy, draws=draws, tune=tune, chains=chains, seed=seed, low_rank=low_rank,
                              target_accept=target_accept)
    return Synthesis(tuple(series), tuple(p.name for p in shipped), sample, likelihood)


def synthesis_from_sample(series: list[Series], shipped: list[Params], reference: Params, theta: np.ndarray,
                          tune: int, divergences: int = 0, centred: np.ndarray | None = None, trials: int = 200,
                          seed: int = 0, sample_inputs: bool = False, low_rank: bool = False,
                          target_accept: float = TARGET_ACCEPT) -> Synthesis:
    """A synthesis from draws saved by an earlier fit (``cartsim evidence --keep-sample``): the hierarchy
    is rebuilt the same way and the draws diagnosed again, without sampling (``low_rank``: the mass matrix
    and ``target_accept`` they were drawn with, for their description)."""
    hierarchy, likelihood = build_hierarchy(series, shipped, reference, trials, seed, sample_inputs)
    if centred is not None:
        hierarchy = hierarchy.with_centring(centred)
    if theta.ndim != 3 or theta.shape[-1] != hierarchy.ndim:
        raise InputError("--from-sample", "theta", f"the draws are shaped {theta.shape}, not (draws, chains, "
                         f"{hierarchy.ndim}) as this hierarchy needs")
    sample = dataclasses.replace(diagnosed(hierarchy, theta, tune, seed, divergences, target_accept), low_rank=low_rank)
    return Synthesis(tuple(series), tuple(p.name for p in shipped), sample, likelihood)
