"""The CSV text of whole columns at once, as bytes: the text ``repr`` and ``str`` give, cell by cell.

A column becomes :class:`Cells`: one or more matrices of UTF-8 bytes (pieces), a row per cell, with
NUL bytes where a cell has nothing.  A cell's text is its row of the pieces side by side, NULs left
out; a float is up to three pieces (sign, whole digits with the point, fraction digits), so nothing
is shifted row by row.  A table's CSV is its columns' pieces side by side with commas between, the
NULs removed in one :func:`numpy.compress` (:func:`csv_array`).

Digits are made eight at a time in a ``uint64`` word whose bytes are their ASCII codes (SWAR: two
4-digit halves, then 2-digit pairs, then digits, each split by a multiply and shift that equals
integer division in its range).  A float's digits are the shortest that read back
(:mod:`sim.output.shortest_digits`); the few numbers that arithmetic leaves unsettled (ties, and
magnitudes written with an exponent) are written by ``repr`` itself, once per distinct number.
The tests compare every path with ``repr`` and ``str``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.output.shortest_digits import HIGH, LOW, POW10, digit_count, quotient_remainder, shortest_digits

_EIGHT_DIGITS = np.uint64(10**8)
# Numbers are worked a chunk at a time: a chunk's temporaries (64 KiB each) are reused from the
# heap, where a whole batch's would be fresh memory, faulted in page by page at every step.
CHUNK = 8192
# the bytes of a word that a right-aligned text keeps when k of its characters reach into the word
# (little-endian: the high bytes), for k from -24 to 24 at index k + 24: none below 0, all from 8
_KEPT_BYTES = np.array([0 if k <= 0 else (2**64 - 1) ^ (2**(8 * (8 - k)) - 1) if k < 8 else 2**64 - 1
                        for k in range(-24, 25)], dtype=np.uint64)


class NulInText(ValueError):
    """A text holds a NUL character, which cells cannot carry (they use it for no byte)."""


@dataclass
class Cells:
    """The text of a column's cells: row ``i`` of every piece in turn, NUL bytes left out (UTF-8)."""

    pieces: list[np.ndarray]  # each uint8, (n, width)

    def __getitem__(self, rows) -> "Cells":
        return Cells([piece[rows] for piece in self.pieces])

    def __len__(self) -> int:
        return len(self.pieces[0])

    def with_empty_row(self) -> "Cells":
        """The same cells and one empty cell after them."""
        return Cells([np.concatenate([piece, np.zeros((1, piece.shape[1]), dtype=np.uint8)]) for piece in self.pieces])

    def texts(self) -> list[str]:
        """The cells as Python strings."""
        joined = np.concatenate(self.pieces, axis=1) if self.pieces else np.zeros((0, 0), np.uint8)
        return [row.tobytes().replace(b"\0", b"").decode("utf-8") for row in joined]


def constant_cells(n: int, text: str) -> Cells:
    """``n`` cells that all read ``text``."""
    return Cells([np.broadcast_to(np.frombuffer(text.encode("utf-8"), dtype=np.uint8), (n, len(text.encode())))])


def text_cells(texts: list[str]) -> Cells:
    """Cells of already formatted strings (none may hold a NUL character)."""
    encoded = [t.encode("utf-8") for t in texts]
    if any(b"\0" in e for e in encoded):
        raise NulInText("a text cell holds a NUL character, which these cells use for nothing")
    width = max((len(e) for e in encoded), default=0)
    data = np.frombuffer(b"".join(e.ljust(width, b"\0") for e in encoded), dtype=np.uint8)
    return Cells([data.reshape(len(encoded), width)])


def csv_bytes(columns: list[Cells]) -> bytes:
    """Rows of the columns' cells, separated by commas, each row ended by a line feed."""
    return csv_array(columns).tobytes()


def csv_array(columns: list[Cells]) -> np.ndarray:
    """:func:`csv_bytes` as a 1-D array of bytes (uint8), to write without a copy."""
    n = len(columns[0]) if columns else 0
    width = sum(piece.shape[1] for cells in columns for piece in cells.pieces) + len(columns)
    out = np.full((n, width), ord(","), dtype=np.uint8)  # the column after each cell stays a comma
    start = 0
    for cells in columns:
        for piece in cells.pieces:
            out[:, start:start + piece.shape[1]] = piece
            start += piece.shape[1]
        start += 1
    out[:, -1] = ord("\n")
    flat = out.ravel()
    return np.compress(flat != 0, flat)


def merged(n: int, parts: list[tuple[Cells, np.ndarray]]) -> Cells:
    """``n`` cells, empty but for each part's cells in its rows (ascending row numbers)."""
    if len(parts) == 1 and len(parts[0][1]) == n:  # every row, in order
        return parts[0][0]
    pieces = []
    for cells, rows in parts:
        for piece in cells.pieces:
            spread = np.zeros((n, piece.shape[1]), dtype=np.uint8)
            spread[rows] = piece
            pieces.append(spread)
    return Cells(pieces)


def integer_cells(values: np.ndarray) -> Cells:
    """``str(int(v))`` of each integer."""
    values = np.asarray(values, dtype=np.int64)
    magnitude = np.abs(values).view(np.uint64)  # -2**63 keeps its bits, which read as 2**63
    return Cells(_sign(values < 0) + [_digit_bytes(magnitude, digit_count(magnitude))])


