"""``cartsim evidence`` as a command: bad places are refused before the fit, and a failure after it leaves
the earlier output folder as it was."""

from __future__ import annotations

import pytest

from sim.cli.main import main

pytest.importorskip("nutpie")

SMALL = ["--draws", "20", "--tune", "20", "--chains", "2", "--trials", "10"]


def _no_fit(*args, **kwargs):
    raise AssertionError("the fit ran although its output could not be written")


@pytest.mark.parametrize("option", ["--out", "--keep-sample"])
def test_a_place_that_cannot_be_written_is_refused_before_the_fit(tmp_path, capsys, monkeypatch, option):
    monkeypatch.setattr("sim.analyses.synthesis.fit.fit_synthesis", _no_fit)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    place = {"--out": blocker / "out", "--keep-sample": tmp_path}[option]  # under a file; a folder for a file
    others = ["--out", str(tmp_path / "out")] if option == "--keep-sample" else []
    assert main(["evidence", option, str(place), *others, *SMALL]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and option in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


@pytest.mark.slow  # a small fit and two reports from its draws: about 10 s on one free core
def test_a_failure_after_the_fit_keeps_the_draws_and_leaves_the_earlier_folder(tmp_path, monkeypatch):
    out, sample = tmp_path / "evidence", tmp_path / "sample.npz"

    def broken_plot(*args, **kwargs):
        raise RuntimeError("the plot failed")

    with monkeypatch.context() as patch:
        patch.setattr("sim.plots.evidence_forest.draw_evidence", broken_plot)
        with pytest.raises(RuntimeError, match="the plot failed"):
            main(["evidence", "--out", str(out), "--keep-sample", str(sample), *SMALL])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.npz"]  # the draws kept, no folder, no stage

    assert main(["evidence", "--out", str(out), "--from-sample", str(sample), *SMALL]) in (0, 1)  # 1: not converged
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {"evidence.csv", "evidence.png", "predictive.csv", "predictive.json"} <= set(before)
    monkeypatch.setattr("sim.plots.evidence_forest.draw_evidence", broken_plot)
    with pytest.raises(RuntimeError, match="the plot failed"):
        main(["evidence", "--out", str(out), "--from-sample", str(sample), "--seed", "7", *SMALL])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing half-replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence", "sample.npz"]  # no stage left behind
