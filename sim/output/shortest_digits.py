"""The shortest decimal text of doubles, a whole array at a time, in exact integer arithmetic.

For positive doubles from 1e-4 to 1e15 (the magnitudes ``repr`` writes without an exponent) it finds
the digits ``m`` and the number of decimals ``d`` of the shortest text that reads back as the same
double, which is what ``repr`` writes:

* ``x = M * 2**(e - 53)`` exactly (:func:`numpy.frexp`), so ``x * 10**d = M * 5**d / 2**k`` is an
  exact integer division, carried out on 27-bit limbs in ``uint64``;
* from that exact value come the nearest integers at 17, 16, ... significant digits, each with its
  exact rounding (up, down, or an exact tie);
* whether a candidate ``m * 10**-d`` reads back as ``x`` is one correctly rounded division when
  ``m <= 2**53`` and ``|d| <= 22`` (the exact fast path of decimal reading), so the test is exact;
  a 16-digit candidate above 2**53 always reads back, being within half a unit of ``x * 10**d``
  while half the spacing of doubles there, scaled, is ``x * 10**d / (2 * M)`` > 1/2;
* the fewest digits that read back give the shortest text; among texts of that length ``repr``
  takes the nearest to ``x``, which is the rounded one.

A number this cannot settle (a tie between two nearest candidates; a misjudged magnitude) is
reported unsettled, for ``repr`` to write.  At a power of two the interval of numbers reading back
is lopsided, so the nearest candidate could fail where a farther one of the same length reads
back; the tests check every power of two in range.
"""

from __future__ import annotations

import numpy as np

LOW, HIGH = 1e-4, 1e15  # repr writes these magnitudes without an exponent
POW10 = np.array([10**i for i in range(20)], dtype=np.uint64)
_POW10_FLOAT = np.array([10.0**i for i in range(23)])  # each exact as a double
_POW5 = np.array([5**i for i in range(23)], dtype=np.uint64)
_LIMB, _MASK27 = np.uint64(27), np.uint64(2**27 - 1)
_TEN = np.uint64(10)


def digit_count(values: np.ndarray) -> np.ndarray:
    """How many decimal digits each non-negative integer has (0 has one)."""
    count = np.ones(len(values), dtype=np.int64)
    for power in POW10[1:]:
        count += values >= power
    return count


def quotient_remainder(values: np.ndarray, divisor) -> tuple[np.ndarray, np.ndarray]:
    """``values // divisor`` and ``values % divisor``."""
    quotient = values // divisor  # a scalar divisor takes numpy's fast integer division; divmod does not
    return quotient, values - quotient * divisor


def shortest_digits(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For positive doubles in [1e-4, 1e15): the shortest ``m`` and ``decimals`` with
    ``m / 10**decimals`` reading back as ``x``, and whether that was settled exactly.

    The nearest candidates of 17, 16 and 15 significant digits are found for every number; for
    those whose 15 digits read back, a binary search finds the fewest digits that still do.  That
    is sound because once the nearest candidate of some length fails, every shorter one fails too
    (a shorter text that read back would, padded with a zero, be a candidate of that length at
    least as near).
    """
    fraction, exponent = np.frexp(x)
    mantissa = (fraction * 2.0**53).astype(np.uint64)  # x = mantissa * 2**(exponent - 53), exactly
    top = 16 - np.floor(np.log10(x)).astype(np.int64)  # decimals giving 17 significant digits
    # x * 10**top = head + a fraction: above one half, exactly one half, not zero
    head, up, exact_half, below = _scaled(mantissa, top, 53 - exponent - top)
    in_reach = (head >= POW10[16]) & (head < POW10[17])  # 17 digits, as log10 promised (else repr)
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
    m_few, decimals_few, tie_few = _fewest(x[fewer], head[fewer], up[fewer], exact_half[fewer], below[fewer], top[fewer] - 2)
    m = np.where(reads16, m16, m17)
    tie = np.where(reads16, tie16, tie17 | (m17 >= POW10[17]))
    decimals = np.where(reads16, top - 1, top)
    m[fewer], decimals[fewer], tie[fewer] = m_few, decimals_few, tie_few
    return m, decimals, ~tie & in_reach


def _drop(head, below):
    """One digit fewer: the new head, whether it rounds up, whether the dropped part is exactly one
    half, and whether anything non-zero lies beyond the new head."""
    head, digit = quotient_remainder(head, _TEN)
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
    power = POW10[dropped]
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
