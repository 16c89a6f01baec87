"""When a params note names a paper, and whether it carries an identifier a reader can follow.

The rule (tested on made-up notes in ``tests/inputs/test_citations.py``):

- a note **names a paper** where it has an author-year citation (a capitalised surname, optional
  initials and "et al.", then a year 1900-2099 that is not the start of a date such as 2021-09:
  "Park JH et al. 2018", "Xu 2021", "Lemoine J et al., Blood Adv 2023") or a journal citation
  (year;volume, as in "2018;378:449");
- the citation **carries an identifier** if a DOI (``10.NNNN/...``) or a PMID (``PMID 12345``) follows
  it within :data:`WINDOW` characters, so each paper's identifier sits beside it.

A figure taken from a paper must be read at its source; the identifier lets a reader do the same.
"""

from __future__ import annotations

import re

WINDOW = 160
AUTHOR_YEAR = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?(?: [A-Z]{1,3})?(?: et al\.?)?,?(?: [A-Z][A-Za-z]*\.?)*"
                         r" \(?((?:19|20)\d{2})\b(?!-\d)")
JOURNAL = re.compile(r"\b(?:19|20)\d{2};\s*\d+")
IDENTIFIER = re.compile(r"\b10\.\d{4,9}/[^\s,;)\"]+|\bPMID:? ?\d{6,9}\b")


def named_papers(note: str) -> list[tuple[int, str]]:
    """Where ``note`` names a paper: (position, text) of each author-year or journal citation."""
    found = {m.start(): m.group(0) for m in AUTHOR_YEAR.finditer(note)}
    for m in JOURNAL.finditer(note):
        if not any(start <= m.start() <= start + len(text) for start, text in found.items()):
            found[m.start()] = m.group(0)
    return sorted(found.items())


def uncited(note: str) -> list[str]:
    """The papers ``note`` names without a DOI or PMID within :data:`WINDOW` characters after them."""
    return [text for start, text in named_papers(note)
            if not IDENTIFIER.search(note[start:start + len(text) + WINDOW])]
