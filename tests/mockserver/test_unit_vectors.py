"""Unit vectors drawn from a key (mockserver/behaviours/unit_vectors.py): unit length, float32 values, the same
floats whether a size's table is made yet or not."""

from __future__ import annotations

import math
import struct
from array import array

from hypothesis import given
from hypothesis import strategies as st

from apitwin.mockserver.behaviours.unit_vectors import MAX_SEEN, QUARTER, STEPS, _Circles, unit_vector


@given(key=st.text(), size=st.integers(1, 3000))
def test_unit_length_float32_values_of_the_size_asked(key: str, size: int) -> None:
    values = unit_vector(key, size)
    assert len(values) == size
    assert math.isclose(math.hypot(*values), 1.0, rel_tol=1e-6)
    assert list(struct.unpack(f"<{size}f", struct.pack(f"<{size}f", *values))) == values


@given(size=st.integers(1, 3000), angles=st.lists(st.integers(0, STEPS - 1), max_size=64))
def test_a_table_gives_the_floats_worked_out_one_by_one(size: int, angles: list[int]) -> None:
    """The first time a size is asked for its values are worked out per angle; from the second, looked up in its
    table: both the same floats, so an answer does not depend on what was asked before it."""
    circles, radius, drawn = _Circles(), 1 / math.sqrt(size), array("H", angles)
    worked_out = circles.points(size, radius, drawn)
    assert not circles._tables
    assert circles.points(size, radius, drawn) == worked_out
    assert list(circles._tables) == [size]


def test_the_same_key_the_same_vector_another_key_nearly_orthogonal() -> None:
    one, again, other = unit_vector("one", 1536), unit_vector("one", 1536), unit_vector("two", 1536)
    assert one == again
    cosine = sum(a * b for a, b in zip(one, other, strict=True))
    assert abs(cosine) < 0.15  # spread 1/√1536 ≈ 0.026: six sigma


def test_pinned_values() -> None:
    """The draw is SHAKE-256 of the key, read little-endian; pinned, so that changing every embedding is a decision."""
    assert unit_vector("hello", 4) == [
        0.20409423112869263,
        0.6770122051239014,
        -0.42160409688949585,
        0.5676707029342651,
    ]
    assert unit_vector("x", 3) == [-0.2988908588886261, 0.640830934047699, -0.7071067690849304]
    assert unit_vector("x", 1) == [-1.0]


def test_one_client_changing_sizes_makes_no_table_and_cannot_grow_the_memory() -> None:
    circles = _Circles()
    for size in range(1, 3 * MAX_SEEN):
        points = circles.points(size, 0.5, array("H", [0, QUARTER]))
        assert [round(value, 9) for value in points] == [0.5, 0.0, 0.0, 0.5]  # (cos, sin) of each angle
    assert not circles._tables
    assert len(circles._seen) <= MAX_SEEN


def test_every_table_entry_comes_back_from_a_python_float_bit_for_bit() -> None:
    """A table entry (two float32 read as one double) is picked as a Python float and packed back: no entry may be a
    NaN, whose bits a platform may change on the way."""
    circles = _Circles()
    for size in (1, 2, 3, 1024, 1536):
        radius = 1 / math.sqrt((size + 1) // 2)
        assert circles._table(size, radius) is None  # the first time a size is asked for: no table yet
        table = circles._table(size, radius)
        assert table is not None
        assert not any(math.isnan(entry) for entry in table)
        assert array("d", table.tolist()).tobytes() == table.tobytes()
