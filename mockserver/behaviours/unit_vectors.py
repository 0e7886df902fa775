"""Unit vectors drawn from a key: what an embedding of a text is made of.

A vector of ``size`` values is ``size // 2`` points on a circle of radius ``r`` (neighbouring values are the
cosine and sine of one angle) and, for an odd size, one last value ``±r``; with ``r = 1 / √(pairs + lone)`` its
length is 1 by construction, so no norm is computed and nothing divided per value. The angles are one digest of
the key (SHAKE-256, two bytes an angle, 65,536 steps a turn), so the same key draws the same angles on every
machine. In hundreds of dimensions two keys' vectors are nearly orthogonal (their cosine spreads as 1/√size), as
Gaussian draws are; each value lies within ±r, spread as the cosine of a uniform angle is.

Every value is a float32 (``f32(r · cos θ)``), so the floats a JSON answer carries and the little-endian float32
bytes of ``encoding_format: base64`` are the same numbers. The scaled circle of a size is a table of 65,536
values, ~6 ms to make: made once a size comes back (kept for a few sizes), worked out value by value for a size
seen once, so a client that asks a new ``dimensions`` on every request makes no table for each. Both ways give
the same floats.
"""

from __future__ import annotations

import hashlib
import math
import struct
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from operator import itemgetter

STEPS = 65536
"""Angles a turn: one per value of the two digest bytes that draw it."""
QUARTER = STEPS // 4
_COSINES = array("d", [math.cos(2 * math.pi * step / STEPS) for step in range(STEPS)])
KEPT_TABLES = 8
"""Vector sizes whose circle table is kept (512 KB each)."""
MAX_SEEN = 1024
"""Sizes remembered as asked for once (forgotten all at once past this, so a client cannot grow it)."""


def unit_vector(key: str, size: int) -> list[float]:
    """The unit vector of ``size`` float32 values that ``key`` draws (see the module's docstring)."""
    pairs, lone = divmod(size, 2)
    drawn = hashlib.shake_256(key.encode("utf-8", "surrogatepass")).digest(2 * pairs + lone)
    angles = struct.unpack_from(f"<{pairs}H", drawn)  # little-endian on every machine
    radius = 1 / math.sqrt(pairs + lone)
    values = _circles.points(size, radius, angles)
    if lone:
        values.append(_float32(radius) if drawn[-1] & 1 else -_float32(radius))
    return values


def _float32(value: float) -> float:
    return array("f", [value])[0]


class _Circles:
    """Per vector size, the points of the circle of its radius as float32 values: from a table for a size asked for
    again, else worked out for the angles at hand.

    A table entry is one point, its two float32 (``r · cos θ``, ``r · sin θ``) read as one 64-bit float: one
    ``itemgetter`` of the angles picks a vector's points at C speed (Python floats, the cheapest objects to make),
    packed back they are the vector's float32 in order. The bits survive the trip, as a double's do unless it is a
    NaN, and these never are: a double's exponent is all ones only when the float32 in its high half has an
    exponent of all ones, which a finite value has not. Packed, a table is 512 KB: 65,536 objects (2–3.5 MB) would
    make the answers after them miss the cache.
    """

    def __init__(self) -> None:
        self._tables: OrderedDict[int, array[float]] = OrderedDict()
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    def points(self, size: int, radius: float, angles: Sequence[int]) -> list[float]:
        """``r · cos θ, r · sin θ`` as float32 for each angle in turn, ``sin θ`` being ``cos(θ - quarter turn)``."""
        table = self._table(size, radius)
        if table is None:
            return _interleaved(
                array("f", [radius * _COSINES[step] for step in angles]),
                array("f", [radius * _COSINES[(step - QUARTER) % STEPS] for step in angles]),
            ).tolist()
        picked = _picked(table, angles)
        return array("f", struct.pack(f"{len(picked)}d", *picked)).tolist()

    def _table(self, size: int, radius: float) -> array[float] | None:
        with self._lock:  # an answer may be made in a worker thread while the event loop makes another
            table = self._tables.get(size)
            if table is not None:
                self._tables.move_to_end(size)
                return table
            if size not in self._seen:
                if len(self._seen) >= MAX_SEEN:
                    self._seen.clear()
                self._seen.add(size)
                return None
        cosines = array("f", map(radius.__mul__, _COSINES))
        sines = cosines[STEPS - QUARTER :] + cosines[: STEPS - QUARTER]
        table = array("d", _interleaved(cosines, sines).tobytes())
        with self._lock:
            self._tables[size] = table
            while len(self._tables) > KEPT_TABLES:
                self._tables.popitem(last=False)
        return table


def _picked(table: array[float], steps: Sequence[int]) -> tuple[float, ...]:
    """The entries of ``table`` at ``steps``, in order, picked in C."""
    if len(steps) < 2:  # an itemgetter of one index answers that entry, not a tuple of it
        return tuple(table[step] for step in steps)
    picked: tuple[float, ...] = itemgetter(*steps)(table)
    return picked


def _interleaved(first: array[float], second: array[float]) -> array[float]:
    both = array("f", bytes(8 * len(first)))
    both[0::2] = first
    both[1::2] = second
    return both


_circles = _Circles()
