"""The series loader: every bad value is one InputError naming the file and the key."""

from __future__ import annotations

import pytest

from sim.errors import InputError
from sim.inputs.series import load_all_series, load_series

GOOD = """\
[citation]
first_author = "A"
year = 2020
doi = "10.1/x"

[series]
target = "CD19"
target_class = "b_lineage"
donor = "autologous"
disease = "B-ALL"
infused = 20
median_followup_months = 12

[figures.nrm]
metric = "nrm_deaths"
value = 2
of = 20
says = "2 of 20"
"""


def write(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


def test_a_good_file_loads(tmp_path):
    series = load_series(write(tmp_path, GOOD))
    assert (series.infused, series.figure("nrm_deaths").value, series.figure("nrm_deaths").of) == (20, 2.0, 20)


@pytest.mark.parametrize("old, new, key, words", [
    ("value = 2\n", "value = 21\n", "figures.nrm.value", "whole number in 0..20"),
    ("value = 2\n", "value = 1.5\n", "figures.nrm.value", "whole number"),
    ("of = 20\n", "of = 30\n", "figures.nrm.of", "whole number in 1..20"),
    ('metric = "nrm_deaths"', 'metric = "deaths"', "figures.nrm.metric", "must be one of"),
    ('target_class = "b_lineage"', 'target_class = "other"', "series.target_class", "must be one of"),
    ('doi = "10.1/x"', 'journal = "J"', "citation", "doi or a pmid"),
    ("median_followup_months = 12", "median_followup_months = 0", "series.median_followup_months", "> 0"),
    ('of = 20\nsays', 'of = 20\nday = 3\nsays', "figures.nrm.day", "not a key"),
])
def test_bad_values_name_file_and_key(tmp_path, old, new, key, words):
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(InputError) as err:
        load_series(path)
    assert err.value.source == str(path) and err.value.key == key and words in err.value.problem


@pytest.mark.parametrize("figure, key, words", [
    ('metric = "nrm_cumulative_incidence"\nvalue = 1.2\nday = 100', "figures.x.value", "share must be in [0, 1]"),
    ('metric = "nrm_cumulative_incidence"\nvalue = 0.2\nday = 0', "figures.x.day", "> 0"),
    ('metric = "relapse_count"\nvalue = 1\nof = 5\nof_kind = "all"', "figures.x.of_kind", "must be one of"),
])
def test_bad_figures_by_kind(tmp_path, figure, key, words):
    path = write(tmp_path, GOOD + f"\n[figures.x]\n{figure}\n")
    with pytest.raises(InputError) as err:
        load_series(path)
    assert err.value.key == key and words in err.value.problem


def test_shipped_series_load():
    assert len(load_all_series()) >= 2


def test_an_empty_series_folder_is_refused_in_one_line(tmp_path, capsys):
    from sim.cli.main import main

    with pytest.raises(InputError, match="no series file"):
        load_all_series(tmp_path)
    assert main(["evidence", "--series", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tmp_path) in err and not (tmp_path / "out").exists()
