"""A JSON request body read within bounds: UTF-8, syntax, nesting depth, number of values, lone surrogates.

Each refusal is a :class:`Violation` that names the limit, answered in the API's own error shape.
Depth and the number of values are told from the bytes before parsing, with byte counts, translations
and one regular expression (C speed, no Python loop over the values); a body larger than
``OFF_LOOP_BYTES`` is read in a worker thread so that other requests keep being answered while it is.
Only a body with a surrogate escape in it is walked value by value, for the lone ones.

A worker thread shares the interpreter with the event loop: whatever it does in one C call (a regular
expression over the whole body, the parse itself) the loop waits out. So each such step is kept short:
brackets are counted and peeled with ``bytes.translate``, ``count`` and ``replace`` (no match object per
bracket), and the parse runs in orjson (two to three times faster than ``json``) with the cyclic garbage
collector paused (a parsed body has no cycles, and the hundreds of thousands of containers a large one
allocates would otherwise set off full collections, each one holding every thread, the loop's too, for
tens of milliseconds). The longest step left is the parse of a body near the limits (tens of milliseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from apitwin.mockserver.violations import Violation
from apitwin.specs.pointer import join

MAX_DEPTH = 64
"""Arrays and objects nested deeper than this are refused before validation (validators recurse)."""
MAX_VALUES = 500_000
"""JSON values (objects, arrays, strings, numbers, …) a body may hold. The largest legal request of a
real gateway, embeddings of 300k tokens sent as integer arrays, fits; more is a 413 naming the limit."""
OFF_LOOP_BYTES = 256 * 1024
"""Bodies larger than this are parsed and validated in a worker thread, not on the event loop."""
LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A ``\\uD800`` to ``\\uDFFF`` escape: json.loads accepts it alone, but no UTF-8 text can carry it."""

JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
"""A JSON string literal, escapes included (the unrolled form: linear, no backtracking)."""
WHITESPACE = b" \t\r\n"
NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
"""Every byte but the four brackets (``bytes.translate`` deletes them: one linear pass, no match objects)."""
PEELED = b"."
DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
NINETEEN_DIGITS = b"0" * 19
"""In a body whose digits all read 0: 19 digits in a row (one translation and a substring search, faster than a
regular expression, which tries a match at every digit)."""

SMALL_BODY = 16 * 1024
"""Bodies up to this many bytes are read without pausing the collector (at most a few thousand containers)."""
UNREAD = object()

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ShapeProblem:
    """Why a parsed JSON body is refused before schema validation, in a violation's terms."""

    pointer: str
    expected: str
    received: str
    message: str
    status: int = 0
    """The status to answer with; 0 means the operation's own status for a bad request."""


async def off_loop(work: Callable[[], T], size: int) -> T:
    """``work()``, in a worker thread when the body it reads is larger than OFF_LOOP_BYTES."""
    if size <= OFF_LOOP_BYTES:
        return work()
    return await asyncio.to_thread(work)


