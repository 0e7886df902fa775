"""JSON Schema ``pattern``s (ECMA-262 regular expressions) judged and drawn from in Python.

Published specs write patterns for JavaScript: ``\\p{L}`` (Unicode properties), ``(?<name>...)``,
``\\u{1F600}``, ``[^]``, identity escapes such as ``\\e``. Python's ``re`` refuses those, and the
specs that use them (most of AWS's, for a start) must still be served and checked.

A pattern ``re`` compiles is used as written. One it refuses is translated: each property becomes
the ranges of code points it names, taken from ``unicodedata``. One that cannot be translated (a
script such as ``\\p{Script=Greek}``, which ``unicodedata`` does not know) is judged by
jsonschema-rs, which speaks ECMA-262; only a pattern neither accepts has no matcher at all.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
import warnings
from typing import Protocol

import jsonschema_rs

LAST_CODE_POINT = sys.maxunicode

LONG_CATEGORY_NAMES = {
    "Letter": "L",
    "Cased_Letter": "LC",
    "Uppercase_Letter": "Lu",
    "Lowercase_Letter": "Ll",
    "Titlecase_Letter": "Lt",
    "Modifier_Letter": "Lm",
    "Other_Letter": "Lo",
    "Mark": "M",
    "Combining_Mark": "M",
    "Nonspacing_Mark": "Mn",
    "Spacing_Mark": "Mc",
    "Enclosing_Mark": "Me",
    "Number": "N",
    "Decimal_Number": "Nd",
    "digit": "Nd",
    "Letter_Number": "Nl",
    "Other_Number": "No",
    "Punctuation": "P",
    "punct": "P",
    "Connector_Punctuation": "Pc",
    "Dash_Punctuation": "Pd",
    "Open_Punctuation": "Ps",
    "Close_Punctuation": "Pe",
    "Initial_Punctuation": "Pi",
    "Final_Punctuation": "Pf",
    "Other_Punctuation": "Po",
    "Symbol": "S",
    "Math_Symbol": "Sm",
    "Currency_Symbol": "Sc",
    "Modifier_Symbol": "Sk",
    "Other_Symbol": "So",
    "Separator": "Z",
    "Space_Separator": "Zs",
    "Line_Separator": "Zl",
    "Paragraph_Separator": "Zp",
    "Other": "C",
    "Control": "Cc",
    "cntrl": "Cc",
    "Format": "Cf",
    "Surrogate": "Cs",
    "Private_Use": "Co",
    "Unassigned": "Cn",
}
CATEGORY_GROUPS = {"LC": ("Lu", "Ll", "Lt")}

Ranges = tuple[tuple[int, int], ...]


class Matcher(Protocol):
    """What a checker needs of a compiled pattern: does it occur anywhere in ``text``."""

    def search(self, text: str) -> object: ...


class NativeMatcher:
    """A pattern only jsonschema-rs understands, asked through a one-keyword schema."""

    __slots__ = ("_validator",)

    def __init__(self, pattern: str) -> None:
        self._validator = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})

    def search(self, text: str) -> bool:
        return self._validator.is_valid(text)


class UntranslatableError(ValueError):
    """An ECMA-262 construct with no Python ``re`` spelling here."""


def _compile(pattern: str) -> re.Pattern[str]:
    """``re.compile`` without its FutureWarnings: ``[[a]`` and ``[a||b]`` mean in ECMA-262 what they mean in
    Python today; a served spec would otherwise print one warning per such pattern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(pattern)


@functools.lru_cache(maxsize=4096)
def matcher(pattern: str) -> Matcher | None:
    """How to judge ``pattern`` (None: no regex engine here accepts it)."""
    try:
        return _compile(pattern)
    except re.error:
        pass
    try:
        return _compile(translate(pattern))
    except (re.error, UntranslatableError):
        pass
    try:
        return NativeMatcher(pattern)
    except (ValueError, jsonschema_rs.ValidationError):
        return None


@functools.lru_cache(maxsize=4096)
def drawable(pattern: str) -> str | None:
    """A Python pattern to draw strings from (None: none), preferring ASCII members of a property.

    A drawn name of ``[\\p{L}\\p{N}_]+`` reads ``Xk3_q``, as an API's own examples would, not a run
    of scripts the client never sends. The caller checks every draw with ``matcher``."""
    try:
        _compile(pattern)
        return pattern
    except re.error:
        pass
    try:
        translated = translate(pattern, ascii_first=True)
        _compile(translated)
    except (re.error, UntranslatableError):
        return None
    return translated


def translate(pattern: str, ascii_first: bool = False) -> str:
    """``pattern`` in Python's ``re`` syntax; raises UntranslatableError."""
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            text, index = _escape(pattern, index, in_class, ascii_first)
            out.append(text)
            continue
        if in_class:
            if char == "]":
                in_class = False
            elif char == "[":
                char = "\\["  # literal in ECMA-262; a nested set to Python
            out.append(char)
        elif char == "[":
            if pattern.startswith("[^]", index):
                out.append("[\\s\\S]")
                index += 3
                continue
            if pattern.startswith("[]", index):
                out.append("(?!)")
                index += 2
                continue
            in_class = True
            out.append(char)
            if pattern.startswith("[^", index):
                out.append("^")
                index += 1
            if pattern.startswith("]", index + 1):  # ECMA-262: "[]a]" is an empty class, then "a]"
                raise UntranslatableError("an empty class followed by more pattern")
        elif pattern.startswith("(?<", index) and not pattern.startswith(("(?<=", "(?<!"), index):
            out.append("(?P<")
            index += 3
            continue
        else:
            out.append(char)
        index += 1
    return "".join(out)


PYTHON_ESCAPES = set("dDwWsSbBfnrtvx0123456789")
"""Escapes that mean the same in both languages (``\\u`` is handled on its own)."""


def _escape(pattern: str, index: int, in_class: bool, ascii_first: bool) -> tuple[str, int]:
    if index + 1 >= len(pattern):
        raise UntranslatableError("a pattern that ends in a backslash")
    letter = pattern[index + 1]
    after = index + 2
    if letter in "pP" and pattern.startswith("{", after):
        end = pattern.find("}", after)
        if end < 0:
            raise UntranslatableError("an unclosed \\p{")
        ranges = property_ranges(pattern[after + 1 : end])
        if letter == "P":
            ranges = complement(ranges)
        if ascii_first:
            ranges = _ascii_members(ranges)
        members = _class_members(ranges)
        return (members if in_class else f"[{members}]"), end + 1
    if letter == "u" and pattern.startswith("{", after):
        end = pattern.find("}", after)
        if end < 0:
            raise UntranslatableError("an unclosed \\u{")
        return f"\\U{int(pattern[after + 1 : end], 16):08x}", end + 1
    if letter == "u":
        return pattern[index:after], after  # \uXXXX means the same in both
    if letter == "k" and pattern.startswith("<", after):
        end = pattern.find(">", after)
        if end < 0:
            raise UntranslatableError("an unclosed \\k<")
        return f"(?P={pattern[after + 1 : end]})", end + 1
    if letter == "c" and after < len(pattern) and pattern[after].isalpha():
        return f"\\x{ord(pattern[after].upper()) % 32:02x}", after + 1
    if letter in PYTHON_ESCAPES or not letter.isalnum():
        return pattern[index:after], after
    return re.escape(letter), after  # an identity escape: \e is "e" in ECMA-262, an error in Python


def property_ranges(name: str) -> Ranges:
    """The code points ``\\p{name}`` matches, as sorted inclusive ranges."""
    if "=" in name:
        key, _, value = name.partition("=")
        if key not in ("General_Category", "gc"):
            raise UntranslatableError(f"the property {name!r}")
        name = value
    if name == "Any":
        return ((0, LAST_CODE_POINT),)
    if name == "ASCII":
        return ((0, 0x7F),)
    short = LONG_CATEGORY_NAMES.get(name, name)
    table = _category_table()
    members = CATEGORY_GROUPS.get(short) or tuple(category for category in table if category.startswith(short))
    if not members:
        raise UntranslatableError(f"the property {name!r}")
    return _merge([span for category in members for span in table[category]])


def complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    start = 0
    for low, high in ranges:
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= LAST_CODE_POINT:
        out.append((start, LAST_CODE_POINT))
    return tuple(out)


@functools.cache
def _category_table() -> dict[str, Ranges]:
    """Every general category's code points, in one pass over Unicode (~0.3 s, once)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    current, start = unicodedata.category("\0"), 0
    for code in range(1, LAST_CODE_POINT + 2):
        category = unicodedata.category(chr(code)) if code <= LAST_CODE_POINT else ""
        if category != current:
            spans.setdefault(current, []).append((start, code - 1))
            current, start = category, code
    return {category: tuple(found) for category, found in spans.items()}


def _merge(spans: list[tuple[int, int]]) -> Ranges:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(spans):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return tuple(merged)


def _ascii_members(ranges: Ranges) -> Ranges:
    printable = tuple((max(low, 0x20), min(high, 0x7E)) for low, high in ranges if low <= 0x7E and high >= 0x20)
    return printable or ranges


def _class_members(ranges: Ranges) -> str:
    def spell(code: int) -> str:
        return f"\\U{code:08x}"

    return "".join(spell(low) if low == high else f"{spell(low)}-{spell(high)}" for low, high in ranges)
