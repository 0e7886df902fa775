"""Unit vectors drawn from a key (mockserver/behaviours/unit_vectors.py): unit length, float32 values in their
shortest spelling, the same values whether a size's table is made yet or not."""

from __future__ import annotations

import math
import struct
from array import array

from hypothesis import given
from hypothesis import strategies as st

from apitwin.mockserver.behaviours.unit_vectors import MAX_SEEN, QUARTER, STEPS, _Circles, spelled, unit_vector


def float32(values: list[float]) -> list[float]:
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def fewest_digits(value: float) -> int:
    """The fewest significant digits whose nearest decimal reads back as the float32 ``value``: by trying each."""
    return next(digits for digits in range(1, 10) if float32([float(format(value, f".{digits}g"))]) == [value])


@given(key=st.text(), size=st.integers(1, 3000))
def test_unit_length_float32_values_of_the_size_asked(key: str, size: int) -> None:
    values = unit_vector(key, size)
    assert len(values) == size
    assert math.isclose(math.hypot(*values), 1.0, rel_tol=1e-6)
    assert spelled(float32(values)) == values  # each value the shortest spelling of its float32


MIN_NORMAL = 2.0**-126
"""The smallest normal float32: below it (subnormals) a float32 carries fewer digits than six."""


@given(value=st.floats(-1, 1, width=32))
def test_a_float32_is_spelled_with_the_fewest_digits_that_read_back_as_it(value: float) -> None:
    """As numpy and OpenAI's documented embeddings write a float32: ``0.044194173``, not ``0.04419417306780815``."""
    (shortest,) = spelled([value])
    assert float32([shortest]) == [value]
    if value == 0 or abs(value) >= MIN_NORMAL:
        assert shortest == float(format(value, f".{fewest_digits(value)}g"))
    else:  # 8.808141757206503e-41 reads back from "8.8081e-41"; spelled with six digits, still exact
        assert fewest_digits(value) <= 6


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
    assert unit_vector("hello", 4) == [0.20409423, 0.6770122, -0.4216041, 0.5676707]
    assert unit_vector("x", 3) == [-0.29889086, 0.64083093, -0.70710677]
    assert unit_vector("x", 1) == [-1.0]


def test_one_client_changing_sizes_makes_no_table_and_cannot_grow_the_memory() -> None:
    circles = _Circles()
    for size in range(1, 3 * MAX_SEEN):
        points = circles.points(size, 0.5, array("H", [0, QUARTER]))
        assert [round(value, 9) for value in points] == [0.5, 0.0, 0.0, 0.5]  # (cos, sin) of each angle
    assert not circles._tables
    assert len(circles._seen) <= MAX_SEEN


def test_a_table_holds_the_shortest_spelling_of_every_float32_of_its_circle() -> None:
    """A table spells each distinct value once and looks the spellings up for the 65,536 cosines and sines: each
    entry must still be its own float32's shortest spelling, and that float32 ``f32(r · cos θ)``."""
    circles = _Circles()
    for size in (3, 1536):
        radius = 1 / math.sqrt((size + 1) // 2)
        assert circles._table(size, radius) is None  # the first time a size is asked for: no table yet
        table = circles._table(size, radius)
        assert table is not None
        cosines, sines = table
        exact = float32([radius * math.cos(2 * math.pi * step / STEPS) for step in range(STEPS)])
        assert float32(cosines.tolist()) == exact
        assert float32(sines.tolist()) == exact[STEPS - QUARTER :] + exact[: STEPS - QUARTER]
        assert spelled(exact) == cosines.tolist()
