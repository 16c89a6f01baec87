"""The CSV text of whole columns at once, as bytes: the text ``repr`` and ``str`` give, cell by cell.

A column becomes :class:`Cells`: one or more matrices of UTF-8 bytes (pieces), a row per cell, with
NUL bytes where a cell has nothing.  A cell's text is its row of the pieces side by side, NULs left
out; a float is up to three pieces (sign, whole digits with the point, fraction digits), so nothing is shifted
row by row.  A table's CSV is its columns' pieces side by side with commas between, the NULs
removed in one :func:`numpy.compress` (:func:`csv_bytes`).  Digits are made eight at a time in a
``uint64`` word whose bytes are their ASCII codes (SWAR: two 4-digit halves, then 2-digit pairs,
then digits, each split by a multiply and shift that equals integer division in its range).

Floats take numpy integer arithmetic instead of a Python call per number:

* ``x = M * 2**(e - 53)`` exactly (:func:`numpy.frexp`), so ``x * 10**d = M * 5**d / 2**k`` is an
  exact integer division, carried out on 27-bit limbs in ``uint64``;
* from that exact value come the nearest integers at 17, 16, ... significant digits, each with its
  exact rounding (up, down, or an exact tie);
* whether a candidate ``m * 10**-d`` reads back as ``x`` is one correctly rounded division when
  ``m <= 2**53`` and ``|d| <= 22`` (the exact fast path of decimal reading), so the test is exact;
  a 16-digit candidate above 2**53 always reads back, being within half a unit of ``x * 10**d``
  while half the spacing of doubles there, scaled, is ``x * 10**d / (2 * M)`` > 1/2;
* the fewest digits that read back give the shortest text, which is what ``repr`` writes (among
  texts of that length, the nearest to ``x``: the rounded one).

A number the arithmetic cannot settle exactly (a tie between two nearest candidates, a magnitude
outside 1e-4..1e15, an infinity) is formatted by ``repr`` itself, once per distinct number.  The tests
compare every path with ``repr`` on random and awkward numbers, every power of two in range among
them (where the interval of numbers reading back is lopsided).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_LOW, _HIGH = 1e-4, 1e15  # repr writes these magnitudes without an exponent; outside them, repr itself
_POW10_FLOAT = np.array([10.0**i for i in range(23)])  # each exact as a double
_POW10 = np.array([10**i for i in range(20)], dtype=np.uint64)
_POW5 = np.array([5**i for i in range(23)], dtype=np.uint64)
_LIMB, _MASK27 = np.uint64(27), np.uint64(2**27 - 1)
_TEN, _EIGHT_DIGITS = np.uint64(10), np.uint64(10**8)
# Numbers are worked a chunk at a time: a chunk's temporaries (64 KiB each) are reused from the
# heap, where a whole batch's would be fresh memory, faulted in page by page at every step.
CHUNK = 8192
# the bytes of a word that a right-aligned text keeps when k of its characters reach into the word
# (little-endian: the high bytes), for k from -24 to 24 at index k + 24: none below 0, all from 8
_KEPT_BYTES = np.array([0 if k <= 0 else (2**64 - 1) ^ (2**(8 * (8 - k)) - 1) if k < 8 else 2**64 - 1
                        for k in range(-24, 25)], dtype=np.uint64)


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
        raise ValueError("a text cell holds a NUL character")
    width = max((len(e) for e in encoded), default=0)
    data = np.frombuffer(b"".join(e.ljust(width, b"\0") for e in encoded), dtype=np.uint8)
    return Cells([data.reshape(len(encoded), width)])


def csv_bytes(columns: list[Cells]) -> bytes:
    """Rows of the columns' cells, separated by commas, each row ended by a line feed."""
    return csv_array(columns).tobytes()


def csv_array(columns: list[Cells]) -> np.ndarray:
    """:func:`csv_bytes` as a 1-D array of bytes (uint8), to write without a copy."""
    n = len(columns[0]) if columns else 0
    widths = [sum(piece.shape[1] for piece in cells.pieces) + 1 for cells in columns]
    out = np.empty((n, sum(widths)), dtype=np.uint8)
    start = 0
    for cells, width in zip(columns, widths):
        for piece in cells.pieces:
            out[:, start:start + piece.shape[1]] = piece
            start += piece.shape[1]
        out[:, start] = ord(",")
        start += 1
    out[:, -1] = ord("\n")
    flat = out.ravel()
    return np.compress(flat != 0, flat)