def float_cells(values: np.ndarray) -> Cells:
    """``repr(float(v))`` of each number, and an empty cell for NaN."""
    values = np.asarray(values, dtype=float)
    n, magnitude = len(values), np.abs(values)
    m, decimals = np.zeros(n, dtype=np.uint64), np.ones(n, dtype=np.int64)  # 0.0 (or -0.0) as it stands
    plain = magnitude == 0  # written in fixed notation from m and decimals
    fast = np.flatnonzero((magnitude >= LOW) & (magnitude < HIGH))
    m[fast], decimals[fast], plain[fast] = _in_chunks(shortest_digits, magnitude[fast])
    rest = np.flatnonzero(~plain & ~np.isnan(values))  # ties and exotic magnitudes: from repr itself
    texts, inverse = _distinct_reprs(values[rest])
    parsed = [_parsed(t) for t in texts]  # None for 1e-05, inf: written as repr writes them
    m[rest] = np.array([p[0] if p else 0 for p in parsed], dtype=np.uint64)[inverse]
    decimals[rest] = np.array([p[1] if p else 0 for p in parsed], dtype=np.int64)[inverse]
    fixed = np.array([p is not None for p in parsed], dtype=bool)[inverse]
    plain[rest] = fixed
    rows = np.flatnonzero(plain)
    cells = merged(n, [(_fixed(m[rows], decimals[rows], np.signbit(values[rows])), rows)])
    if fixed.all():
        return cells
    other = text_cells(texts)[inverse[~fixed]]
    return Cells(cells.pieces + merged(n, [(other, rest[~fixed])]).pieces)


def _distinct_reprs(values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """``repr`` of each distinct number, and which each value is."""
    _, first, inverse = np.unique(values.view(np.int64), return_index=True, return_inverse=True)
    return [repr(v) for v in values[first].tolist()], inverse.ravel()


def _parsed(text: str) -> tuple[int, int] | None:
    """The digits (as one integer) and the number of decimals of a fixed-notation repr, or None."""
    if "e" in text or "n" in text:  # 1e-05, inf
        return None
    digits = text.lstrip("-")
    return int(digits.replace(".", "")), len(digits) - digits.index(".") - 1


def _ascii8(values: np.ndarray) -> np.ndarray:
    """Words whose bytes (little-endian) are the 8 zero-padded ASCII digits of each value below 10**8.

    Worked in place: the temporaries of a batch do not fit the cache, so each one saved counts.
    """
    high = values // np.uint64(10_000)
    x = values - high * np.uint64(10_000)
    x <<= np.uint64(32)
    x |= high  # two 4-digit numbers, one per 32-bit lane, the first digits in the low lane
    hundreds = x * np.uint64(10486)  # lane * 10486 >> 20 is lane // 100 below 43,699
    hundreds >>= np.uint64(20)
    hundreds &= np.uint64(0x0000007F0000007F)
    x -= hundreds * np.uint64(100)
    x <<= np.uint64(16)
    x |= hundreds  # 2-digit numbers in 16-bit lanes
    tens = x * np.uint64(103)  # lane * 103 >> 10 is lane // 10 below 100
    tens >>= np.uint64(10)
    tens &= np.uint64(0x000F000F000F000F)
    x -= tens * np.uint64(10)
    x <<= np.uint64(8)
    x |= tens  # one digit per byte
    x += np.uint64(0x3030303030303030)
    return x


def _digit_bytes(values: np.ndarray, shown: np.ndarray, suffix: str = "") -> np.ndarray:
    """The last ``shown`` decimal digits of each value (zero-padded), right-aligned with NUL before,
    then ``suffix`` (one ASCII character or none)."""
    width = int(shown.max(initial=1))
    words = -(-width // 8)
    out = np.empty((len(values), words + bool(suffix)), dtype=np.uint64)
    for start in range(0, len(values), CHUNK):
        chunk = slice(start, start + CHUNK)
        rest = np.asarray(values[chunk], dtype=np.uint64)
        for j in range(words - 1, -1, -1):
            rest, eight = quotient_remainder(rest, _EIGHT_DIGITS) if j else (rest, rest)
            out[chunk, j] = _ascii8(eight) & _KEPT_BYTES[shown[chunk] + (24 - 8 * (words - 1 - j))]
    if suffix:
        out[:, words] = ord(suffix)  # its first byte, little-endian
    return out.astype("<u8", copy=False).view(np.uint8)[:, 8 * words - width:8 * words + len(suffix)]


def _in_chunks(work, values: np.ndarray) -> tuple[np.ndarray, ...]:
    """``work(values)`` (a tuple of arrays, one entry per value) done a chunk of values at a time."""
    if len(values) <= CHUNK:
        return work(values)
    parts = [work(values[start:start + CHUNK]) for start in range(0, len(values), CHUNK)]
    return tuple(np.concatenate(part) for part in zip(*parts))


def _sign(negative: np.ndarray) -> list[np.ndarray]:
    """A piece with the minus signs, or none when no value is negative."""
    if not negative.any():
        return []
    return [np.where(negative, np.uint8(ord("-")), np.uint8(0))[:, None]]


def _fixed(m: np.ndarray, decimals: np.ndarray, negative: np.ndarray) -> Cells:
    """``m / 10**decimals`` with its sign, in repr's fixed notation (at least one digit on each side
    of the point: 120 is written 120.0)."""
    scale = POW10[np.clip(np.abs(decimals), 0, 19)]
    whole = np.where(decimals <= 0, m * scale, m // scale)
    fraction = np.where(decimals <= 0, 0, m - whole * scale)
    return Cells(_sign(negative) + [_digit_bytes(whole, digit_count(whole), suffix="."),
                                    _digit_bytes(fraction, np.maximum(decimals, 1))])
