"""docs/quickstart-examples.md: its Python block runs as written from a folder outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parents[2]


def test_the_python_block_runs_outside_the_repository(tmp_path, monkeypatch, capsys):
    text = (ROOT / "docs" / "quickstart-examples.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "quickstart-examples.md", "exec"), {})
    printed = capsys.readouterr().out
    assert sim.__version__ in printed and "'crs_g3_rate'" in printed and "'dose_group': 'A'" in printed