def merged(n: int, parts: list[tuple[Cells, np.ndarray]]) -> Cells:
    """``n`` cells, empty but for each part's cells in its rows."""
    if len(parts) == 1 and len(parts[0][1]) == n:  # every row: put each cell in its row
        cells, rows = parts[0]
        if np.all(rows[1:] > rows[:-1]):
            return cells
        where = np.empty(n, dtype=np.intp)
        where[rows] = np.arange(n)
        return cells[where]
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
    n = len(values)
    magnitude = np.abs(values)
    fast = np.flatnonzero((magnitude >= _LOW) & (magnitude < _HIGH))
    zero = np.flatnonzero(magnitude == 0)  # 0.0 (or -0.0): one digit each side
    m, decimals, settled = _in_chunks(_shortest, magnitude[fast])
    if len(zero):
        order = np.argsort(np.concatenate([fast, zero]), kind="stable")
        fast = np.concatenate([fast, zero])[order]
        m = np.concatenate([m, np.zeros(len(zero), dtype=np.uint64)])[order]
        decimals = np.concatenate([decimals, np.ones(len(zero), dtype=np.int64)])[order]
        settled = np.concatenate([settled, np.ones(len(zero), dtype=bool)])[order]
    plain = np.zeros(n, dtype=bool)  # written in fixed notation from m and decimals
    plain[fast[settled]] = True
    rest = np.flatnonzero(~plain & ~np.isnan(values))
    if not len(rest) and len(fast) == n:
        return _fixed(m, decimals, np.signbit(values), n, fast)
    all_m, all_decimals = np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.int64)
    all_m[fast], all_decimals[fast] = m, decimals
    texts, inverse = _distinct_reprs(values[rest])
    parsed = [_parsed(t) for t in texts]  # ties and exotic magnitudes: from repr itself
    fixed = np.array([p is not None for p in parsed], dtype=bool)[inverse]  # not 1e-05, inf
    parsed = [p or (0, 0) for p in parsed]
    all_m[rest] = np.array([p[0] for p in parsed], dtype=np.uint64)[inverse]
    all_decimals[rest] = np.array([p[1] for p in parsed], dtype=np.int64)[inverse]
    plain[rest[fixed]] = True
    rows = np.flatnonzero(plain)
    cells = _fixed(all_m[rows], all_decimals[rows], np.signbit(values[rows]), n, rows)
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


def digit_count(values: np.ndarray) -> np.ndarray:
    """How many decimal digits each non-negative integer has (0 has one)."""
    count = np.ones(len(values), dtype=np.int64)
    for power in _POW10[1:]:
        count += values >= power
    return count


def _divmod(values: np.ndarray, divisor) -> tuple[np.ndarray, np.ndarray]:
    quotient = values // divisor  # a scalar divisor takes numpy's fast integer division; divmod does not
    return quotient, values - quotient * divisor


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
    x -= tens * _TEN
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
            rest, eight = _divmod(rest, _EIGHT_DIGITS) if j else (rest, rest)
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


