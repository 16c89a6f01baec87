"""report.html: one self-contained page whose first screen holds the key outcomes, checked in headless Chromium.

Chromium lays the page out in a 1280 x 800 window.  A small script added to a copy of the page writes the
key-outcome table's bounding box into the DOM, which ``--dump-dom`` prints; the table must lie inside the
window.  A screenshot of the page itself must not be blank.  Without Chromium the browser tests skip,
unless CARTSIM_REQUIRE_CHROMIUM is set (``.ci/run`` sets it, after installing Chromium).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.runs.runner import run_to_folder
from sim.output.report_html import TABLE_ID

WINDOW = (1280, 800)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")
LAYOUT_SCRIPT = """<script>
window.addEventListener("load", () => {
  const box = document.getElementById("%s").getBoundingClientRect();
  const out = document.createElement("pre");
  out.id = "layout";
  const picture = document.querySelector("#answer figure img").getBoundingClientRect();
  out.textContent = JSON.stringify({top: box.top, bottom: box.bottom, left: box.left, right: box.right,
    picture_top: picture.top, width: window.innerWidth, height: window.innerHeight, scroll_width: document.documentElement.scrollWidth});
  document.body.appendChild(out);
});
</script>""" % TABLE_ID


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "run"
    run_to_folder(sim.load_params("cll1_aml"), out, trials=40, seed=2, plots=True)
    return out / "report.html"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CARTSIM_REQUIRE_CHROMIUM"):
            pytest.fail("CARTSIM_REQUIRE_CHROMIUM is set but chromium is not installed")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    return found


def browse(page: Path, tmp_path: Path, *action: str) -> str:
    """Run headless Chromium on ``page`` with a fresh profile; returns what it prints."""
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}", *action,
               page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_page_is_self_contained(report):
    text = report.read_text(encoding="utf-8")
    sources = re.findall(r'\bsrc="([^"]*)"', text)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<link" not in text and "<script" not in text
    assert text.index(f'id="{TABLE_ID}"') < text.index("STRESS-DES")  # the answer before the checklist


def test_the_table_says_what_its_intervals_are(report):
    text = report.read_text(encoding="utf-8")
    answer = text[:text.index("</section>")]
    assert "one trial&#x27;s chance at the base parameter values" in answer or "one trial's chance" in answer
    assert "What they rest on." in answer
    assert "dose group A" in answer and "(k/N)" in answer


@pytest.mark.slow
def test_key_outcomes_fill_the_first_screen(report, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", LAYOUT_SCRIPT + "</body>"), encoding="utf-8")
    dom = browse(probe, tmp_path, "--dump-dom")
    layout = json.loads(re.search(r'<pre id="layout">(.*?)</pre>', dom).group(1).replace("&quot;", '"'))
    assert layout["width"] == WINDOW[0] and layout["height"] >= 600, layout  # a laptop's first screen, or less
    assert 0 <= layout["top"] and layout["bottom"] <= layout["height"], layout  # all of it above the fold
    assert 0 <= layout["left"] and layout["right"] <= layout["width"], layout
    assert layout["scroll_width"] <= layout["width"], layout  # nothing pushes the page sideways
    assert layout["picture_top"] < layout["height"], layout  # the key pictures begin on the first screen


@pytest.mark.slow
def test_the_screenshot_is_not_blank(report, tmp_path):
    from matplotlib.image import imread

    shot = tmp_path / "shot.png"
    browse(report, tmp_path, f"--screenshot={shot}")
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    ink = np.mean(pixels.mean(axis=2) < 0.5)  # dark pixels: text, lines, table rules (none on a blank page)
    assert ink > 0.01, ink
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # anti-aliased text and pictures, not a flat fill
