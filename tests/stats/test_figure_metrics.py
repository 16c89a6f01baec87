"""The seeds-file metrics for survival medians and survival at a time, cumulative incidence at a time,
non-relapse mortality, early deaths and subgroup shares, on hand-made patient tables whose answers are
worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import InputError
from sim.inputs.paper import load_seeds
from sim.stats.kaplan_meier import DAYS_PER_MONTH
from sim.stats.trial_figures import compute

NAN = np.nan


def table() -> dict[str, np.ndarray]:
    """Six infused patients (infused on day 0) and one not infused.

    0: CR, dies of infection on day 60 in remission, not transplanted
    1: CR, relapses day 100, dies of disease day 200
    2: no CR at day 28, dies of disease day 90
    3: CR, transplanted day 60, dies of transplant day 120
    4: dies of CRS on day 10, before the assessment
    5: CR, alive in remission, follow-up to day 300, not transplanted
    6: not infused (withdrew on day 20)
    """
    t = {
        "t_infusion": [0, 0, 0, 0, 0, 0, NAN],
        "t_response": [28, 28, 28, 28, NAN, 28, NAN],
        "response": ["mrd_neg_cr", "mrd_pos_cr", "no_cr", "mrd_neg_cr", "", "mrd_neg_cr", ""],
        "t_relapse": [NAN, 100, NAN, NAN, NAN, NAN, NAN],
        "t_death": [60, 200, 90, 120, 10, NAN, NAN],
        "death_cause": ["infection", "disease", "disease", "transplant", "toxicity", "", ""],
        "t_transplant": [NAN, NAN, NAN, 60, NAN, NAN, NAN],
        "t_end": [60, 200, 90, 120, 10, 300, 20],
        "final_state": ["died_infection", "died_disease", "died_disease", "died_transplant", "died_toxicity",
                        "alive_in_remission", "withdrawn"],
    }
    out = {k: np.array(v, dtype=object if isinstance(v[0], str) else float) for k, v in t.items()}
    out["relapsed"] = ~np.isnan(out["t_relapse"])
    return out


def test_km_median_of_overall_survival():
    # deaths at 10, 60, 90, 120, 200 among 6, last censored at 300: S = 5/6, 4/6, 3/6 at day 90
    assert compute("km_median_months", {"endpoint": "os"}, table()) == pytest.approx(90 / DAYS_PER_MONTH)


def test_km_median_of_event_free_survival():
    # events: 10 (death), 28 (no CR), 60 (death), 100 (relapse), 120 (death); S = 5/6, 4/6, 3/6 at day 60
    assert compute("km_median_months", {"endpoint": "efs"}, table()) == pytest.approx(60 / DAYS_PER_MONTH)
    assert compute("km_median_months", {"endpoint": "lfs"}, table()) == pytest.approx(60 / DAYS_PER_MONTH)


def test_km_median_is_undefined_when_survival_stays_above_one_half():
    # the transplanted subgroup is patient 3 only, who died: median 120 days; the untreated responders
    # 0 and 5: one death of two at day 60 gives S = 1/2
    assert compute("km_median_months", {"endpoint": "os", "transplanted": True}, table()) == pytest.approx(
        120 / DAYS_PER_MONTH)
    t = table()
    t["t_death"][:] = NAN
    t["t_end"][:6] = 300
    assert np.isnan(compute("km_median_months", {"endpoint": "os"}, t))


def months(days: float) -> float:
    return days / DAYS_PER_MONTH


def test_km_survival_at_a_time():
    # OS: deaths at 10, 60, 90, 120, 200 among 6, the last patient censored at 300
    os = {"endpoint": "os"}
    assert compute("km_survival", os | {"months": months(59)}, table()) == pytest.approx(5 / 6)
    assert compute("km_survival", os | {"months": months(100)}, table()) == pytest.approx(3 / 6)
    assert compute("km_survival", os | {"months": months(250)}, table()) == pytest.approx(1 / 6)
    # LFS: events at 10, 28, 60, 100, 120; at 6 months (182.6 days) one of 6 is event-free
    assert compute("km_survival", {"endpoint": "lfs", "months": 6}, table()) == pytest.approx(1 / 6)


def test_km_survival_beyond_the_follow_up_is_undefined():
    assert np.isnan(compute("km_survival", {"endpoint": "os", "months": months(301)}, table()))


def test_cumulative_incidence_of_relapse_and_of_non_relapse_death():
    # relapse (or no remission): day 28 (no CR), day 100; non-relapse death: days 10, 60, 120; censored 300.
    # Aalen-Johansen over the 6 infused: day 10 NRM 1/6 (S = 5/6); day 28 relapse 5/6 x 1/5 = 1/6 (S = 4/6);
    # day 60 NRM 4/6 x 1/4 = 1/6 (S = 3/6); day 100 relapse 3/6 x 1/3 = 1/6 (S = 2/6); day 120 NRM 1/6
    relapse, nrm = {"event": "relapse"}, {"event": "non_relapse_death"}
    assert compute("cumulative_incidence", relapse | {"months": months(50)}, table()) == pytest.approx(1 / 6)
    assert compute("cumulative_incidence", relapse | {"months": 6}, table()) == pytest.approx(2 / 6)
    assert compute("cumulative_incidence", nrm | {"months": months(50)}, table()) == pytest.approx(1 / 6)
    assert compute("cumulative_incidence", nrm | {"months": 6}, table()) == pytest.approx(3 / 6)
    # among responders (0, 1, 3, 5): relapse day 100 with 3 at risk after NRM at 60: 3/4 x 1/3 = 1/4
    assert compute("cumulative_incidence", relapse | {"months": 6, "responded": True}, table()) == pytest.approx(1 / 4)


def test_non_relapse_mortality_overall_and_after_day_30():
    # non-relapse deaths: 0 (infection, day 60), 3 (transplant, day 120), 4 (CRS, day 10)
    assert compute("non_relapse_mortality", {}, table()) == 3
    assert compute("non_relapse_mortality", {"after_day": 30}, table()) == 2


def test_deaths_by_day_30():
    assert compute("deaths_by_day", {"day": 30}, table()) == 1  # the CRS death on day 10
    assert compute("deaths_by_day", {"day": 90}, table()) == 3  # and days 60 and 90


def test_nrm_among_responders_not_transplanted_as_a_count_and_a_share():
    q = {"responded": True, "transplanted": False}  # patients 0, 1, 5: one non-relapse death (0)
    assert compute("non_relapse_mortality", q, table()) == 1
    assert compute("infused", q, table()) == 3
    assert compute("share", {"outcome": "non_relapse_death"} | q, table()) == pytest.approx(1 / 3)
    assert compute("share", {"outcome": "death"}, table()) == pytest.approx(5 / 6)
    assert compute("share", {"outcome": "relapse", "responded": True}, table()) == pytest.approx(1 / 4)


def test_a_share_of_an_empty_subgroup_is_undefined():
    t = table()
    t["t_transplant"][:] = NAN
    assert np.isnan(compute("share", {"outcome": "death", "transplanted": True}, t))


SEEDS = """[figures.os_median]
metric = "km_median_months"
endpoint = "os"
{extra}value = 12.9
unit = "months"
says = "median overall survival"
"""


def test_a_seeds_figure_states_a_median(tmp_path):
    path = tmp_path / "seeds.toml"
    path.write_text(SEEDS.format(extra=""))
    figure = load_seeds(path).figures["os_median"]
    assert figure.metric == "km_median_months" and figure.qualifiers == {"endpoint": "os"}


@pytest.mark.parametrize("extra, where, problem", [
    ('quantile = 0.5\n', "figures.os_median.quantile", "unknown key"),
    ('responded = "yes"\n', "figures.os_median", "responded = 'yes' is not a valid value"),
])
def test_an_unknown_or_bad_qualifier_is_an_input_error(tmp_path, extra, where, problem):
    path = tmp_path / "seeds.toml"
    path.write_text(SEEDS.format(extra=extra))
    with pytest.raises(InputError) as error:
        load_seeds(path)
    assert where in str(error.value) and problem in str(error.value)


def test_an_unknown_endpoint_is_an_input_error(tmp_path):
    path = tmp_path / "seeds.toml"
    path.write_text(SEEDS.format(extra="").replace('"os"', '"pfs"'))
    with pytest.raises(InputError, match="endpoint = 'pfs' is not a valid value"):
        load_seeds(path)


TIME_POINT = """[figures.{key}]
metric = "{metric}"
{qualifiers}
value = {value}
says = "a figure at a time"
"""


@pytest.mark.parametrize("metric, qualifiers", [("km_survival", 'endpoint = "os"\nmonths = 12'),
                                                ("cumulative_incidence", 'event = "relapse"\nmonths = 24')])
def test_a_seeds_figure_states_a_proportion_at_a_time(tmp_path, metric, qualifiers):
    path = tmp_path / "seeds.toml"
    path.write_text(TIME_POINT.format(key="f", metric=metric, qualifiers=qualifiers, value=0.4))
    figure = load_seeds(path).figures["f"]
    assert figure.metric == metric and figure.of is None


@pytest.mark.parametrize("qualifiers, value, problem", [
    ('endpoint = "os"', 0.4, "needs 'months'"),
    ('endpoint = "os"\nmonths = 0', 0.4, "months = 0 is not a valid value"),
    ('endpoint = "os"\nmonths = 12', 68, "a share is a proportion from 0 to 1"),
])
def test_a_bad_survival_figure_is_an_input_error(tmp_path, qualifiers, value, problem):
    path = tmp_path / "seeds.toml"
    path.write_text(TIME_POINT.format(key="f", metric="km_survival", qualifiers=qualifiers, value=value))
    with pytest.raises(InputError, match=problem):
        load_seeds(path)


def test_an_unknown_competing_event_is_an_input_error(tmp_path):
    path = tmp_path / "seeds.toml"
    path.write_text(TIME_POINT.format(key="f", metric="cumulative_incidence", qualifiers='event = "gvhd"\nmonths = 6',
                                      value=0.1))
    with pytest.raises(InputError, match="event = 'gvhd' is not a valid value"):
        load_seeds(path)