def _fixed(m: np.ndarray, decimals: np.ndarray, negative: np.ndarray, n: int, rows: np.ndarray) -> Cells:
    """``m / 10**decimals`` with its sign, in repr's fixed notation (at least one digit on each side
    of the point: 120 is written 120.0), in ``rows`` of ``n`` cells."""
    scale = _POW10[np.clip(np.abs(decimals), 0, 19)]
    whole = np.where(decimals <= 0, m * scale, m // scale)
    fraction = np.where(decimals <= 0, 0, m - whole * scale)
    cells = Cells(_sign(negative) + [_digit_bytes(whole, digit_count(whole), suffix="."),
                                     _digit_bytes(fraction, np.maximum(decimals, 1))])
    return merged(n, [(cells, rows)])


def _shortest(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For positive doubles in [1e-4, 1e15): the shortest ``m`` and ``decimals`` with
    ``m / 10**decimals`` reading back as ``x``, and whether that was settled exactly.

    The nearest candidates of 17, 16 and 15 significant digits are found for every number; those
    whose 15 digits read back go on dropping a digit at a time.  Once the nearest candidate of some
    length fails, every shorter one fails too (a shorter text that read back would, padded with a
    zero, be a candidate of that length at least as near), so a number leaves the search there.
    """
    fraction, exponent = np.frexp(x)
    mantissa = (fraction * 2.0**53).astype(np.uint64)  # x = mantissa * 2**(exponent - 53), exactly
    top = 16 - np.floor(np.log10(x)).astype(np.int64)  # decimals giving 17 significant digits
    # x * 10**top = head + a fraction: above one half, exactly one half, not zero
    head, up, exact_half, below = _scaled(mantissa, top, 53 - exponent - top)
    in_reach = (head >= _POW10[16]) & (head < _POW10[17])  # 17 digits, as log10 promised (else repr)
    decimals = top
    m17, tie17 = head + up, exact_half
    head, up, exact_half, below = _drop(head, below)
    m16, tie16 = head + up, exact_half
    # 2**53 and below: one exact division says; above, the candidate is within half a unit of the
    # scaled x, less than half its scaled spacing (x * 10**d / (2 * mantissa) > 1/2): it reads back
    checked16 = m16 <= np.uint64(2**53)
    reads16 = ~checked16 | (m16.astype(float) / _POW10_FLOAT[np.clip(top - 1, 0, 22)] == x)
    head, up, exact_half, below = _drop(head, below)
    m15 = head + up
    reads15 = m15.astype(float) / _POW10_FLOAT[np.clip(top - 2, 0, 22)] == x
    fewer = np.flatnonzero(reads15)
    m_few, decimals_few, tie_few = _fewest(x[fewer], head[fewer], up[fewer], exact_half[fewer], below[fewer], decimals[fewer] - 2)
    m = np.where(reads16, m16, m17)
    tie = np.where(reads16, tie16, tie17 | (m17 >= _POW10[17]))
    decimals = np.where(reads16, decimals - 1, decimals)
    m[fewer], decimals[fewer], tie[fewer] = m_few, decimals_few, tie_few
    # At a power of two the reading interval is lopsided, so the nearest candidate could fail where a
    # farther one of the same length reads back; the tests check every power of two in range.
    return m, decimals, ~tie & in_reach


def _drop(head, below):
    """One digit fewer: the new head, whether it rounds up, whether the dropped part is exactly one
    half, and whether anything non-zero lies beyond the new head."""
    head, digit = _divmod(head, _TEN)
    return head, (digit > 5) | ((digit == 5) & below), (digit == 5) & ~below, below | (digit != 0)


def _fewest(x, head, up, exact_half, below, decimals):
    """The shortest reading-back candidates of numbers whose candidate at ``decimals`` (``head``
    rounded by ``up``) reads back: a binary search over the digits dropped from ``head``, as a
    shorter candidate reading back means every longer one does."""
    lo, hi = np.zeros(len(x), dtype=np.int64), digit_count(head) - 1  # keep one digit at least
    while np.any(lo < hi):
        mid = (lo + hi + 1) // 2
        reads = _read_back(_rounded(head, below, mid)[0], decimals - mid) == x
        lo, hi = np.where(reads, mid, lo), np.where(reads, hi, mid - 1)
    m, tie = _rounded(head, below, lo)
    m, tie = np.where(lo == 0, head + up, m), np.where(lo == 0, exact_half, tie)
    return m, decimals - lo, tie


def _rounded(head: np.ndarray, below: np.ndarray, dropped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``head`` with ``dropped`` digits rounded off (``below``: anything non-zero beyond ``head``),
    and whether that was an exact tie."""
    power = _POW10[dropped]
    kept = head // power
    rest = head - kept * power
    half = power // np.uint64(2)
    exact_half = (rest == half) & ~below & (dropped > 0)
    return kept + ((rest > half) | ((rest == half) & below)), exact_half


def _read_back(m: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    """``m * 10**-decimals`` correctly rounded (one IEEE operation on exact operands)."""
    power = _POW10_FLOAT[np.clip(np.abs(decimals), 0, 22)]
    value = m.astype(float)
    return np.where(decimals >= 0, value / power, value * power)


def _scaled(mantissa: np.ndarray, top: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, ...]:
    """``floor(mantissa * 5**top / 2**shift)`` (``0 <= shift < 63``), exactly, and whether the
    fraction left is above one half, exactly one half, and not zero.

    The product (up to 106 bits) is formed on 27-bit limbs and kept doubled as two words, so the
    shift is never 0; worked in place, as the temporaries of a batch do not fit the cache.
    """
    low_f = _POW5[top]  # a fresh array: free to change
    high_f = low_f >> _LIMB
    low_f &= _MASK27
    high_m, low_m = mantissa >> _LIMB, mantissa & _MASK27
    limb0 = low_m * low_f
    carry = limb0 >> _LIMB
    limb0 &= _MASK27
    term = high_m * low_f
    carry += term
    np.multiply(low_m, high_f, out=term)
    carry += term
    limb1 = carry & _MASK27
    carry >>= _LIMB
    np.multiply(high_m, high_f, out=term)
    carry += term
    limb2 = carry & _MASK27
    carry >>= _LIMB  # the top limb
    low = limb1 << _LIMB
    low |= limb0
    np.bitwise_and(limb2, np.uint64(2**10 - 1), out=term)
    term <<= np.uint64(54)
    low |= term
    high = limb2 >> np.uint64(10)
    carry <<= np.uint64(17)
    high |= carry  # the product is high * 2**64 + low
    high <<= np.uint64(1)
    high |= low >> np.uint64(63)
    low <<= np.uint64(1)  # doubled
    doubled_shift = (shift + 1).astype(np.uint64)
    quotient = low >> doubled_shift
    np.left_shift(high, np.uint64(64) - doubled_shift, out=term)
    quotient |= term
    np.left_shift(np.uint64(1), doubled_shift, out=term)
    term -= np.uint64(1)
    remainder = low & term
    np.left_shift(np.uint64(1), doubled_shift - np.uint64(1), out=term)  # one half
    return quotient, remainder > term, remainder == term, remainder != 0
