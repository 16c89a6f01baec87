"""A value is the median of its uncertainty, a count may keep k/n, or the note says why not."""

from __future__ import annotations

import pytest

from sim.errors import InputError
from sim.inputs.centring import MARKER, off_centre
from sim.inputs.params import load_params
from sim.inputs.uncertainty import parse_dirichlet, parse_scalar


def _u(spec):
    return parse_scalar(spec, "test", "x")


@pytest.mark.parametrize("value, spec", [
    (0.5, {"uniform": [0.0, 1.0]}), (30.0, {"lognormal": [30, 0.4]}), (0.0, {"uniform": [-1.5, 1.5]}),
    (4 / 16, {"beta": [4, 16]}), (0.4167, {"beta": [5, 12]}), (0.0, {"beta": [0, 4]}),  # counts keep k/n
    (2 / 1730, {"gamma": [2, 1730]}),
])
def test_a_centred_value_or_a_count_passes(value, spec):
    assert off_centre(value, _u(spec), "") is None


@pytest.mark.parametrize("value, spec", [
    (365.0, {"uniform": [180, 730]}),  # the 34th percentile
    (0.52, {"uniform": [0.0, 1.0]}),   # just outside the 49th-51st percentile band
    (1.0, {"uniform": [1, 3]}),        # at the bottom of its range
    (0.3, {"beta": [4, 16]}),          # neither k/n nor the median
])
def test_an_off_centre_value_is_flagged_unless_the_note_says_why(value, spec):
    assert "percentile" in off_centre(value, _u(spec), "")
    assert off_centre(value, _u(spec), f"{MARKER} the mode reported by the paper") is None
    assert off_centre(value, _u(spec), f"ends with the marker but no reason {MARKER}  ") is not None


def test_weights_must_be_the_shares_of_their_counts():
    u = parse_dirichlet({"dirichlet": {"a": 7, "b": 2, "c": 3}}, ["a", "b", "c"], "test", "x")
    assert off_centre({"a": 7, "b": 2, "c": 3}, u, "") is None
    assert "shares" in off_centre({"a": 1, "b": 1, "c": 1}, u, "")


def test_loading_an_off_centre_entry_is_one_line_naming_file_and_key(cd5_copy):
    text = cd5_copy.path.read_text()
    old = 'sigma = { value = 0.5, source = "assumption", uncertainty = { uniform = [0.25, 0.75] }'
    assert old in text
    cd5_copy.path.write_text(text.replace(old, old.replace("[0.25, 0.75]", "[0.25, 0.95]"), 1))
    with pytest.raises(InputError) as err:
        load_params(cd5_copy.path)
    message = str(err.value)
    assert "\n" not in message and "cd5_tall.toml" in message and "donor.search_days.sigma.value" in message
    assert MARKER in message


def test_every_shipped_file_loads_centred(cd5, cll1):
    # loading succeeded (the fixtures); every uncertain value is centred, a count, or explained
    for params in (cd5, cll1):
        for path in params.uncertain():
            entry = params.entries[path]
            assert off_centre(entry.value, entry.uncertainty, entry.note) is None, path
