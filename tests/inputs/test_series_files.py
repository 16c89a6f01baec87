"""The published-series files in seeds/series/ keep their contract.

Each file restates what one published CAR-T series in relapsed/refractory acute leukaemia reports
(docs/evidence.md gives the inclusion rule).  The checks here are the contract the evidence
synthesis relies on; every problem names the file and the key.  A second set of tests feeds
deliberately broken files to the same checker, so each check is shown to be able to fail.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import pytest

SERIES = Path(__file__).resolve().parents[2] / "seeds" / "series"

TARGET_CLASSES = {"b_lineage", "lineage_depleting"}
DONORS = {"autologous", "donor_derived", "mixed"}
DISEASES = {"B-ALL", "T-ALL", "AML", "mixed ALL"}
AGES = {"paediatric", "adult", "mixed"}
COUNT_METRICS = {"nrm_deaths", "infection_deaths", "relapse_count", "complete_remission"}
SHARE_METRICS = {"nrm_cumulative_incidence", "relapse_cumulative_incidence", "lfs", "os"}
# A series enters the synthesis only through one of these (the inclusion rule).
LATE_COURSE_METRICS = {"nrm_deaths", "nrm_cumulative_incidence", "infection_deaths", "relapse_count",
                       "relapse_cumulative_incidence", "lfs"}
OF_KINDS = {"infused", "responders"}
LFS_DEFINITIONS = {"EFS", "RFS", "LFS"}
CITATION_KEYS = {"first_author", "year", "journal", "volume", "doi", "pmid", "read"}
SERIES_KEYS = {"target", "target_class", "donor", "disease", "age", "infused", "median_followup_months",
               "transplanted_after"}
# the keys each metric takes besides "metric" and "says"
METRIC_KEYS = {"nrm_deaths": {"value", "of"}, "infection_deaths": {"value", "of"},
               "relapse_count": {"value", "of", "of_kind"}, "complete_remission": {"value", "of"},
               "nrm_cumulative_incidence": {"value", "day"}, "relapse_cumulative_incidence": {"value", "day"},
               "lfs": {"value", "day", "definition"}, "os": {"value", "day"}}
# The two trials the project ships enter the synthesis separately, never as a series file.
SHIPPED_DOIS = {"10.1038/s41591-024-03282-2", "10.3389/fimmu.2024.1491341"}
RESTATES = "restates, in this project's own words"


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _unknown(table: dict, allowed: set[str], where: str) -> list[str]:
    return [f"{where}.{key}: unknown key" for key in sorted(set(table) - allowed)]


def _citation_problems(citation: dict) -> list[str]:
    out = _unknown(citation, CITATION_KEYS, "citation")
    doi, pmid = citation.get("doi"), citation.get("pmid")
    if doi is None and pmid is None:
        out.append("citation: neither doi nor pmid")
    if doi is not None and not (isinstance(doi, str) and doi.startswith("10.")):
        out.append(f"citation.doi: {doi!r} is not a DOI")
    if pmid is not None and not (isinstance(pmid, str) and pmid.isdigit()):
        out.append(f"citation.pmid: {pmid!r} is not a PubMed id")
    if doi in SHIPPED_DOIS:
        out.append(f"citation.doi: {doi} is a shipped trial, which enters the synthesis separately")
    if not isinstance(citation.get("read"), str) or not citation["read"].strip():
        out.append("citation.read: missing (where the figures were read)")
    return out


def _series_problems(series: dict) -> list[str]:
    out = _unknown(series, SERIES_KEYS, "series")
    for key, allowed in (("target_class", TARGET_CLASSES), ("donor", DONORS), ("disease", DISEASES), ("age", AGES)):
        if series.get(key) not in allowed:
            out.append(f"series.{key}: {series.get(key)!r} is not one of {sorted(allowed)}")
    infused = series.get("infused")
    if not _is_whole(infused) or infused < 10:
        out.append(f"series.infused: {infused!r} is not a whole number of at least 10")
    target = str(series.get("target", ""))
    if not target:
        out.append("series.target: missing")
    if "CD7" in target.split("/") and series.get("disease") == "T-ALL" and series.get("donor") != "autologous":
        out.append("series: donor-derived CD7 CAR-T in T-ALL is kept out of the evidence for an independent check")
    for key in ("median_followup_months",):
        if key in series and (not _is_number(series[key]) or series[key] <= 0):
            out.append(f"series.{key}: {series[key]!r} is not a positive number")
    if "transplanted_after" in series:
        after = series["transplanted_after"]
        if not _is_whole(after) or not 0 <= after <= (infused if _is_whole(infused) else after):
            out.append(f"series.transplanted_after: {after!r} is not a count between 0 and infused")
    return out


def _count_problems(figure: dict, where: str, infused) -> list[str]:
    value, of = figure.get("value"), figure.get("of")
    if not _is_whole(of) or of <= 0:
        return [f"{where}.of: {of!r} is not a positive whole number"]
    out = []
    if not _is_whole(value) or not 0 <= value <= of:
        out.append(f"{where}.value: {value!r} is not a whole number between 0 and of = {of}")
    if _is_whole(infused) and of > infused:
        out.append(f"{where}.of: {of} is more than the {infused} infused")
    if figure.get("metric") == "relapse_count" and "of_kind" not in figure:
        out.append(f"{where}.of_kind: a relapse count must say whether 'of' counts responders or infused")
    return out


def _share_problems(figure: dict, where: str) -> list[str]:
    value, day = figure.get("value"), figure.get("day")
    out = []
    if not _is_number(value) or not 0 <= value <= 1:
        out.append(f"{where}.value: {value!r} is not a share in [0, 1]")
    if not _is_number(day) or day <= 0:
        out.append(f"{where}.day: {day!r} is not a positive day")
    if figure.get("metric") == "lfs" and figure.get("definition") not in LFS_DEFINITIONS:
        out.append(f"{where}.definition: {figure.get('definition')!r} is not one of {sorted(LFS_DEFINITIONS)}")
    return out


def _figure_problems(name: str, figure: dict, infused) -> list[str]:
    where = f"figures.{name}"
    metric = figure.get("metric")
    out = _unknown(figure, METRIC_KEYS.get(metric, set()) | {"metric", "says"}, where)
    if metric in COUNT_METRICS:
        out += _count_problems(figure, where, infused)
    elif metric in SHARE_METRICS:
        out += _share_problems(figure, where)
    else:
        out.append(f"{where}.metric: {metric!r} is not a known metric")
    if "of_kind" in figure and figure["of_kind"] not in OF_KINDS:
        out.append(f"{where}.of_kind: {figure['of_kind']!r} is not one of {sorted(OF_KINDS)}")
    if not isinstance(figure.get("says"), str) or not figure["says"].strip():
        out.append(f"{where}.says: missing (the figure in our own words)")
    return out


def problems(name: str, text: str) -> list[str]:
    """Every way the series file ``name`` with content ``text`` breaks the contract."""
    if not re.fullmatch(r"[a-z]+\d{4}_[a-z0-9_]+\.toml", name):
        return [f"{name}: file name is not <author><year>_<target>_<disease>....toml"]
    first_line = text.splitlines()[0] if text else ""
    if RESTATES not in first_line:
        return [f"{name}: first line must say the file {RESTATES} the published figures"]
    data = tomllib.loads(text)
    out = _unknown(data, {"citation", "series", "figures"}, "file")
    out += _citation_problems(data.get("citation", {}))
    series = data.get("series", {})
    out += _series_problems(series)
    figures = data.get("figures", {})
    for fig_name, figure in figures.items():
        out += _figure_problems(fig_name, figure, series.get("infused"))
    if not LATE_COURSE_METRICS & {f.get("metric") for f in figures.values()}:
        out.append("figures: no non-relapse death, infection death, relapse or leukaemia-free figure")
    return [f"{name}: {p}" if not p.startswith(name) else p for p in out]


FILES = sorted(SERIES.glob("*.toml"))


def test_there_are_enough_series_of_both_classes():
    classes = [tomllib.loads(p.read_text())["series"]["target_class"] for p in FILES]
    assert len(FILES) >= 8, f"seeds/series: {len(FILES)} series files, at least 8 needed"
    assert set(classes) == TARGET_CLASSES, f"seeds/series: classes present {sorted(set(classes))}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_series_file_keeps_the_contract(path):
    assert problems(path.name, path.read_text()) == []


def test_no_series_is_entered_twice():
    keys = [tomllib.loads(p.read_text())["citation"].get("doi") or p.stem for p in FILES]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    assert not repeated, f"seeds/series: the same publication in more than one file: {repeated}"


GOOD = '''# This file restates, in this project's own words, figures published for one CAR-T series.
[citation]
first_author = "Doe J"
year = 2020
journal = "J"
doi = "10.1000/xyz"
read = "abstract"

[series]
target = "CD19"
target_class = "b_lineage"
donor = "autologous"
disease = "B-ALL"
age = "adult"
infused = 20

[figures.deaths]
metric = "nrm_deaths"
value = 2
of = 20
says = "two deaths in remission"

[figures.efs]
metric = "lfs"
definition = "EFS"
value = 0.4
day = 365.3
says = "EFS at one year"
'''

BROKEN = {
    "no-identifier": ('doi = "10.1000/xyz"', "", "neither doi nor pmid"),
    "bad-class": ('target_class = "b_lineage"', 'target_class = "myeloid"', "series.target_class"),
    "too-small": ("infused = 20", "infused = 9", "series.infused"),
    "count-above-of": ("value = 2\nof = 20", "value = 21\nof = 20", "figures.deaths.value"),
    "count-not-whole": ("value = 2\nof = 20", "value = 2.5\nof = 20", "figures.deaths.value"),
    "share-above-one": ("value = 0.4", "value = 1.4", "figures.efs.value"),
    "day-not-positive": ("day = 365.3", "day = 0", "figures.efs.day"),
    "lfs-undefined": ('definition = "EFS"\n', "", "figures.efs.definition"),
    "unknown-metric": ('metric = "nrm_deaths"', 'metric = "deaths"', "figures.deaths.metric"),
    "typo-key": ("day = 365.3", "days = 365.3", "figures.efs.days: unknown key"),
    "subgroup-share": ("day = 365.3", 'day = 365.3\nof_kind = "responders"', "figures.efs.of_kind: unknown key"),
    "bad-donor": ('donor = "autologous"', 'donor = "unknown"', "series.donor"),
    "donor-cd7-tall": ('target = "CD19"\ntarget_class = "b_lineage"\ndonor = "autologous"\ndisease = "B-ALL"',
                       'target = "CD7"\ntarget_class = "lineage_depleting"\ndonor = "donor_derived"\n'
                       'disease = "T-ALL"', "kept out of the evidence"),
    "shipped-trial": ('doi = "10.1000/xyz"', 'doi = "10.1038/s41591-024-03282-2"', "shipped trial"),
    "no-late-figure": ('metric = "lfs"\ndefinition = "EFS"', 'metric = "os"', "no non-relapse death"),
    "no-restatement-line": ("# This file restates, in this project's own words,", "# Figures", "first line"),
}


def test_a_good_file_has_no_problems():
    assert problems("doe2020_cd19_ball.toml", GOOD) == []


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_check_can_fail(case):
    old, new, expected = BROKEN[case]
    assert old in GOOD, case
    text = GOOD.replace(old, new, 1)
    if case == "no-late-figure":
        text = text.replace('metric = "nrm_deaths"', 'metric = "complete_remission"', 1)
    found = problems("doe2020_cd19_ball.toml", text)
    assert any(expected in p and p.startswith("doe2020_cd19_ball.toml: ") for p in found), found