class _CollectorPause:
    """The cyclic garbage collector off while any thread parses a body, back on (if it was) when the last one
    is done: ``gc.disable`` is one switch for the whole process, so overlapping parses are counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parses = 0
        self._restore = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._parses == 0:
                self._restore = gc.isenabled()
                gc.disable()
            self._parses += 1
        try:
            yield
        finally:
            with self._lock:
                self._parses -= 1
                if self._parses == 0 and self._restore:
                    gc.enable()


collector_paused = _CollectorPause()


def parse_json(label: str, raw: bytes) -> tuple[Any, int, Violation | None]:
    """(value, status, violation): the parsed body, or why it is refused (status 0: the operation's own)."""
    outline = structure_problem(raw)
    if outline is not None:
        return None, outline.status, _violation(label, "", outline.expected, outline.received, outline.message)
    value = read_small(raw)
    if value is not UNREAD:
        return value, 0, None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"request body is not valid UTF-8 (at byte {error.start})"
        return None, 0, _violation(label, "", "UTF-8 text", f"byte 0x{raw[error.start]:02x}", message)
    try:
        value = loads(raw, text)
    except json.JSONDecodeError as error:
        received = text[max(0, error.pos - 10) : error.pos + 10]
        return (
            None,
            0,
            _violation(
                label, "", "JSON", received, f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
            ),
        )
    except RecursionError:
        return (
            None,
            0,
            _violation(
                label,
                "",
                f"JSON nested at most {MAX_DEPTH} deep",
                "deeper nesting",
                "request body is nested too deeply",
            ),
        )
    shape = surrogate_problem(value, text)
    if shape is not None:
        return None, shape.status, _violation(label, shape.pointer, shape.expected, shape.received, shape.message)
    return value, 0, None


def read_small(raw: bytes) -> Any:
    """A small body as orjson reads it, when ``json`` would read it alike; else UNREAD (the whole way then says
    what is wrong, or reads it). orjson takes only UTF-8 and refuses lone surrogates, so what it reads needs no
    other look; below SMALL_BODY bytes a body holds too few containers to be worth pausing the collector for."""
    if len(raw) > SMALL_BODY or NINETEEN_DIGITS in raw.translate(DIGITS_AS_ZERO):
        return UNREAD
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return UNREAD


def loads(raw: bytes, text: str) -> Any:
    """``json.loads(text)`` (``raw`` is its UTF-8), with the collector paused, through orjson where orjson reads it
    alike: what orjson refuses (a lone surrogate, NaN, 1e999) goes to ``json``, which takes it or says why not, and
    so does a body with 19 digits in a row anywhere (orjson would read an integer beyond 64 bits as a float)."""
    with collector_paused():
        if NINETEEN_DIGITS not in raw.translate(DIGITS_AS_ZERO):
            with contextlib.suppress(orjson.JSONDecodeError):
                return orjson.loads(raw)
        return json.loads(text)


_TOO_MANY = (
    f"at most {MAX_VALUES} JSON values",
    "more",
    f"request body holds more than {MAX_VALUES} JSON values (the limit of this server)",
)


def too_many_values(raw: bytes) -> bool:
    """More than MAX_VALUES values, told from the bytes (see :func:`structure_problem`)."""
    problem = structure_problem(raw)
    return problem is not None and problem.status == 413


def structure_problem(raw: bytes) -> ShapeProblem | None:
    """More than MAX_VALUES values or containers nested deeper than MAX_DEPTH, from the text alone.

    With strings taken out, what is left is brackets, commas, colons, scalars and whitespace:
    each container with k items holds k - 1 commas, so the values are the commas plus the
    non-empty containers plus the root. Malformed text is left for the parser to name.
    """
    opened = raw.count(b"[") + raw.count(b"{")
    if raw.count(b",") + opened + 1 <= MAX_VALUES and opened <= MAX_DEPTH:
        return None  # the usual case: even counting strings' commas and brackets, under both limits
    outline = JSON_STRING.sub(b'""', raw)
    commas = outline.count(b",")
    if commas + 1 > MAX_VALUES:
        return ShapeProblem("", *_TOO_MANY, status=413)
    brackets = outline.translate(None, NOT_BRACKETS)
    containers = brackets.count(b"[") + brackets.count(b"{")
    if commas + containers + 1 > MAX_VALUES:
        compact = outline.translate(None, WHITESPACE)  # an empty container is then "[]" or "{}"
        if commas + containers - compact.count(b"[]") - compact.count(b"{}") + 1 > MAX_VALUES:
            return ShapeProblem("", *_TOO_MANY, status=413)
    if containers <= MAX_DEPTH or not nested_deeper(brackets, MAX_DEPTH):
        return None
    return ShapeProblem(
        "",
        f"JSON nested at most {MAX_DEPTH} deep",
        "deeper nesting",
        f"request body is nested too deeply (more than {MAX_DEPTH} levels)",
    )


def nested_deeper(brackets: bytes, limit: int) -> bool:
    """Whether ``brackets`` (only ``[]{}``) nest more than ``limit`` deep.

    Each round deletes the pairs that are empty when it starts (marked first, so that deleting ``[]`` in
    ``{[]}`` does not empty the braces in the same round): the deepest nesting takes as many rounds as it has
    levels. Unbalanced brackets stop the rounds (the parser will say where).
    """
    for _ in range(limit):
        marked = brackets.replace(b"[]", PEELED).replace(b"{}", PEELED)
        if len(marked) == len(brackets):
            return False
        brackets = marked.translate(None, PEELED)
        if not brackets:
            return False
    return b"[]" in brackets or b"{}" in brackets  # more levels to peel, unless what is left is unbalanced


def _violation(label: str, pointer: str, expected: str, received: str, message: str) -> Violation:
    return Violation(label, "body", pointer, expected, received, message)


def shape_problem(value: Any, text: str) -> ShapeProblem | None:
    """Everything refused before schema validation, for a body already parsed from ``text``."""
    return structure_problem(text.encode("utf-8", "surrogatepass")) or surrogate_problem(value, text)


def surrogate_problem(value: Any, text: str) -> ShapeProblem | None:
    """The first string (or property name) with a lone surrogate, looked for only when ``text`` has an
    escape of one at all (one walk without recursion)."""
    if LONE_SURROGATE_ESCAPE.search(text) is None:
        return None
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if _lone_surrogate(key):
                    return _surrogate_problem(path, key, "a property name")
                stack.append((child, (*path, key)))
        elif isinstance(node, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(node))
        elif isinstance(node, str) and _lone_surrogate(node):
            return _surrogate_problem(path, node, "a string")
    return None


def _lone_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _surrogate_problem(path: tuple[str | int, ...], text: str, what: str) -> ShapeProblem:
    pointer = join("", *path)
    shown = json.dumps(text[:40])  # ASCII: the surrogate shown as its escape
    return ShapeProblem(
        pointer,
        "Unicode text (UTF-16 surrogates only in pairs)",
        shown,
        f"body{pointer}: {what} with a lone surrogate escape, {shown}, is not Unicode text",
    )
