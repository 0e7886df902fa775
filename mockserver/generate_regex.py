"""Strings that match a regular expression, drawn from a seeded ``random.Random``.

The pattern is parsed once (with the standard library's own regex parser) into a small tree;
drawing a string walks that tree. Unbounded repeats are capped so strings stay short.
Lookarounds and anchors are skipped here: the caller checks the result with ``re.search``.
"""

from __future__ import annotations

import random
import string
import warnings
from collections.abc import Sequence
from typing import Any

try:  # Python 3.11+
    from re import _constants as c
    from re import _parser as parser
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as c
    import sre_parse as parser

EXTRA_REPEATS = 3
"""How many repetitions past the minimum an open-ended ``*``/``+``/``{n,}`` may produce."""

_PRINTABLE = string.ascii_letters + string.digits + " -_.,"
_CATEGORIES: dict[Any, str] = {
    c.CATEGORY_DIGIT: string.digits,
    c.CATEGORY_NOT_DIGIT: string.ascii_letters + "_-",
    c.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    c.CATEGORY_NOT_WORD: " -.,:/",
    c.CATEGORY_SPACE: " ",
    c.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
}


class RegexGenerator:
    """Draws strings matching ``pattern`` (best effort; callers verify)."""

    __slots__ = ("_tree", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        with warnings.catch_warnings():  # see ecma_regex._compile
            warnings.simplefilter("ignore", FutureWarning)
            self._tree = parser.parse(pattern)

    def generate(self, rng: random.Random, stretch: int | None = None) -> str:
        """A string; with ``stretch``, every repeat takes its minimum except that ``stretch`` more repetitions
        go to the first repeats that allow them (how a caller reaches a ``minLength`` or exact length: the
        shortest form first, then the difference)."""
        groups: dict[int, str] = {}
        return "".join(_emit(self._tree, rng, groups, [stretch] if stretch is not None else None))


def _emit(items: Any, rng: random.Random, groups: dict[int, str], stretch: list[int] | None = None) -> list[str]:
    out: list[str] = []
    for op, arg in items:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.NOT_LITERAL:
            out.append(_pick_not(rng, {chr(arg)}))
        elif op is c.ANY:
            out.append(rng.choice(_PRINTABLE))
        elif op is c.IN:
            out.append(_pick_in(arg, rng))
        elif op is c.BRANCH:
            out.extend(_emit(rng.choice(arg[1]), rng, groups, stretch))
        elif op is c.SUBPATTERN:
            group, _add, _del, sub = arg
            text = "".join(_emit(sub, rng, groups, stretch))
            if group is not None:
                groups[group] = text
            out.append(text)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, high, sub = arg
            if stretch is None:
                high = low + EXTRA_REPEATS if high is c.MAXREPEAT else min(high, low + EXTRA_REPEATS)
                count = rng.randint(low, high)
            else:
                count = low + min(stretch[0], (high if high is not c.MAXREPEAT else low + stretch[0]) - low)
                stretch[0] -= count - low
            for _ in range(count):
                out.extend(_emit(sub, rng, groups, stretch))
        elif op is c.GROUPREF:
            out.append(groups.get(arg, ""))
        elif op is getattr(c, "ATOMIC_GROUP", None):
            out.extend(_emit(arg, rng, groups, stretch))
        # AT (anchors), ASSERT, ASSERT_NOT, GROUPREF_EXISTS: nothing to emit; the caller verifies.
    return out


def _pick_in(items: list[tuple[Any, Any]], rng: random.Random) -> str:
    negate = bool(items) and items[0][0] is c.NEGATE
    choices: list[str] = []
    ranges: list[tuple[int, int]] = []
    for op, arg in items[1:] if negate else items:
        if op is c.LITERAL:
            choices.append(chr(arg))
        elif op is c.RANGE:
            low, high = arg
            ranges.append((low, high))
            choices.extend(chr(code) for code in range(low, min(high, low + 94) + 1))
        elif op is c.CATEGORY:
            choices.extend(_CATEGORIES.get(arg, ""))
    if negate:
        return _pick_not(rng, set(choices), ranges)
    return rng.choice(choices) if choices else ""


BEYOND_LATIN_1 = "ĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞ"
"""Drawn for a negated class that leaves no printable ASCII (``[^\u0000-\u00ff]``)."""


def _pick_not(rng: random.Random, excluded: set[str], ranges: Sequence[tuple[int, int]] = ()) -> str:
    allowed = [
        char
        for char in _PRINTABLE + BEYOND_LATIN_1
        if char not in excluded and not any(low <= ord(char) <= high for low, high in ranges)
    ]
    printable = [char for char in allowed if char in _PRINTABLE]
    return rng.choice(printable or allowed) if allowed else ""
