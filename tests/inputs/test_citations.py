"""A params note that names a paper carries its DOI or PMID (the rule: :mod:`sim.inputs.citations`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sim.inputs.citations import named_papers, uncited

PARAMS = Path(__file__).resolve().parents[2] / "params"
FILES = sorted([*PARAMS.glob("*.toml"), *PARAMS.glob("scenarios/*.toml")])


def _notes(table, where=""):
    if isinstance(table, dict):
        if isinstance(table.get("note"), str):
            yield where, table["note"]
        for key, value in table.items():
            yield from _notes(value, f"{where}.{key}" if where else key)


@pytest.mark.parametrize("note", [
    "1 death of 14 (Park JH et al., N Engl J Med 2018;378:449)",
    "as in Xu 2021, pooled 8%",
    "Lemoine J et al., Blood Adv 2023 reports 4% vs 10%",
    "2-year CIR 30% (Front Immunol 2022;13:1066748, 199 patients)",
    "Laetsch TW et al. J Clin Oncol 2023, doi 10.1200/JCO.22.00642; Maude SL et al. N Engl J Med 2018;378:439",
])
def test_a_note_naming_a_paper_without_an_identifier_is_flagged(note):
    assert uncited(note)


@pytest.mark.parametrize("note", [
    "1 of 14 (Park JH et al. N Engl J Med 2018;378:449-459, doi 10.1056/NEJMoa1709919)",
    "pooled 8% (Xu X et al. Front Oncol 2021;11:651944, PMID 34026627)",
    "the registry record spans 2021-09 to 2024-09 including follow-up",
    "median CRS onset 3-5 days after infusion in large commercial CD19 CAR-T registries",
    "Gamma(4, 6410 days), 95% interval 0.000167 to 0.00129, seed 0, 1000 simulated trials",
])
def test_a_note_with_its_identifier_or_naming_no_paper_passes(note):
    assert not uncited(note)


def test_each_paper_needs_its_own_identifier_beside_it():
    # one DOI at the end does not cover a paper named far before it
    note = "Xu 2021 gives 8%; " + "x" * 200 + "; Park JH et al. 2018, doi 10.1056/NEJMoa1709919"
    assert uncited(note) == ["Xu 2021"]
    assert [text for _, text in named_papers(note)] == ["Xu 2021", "Park JH et al. 2018"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_shipped_note_that_names_a_paper_carries_a_doi_or_pmid(path):
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    bad = {where: uncited(note) for where, note in _notes(table) if uncited(note)}
    assert not bad, f"{path.name}: notes naming a paper without a DOI or PMID: {bad}"
