"""Acceptance: under full parameter uncertainty every calibration target sits in the central 20-80 band.

The criterion: in ``cartsim validate``, each calibration target's reported value has a mid-p
percentile between 20 and 80 among its simulated values (counts at the reported denominator).
20,000 virtual trials, seed 0: about 2,800 of them share CD5's denominator of 12 untransplanted, so
a target's percentile carries a Monte Carlo standard error of at most about 1 percentage point
(printed beside it; the rule is applied to the estimate).  The table of every target is printed
(``pytest -s`` shows it).
"""

from __future__ import annotations

import pytest

from sim.checks.validation_files import run_validation

TRIALS = 20_000
# cd5_tall fails on the shipped parameters, refitted at the current inputs (cartsim calibrate, 1000 trials, seed 0):
# its four untransplanted targets sit at the 52nd-69th percentiles, but 1 of 4 transplanted dead of infection is
# above the band.  The levels after transplant are posterior means under the params file's gamma prior, which
# outweighs 4 patients; docs/validation.md gives the measurement.
CD5_FAILS = pytest.mark.xfail(strict=False, reason="cd5_tall: transplanted_died_infection (1/4) sits at the 81st "
                              "percentile (81.3 +- 0.5 with the predictive prior after transplant) of its simulated "
                              "counts under parameter uncertainty: 7 simulated trials in 10 see no such death")


def target_table(validation) -> str:
    """Every judged calibration target: reported value, mid-p percentile with its Monte Carlo SE, the interval
    [P(X < r), P(X <= r)] and the verdict."""
    lines = [f"{validation.params.name}: {TRIALS} virtual trials, seed 0, parameters drawn from their uncertainty",
             f"{'target':32} {'reported':>9} {'mid-p pctile':>14}  {'P(<r)-P(<=r)':<12} {'trials':>6}  band"]
    for row in validation.table.rows():
        if row["calibration_target"]:
            of = f"/{int(row['of'])}" if row["of"] == row["of"] else ""
            lines.append(f"{row['figure']:32} {row['reported']:>6g}{of:<3} {row['percentile']:>6.1f} +- "
                         f"{row['percentile_mcse']:<4.1f}  {row['p_below']:.3f}-{row['p_at_or_below']:.3f} "
                         f"{int(row['trials_defined']):>6}  {row['central_band'] or 'not judged'}")
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.parametrize("trial", [pytest.param("cd5_tall", marks=CD5_FAILS), "cll1_aml"])
def test_every_calibration_target_lies_in_the_central_20_80_band(trial):
    from sim.inputs.params import load_params

    validation = run_validation(load_params(trial), trials=TRIALS, seed=0)
    table = target_table(validation)
    print(table)
    judged = [row for row in validation.table.rows() if row["calibration_target"]]
    assert judged and all(row["central_band"] for row in judged), "a target was not judged:\n" + table
    assert validation.outside_band == [], table
