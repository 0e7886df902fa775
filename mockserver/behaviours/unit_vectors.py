"""Unit vectors drawn from a key: what an embedding of a text is made of.

A vector of ``size`` values is ``size // 2`` points on a circle of radius ``r`` (neighbouring values are the
cosine and sine of one angle) and, for an odd size, one last value ``±r``; with ``r = 1 / √(pairs + lone)`` its
length is 1 by construction, so no norm is computed and nothing divided per value. The angles are one digest of
the key (SHAKE-256, two bytes an angle, 65,536 steps a turn), so the same key draws the same angles on every
machine. In hundreds of dimensions two keys' vectors are nearly orthogonal (their cosine spreads as 1/√size), as
Gaussian draws are; each value lies within ±r, spread as the cosine of a uniform angle is.

Every value is a float32 (``f32(r · cos θ)``), given as the double its shortest decimal spelling reads as: a JSON
answer then carries ``0.044194173`` (as OpenAI's documented embeddings look: the fewest digits, 6 to 9, that read
back as the float32), not the float32's exact ``0.04419417306780815``, and is about 40 % shorter. A client reading
either into a float32 gets the same number, and ``encoding_format: base64`` packs each value back to its float32
bytes. The spelled circle of a size is a table of 65,536 points, ~40 ms to make (most of it spelling each value
once): made once a size comes back (kept for a few sizes), worked out value by value for a size seen once, so a
client that asks a new ``dimensions`` on every request makes no table for each. Both ways give the same values.
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
"""Vector sizes whose circle table is kept (1 MB each)."""
MAX_SEEN = 1024
"""Sizes remembered as asked for once (forgotten all at once past this, so a client cannot grow it)."""


def unit_vector(key: str, size: int) -> list[float]:
    """The unit vector of ``size`` float32 values that ``key`` draws, each as its shortest spelling reads (see the
    module's docstring)."""
    pairs, lone = divmod(size, 2)
    drawn = hashlib.shake_256(key.encode("utf-8", "surrogatepass")).digest(2 * pairs + lone)
    angles = struct.unpack_from(f"<{pairs}H", drawn)  # little-endian on every machine
    radius = 1 / math.sqrt(pairs + lone)
    values = _circles.points(size, radius, angles)
    if lone:
        values += spelled(array("f", [radius if drawn[-1] & 1 else -radius]))
    return values


def spelled(values: Sequence[float]) -> list[float]:
    """Each float32 of ``values`` as the double its shortest decimal spelling reads as: the nearest decimal of the
    fewest significant digits, from 6 (fewer are rare, and ``%g`` drops trailing zeros) to 9 (always enough), that
    reads back as the same float32. orjson writes such a double as that spelling. A subnormal float32 (below
    1.2e-38, which no unit vector holds: the smallest nonzero cosine of a table's angles is near 1e-16) carries
    fewer digits than a normal one, so six may be more than its fewest; it still reads back as itself."""
    spellings = [f"{value:.6g}" for value in values]
    for digits in (7, 8, 9):
        back = array("f", map(float, spellings))
        wrong = [index for index, (read, value) in enumerate(zip(back, values, strict=True)) if read != value]
        if not wrong:
            break
        form = f".{digits}g"
        for index in wrong:
            spellings[index] = format(values[index], form)
    return list(map(float, spellings))


class _Circles:
    """Per vector size, the points of the circle of its radius as spelled float32 values: from a table for a size
    asked for again, else worked out for the angles at hand.

    A table is two arrays of doubles, the cosines and the sines of every angle (1 MB): one ``itemgetter`` of the
    angles picks a vector's cosines and one its sines at C speed, and two slice assignments interleave them. Arrays,
    not lists: 65,536 float objects (2–3.5 MB) a size would make the answers after them miss the cache.
    """

    def __init__(self) -> None:
        self._tables: OrderedDict[int, tuple[array[float], array[float]]] = OrderedDict()
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    def points(self, size: int, radius: float, angles: Sequence[int]) -> list[float]:
        """``r · cos θ, r · sin θ`` as spelled float32 for each angle in turn, ``sin θ`` being
        ``cos(θ - quarter turn)``."""
        table = self._table(size, radius)
        if table is None:
            return spelled(
                _interleaved(
                    array("f", [radius * _COSINES[step] for step in angles]),
                    array("f", [radius * _COSINES[(step - QUARTER) % STEPS] for step in angles]),
                )
            )
        cosines, sines = table
        values = [0.0] * (2 * len(angles))
        values[0::2] = _picked(cosines, angles)
        values[1::2] = _picked(sines, angles)
        return values

    def _table(self, size: int, radius: float) -> tuple[array[float], array[float]] | None:
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
        exact = array("f", map(radius.__mul__, _COSINES))
        distinct = sorted(set(exact))  # the sines are the same values, a quarter turn on: each is spelled once
        spelling = dict(zip(distinct, spelled(distinct), strict=True))
        cosines = array("d", map(spelling.__getitem__, exact))
        sines = cosines[STEPS - QUARTER :] + cosines[: STEPS - QUARTER]
        table = cosines, sines
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
