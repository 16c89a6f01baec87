"""A chunk's points evaluated together give exactly what each gives alone."""

from __future__ import annotations

import json

import pytest

from sim.errors import InputError
from sim.sensitivity.backends import evaluate_chunk
from sim.sensitivity.model import Point, TrialModel
from sim.stats.key_outcomes import OUTCOMES


def _same(a, b) -> bool:
    return json.dumps(a.to_json()) == json.dumps(b.to_json())  # exact floats, NaN included


@pytest.mark.parametrize("name", ["cd5", "cll1"])
def test_points_evaluated_together_equal_points_evaluated_alone(request, name):
    params = request.getfixturevalue(name)
    model = TrialModel(params, tuple(OUTCOMES), inner=6, seed=3, draw_paths=tuple(params.uncertain()))
    points = [Point(i, luck=i % 2, draw=i) for i in range(8)]
    severe = {"crs.incidence": 0.95, "crs.p_grade_at_least_2": 0.95, "crs.p_grade_at_least_3": 0.9}
    points += [Point(8, values={"crs.incidence": 0.4}), Point(9, values=severe | {"resources.icu_beds": 1}, luck=1),
               Point(10, values={"crs.incidence": 0.9}, draw=2)]
    together = evaluate_chunk(model, points)
    assert [e.index for e in together] == [p.index for p in points]
    for alone, joint in zip([model(p) for p in points], together):
        assert _same(alone, joint), alone.index
    assert not _same(together[0], together[1])
    assert together[9].outcomes["icu_wait_days"].mean > 0  # one ICU bed among unlimited rows: its queue formed


def test_a_point_with_an_invalid_value_fails_as_it_does_alone(cd5):
    model = TrialModel(cd5, ("cr_rate",), inner=4)
    points = [Point(0), Point(1, values={"crs.incidence": 1.5})]
    with pytest.raises(InputError) as alone:
        model(points[1])
    with pytest.raises(InputError) as together:
        model.evaluate_many(points)
    assert str(together.value) == str(alone.value)
