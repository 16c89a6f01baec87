"""The run report as one self-contained HTML page, for a meeting: the answer first, then the rest.

The first screen holds the key outcomes with their intervals (said to be what they are), what they
rest on, and the two key pictures (patient flow and survival).  Below it follows the same text as
``report.md`` (:mod:`sim.output.report`), converted by Python-Markdown.  Every picture is embedded
as a base64 PNG, so the page can be mailed or archived as one file.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import markdown

from sim.output.key_outcome_view import header, interval_note, outcome_rows
from sim.output.report import FIGURE_CAPTIONS, report_parts, rests_on
from sim.output.run_folder import RunData

KEY_PICTURES = ("flow", "survival")
TABLE_ID = "key-outcomes"
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px; line-height: 1.4;
       color: #1a1a1a; margin: 0 auto; max-width: 1220px; padding: 12px 20px 40px; }
h1 { font-size: 22px; margin: 4px 0 6px; }
h2 { font-size: 18px; margin: 22px 0 8px; border-bottom: 1px solid #ccc; }
.question p { margin: 0 0 6px; }
table { border-collapse: collapse; margin: 6px 0; font-size: 13px; }
th, td { border: 1px solid #d0d0d0; padding: 2px 8px; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
#key-outcomes td { white-space: nowrap; padding: 1px 8px; }
#key-outcomes td:first-child { white-space: normal; min-width: 14em; }
#key-outcomes td:not(:first-child) { font-variant-numeric: tabular-nums; }
.note { font-size: 12px; color: #444; margin: 4px 0; }
.pictures { display: flex; gap: 12px; margin-top: 8px; }
.pictures figure { margin: 0; flex: 1; }
.pictures img { width: 100%; height: auto; border: 1px solid #e0e0e0; }
figcaption { font-size: 12px; color: #444; }
img { max-width: 100%; }
main { overflow-wrap: anywhere; }
main table { display: block; max-width: 100%; overflow-x: auto; }
"""


def render_html(run: RunData, parts: list[str] | None = None) -> str:
    """The whole report of one run as a self-contained HTML page (from its :func:`report_parts`, if already
    rendered)."""
    parts = parts or report_parts(run)
    rest = markdown.markdown("\n\n".join(parts[2:]), extensions=["tables"], output_format="html")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>Run report: {html.escape(run.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"{first_screen(run, parts[0])}\n<main>\n{embed_images(rest, run.folder)}\n</main>\n</body>\n</html>\n")


def first_screen(run: RunData, header_markdown: str) -> str:
    """The title and question, the key outcomes table with what its intervals are, what they rest on, and
    the key pictures."""
    title, question, run_line = (header_markdown.split("\n\n", 2) + ["", ""])[:3]
    records = run.summary.get("key_outcomes") or []
    table = _table(records) if records else "<p>This folder's summary holds no key outcomes: run it again.</p>"
    rests = markdown.markdown(f"**What they rest on.** {rests_on(run)}")
    note = html.escape(interval_note(records)) if records else ""
    return (f"<header>\n<h1>{html.escape(title.lstrip('# '))}: key outcomes</h1>\n"
            f"<div class=\"question\">{markdown.markdown(question)}</div>\n</header>\n"
            f"<section id=\"answer\">\n<p class=\"note\">{note}</p>\n{table}\n"
            f"<div class=\"note\">{rests}</div>\n{_pictures(run)}\n</section>\n"
            f"<div class=\"note\">{markdown.markdown(run_line)}</div>")


def _table(records: list[dict]) -> str:
    head = "".join(f"<th>{html.escape(t)}</th>" for t in header(records))
    body = "".join("<tr><td>" + html.escape(f"{r.label} ({r.unit})") + "</td>"
                   + "".join(f"<td>{html.escape(c)}</td>" for c in r.cells) + "</tr>\n" for r in outcome_rows(records))
    return f"<table id=\"{TABLE_ID}\">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _pictures(run: RunData) -> str:
    shown = []
    for name in KEY_PICTURES:
        path = run.folder / "figures" / f"{name}.png"
        if path.is_file():
            caption = html.escape(FIGURE_CAPTIONS[name])
            shown.append(f"<figure><img src=\"{data_uri(path)}\" alt=\"{caption}\">"
                         f"<figcaption>{caption}</figcaption></figure>")
    if not shown:
        return "<p class=\"note\">No pictures were drawn for this run (`cartsim run --plots`, or `cartsim plot` " \
               "with this folder, draws them).</p>"
    return "<div class=\"pictures\">" + "".join(shown) + "</div>"


def data_uri(path: Path) -> str:
    """A PNG file as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def embed_images(text: str, folder: Path) -> str:
    """Every ``<img src="relative.png">`` of ``text`` with the picture itself in place of its path."""
    def embed(match: re.Match) -> str:
        path = Path(folder) / html.unescape(match.group(2))
        return f"{match.group(1)}{data_uri(path)}\"" if path.is_file() and path.suffix == ".png" else match.group(0)
    return re.sub(r'(<img[^>]*?src=")([^":]+)"', embed, text)
