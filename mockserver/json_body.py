"""A JSON request body read within bounds: UTF-8, syntax, nesting depth, number of values, lone surrogates.

Each refusal is a :class:`Violation` that names the limit, answered in the API's own error shape.
The work is bounded before any schema sees the body (one walk that stops at ``MAX_VALUES``), and a
body larger than ``OFF_LOOP_BYTES`` is read in a worker thread so that other requests keep being
answered while it is.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from apitwin.mockserver.violations import Violation

MAX_DEPTH = 64
"""Nesting deeper than this is refused before validation (validators recurse)."""
MAX_VALUES = 500_000
"""JSON values (objects, arrays, strings, numbers, …) a body may hold. The largest legal request of a
real gateway, embeddings of 300k tokens sent as integer arrays, fits; more is a 413 naming the limit."""
OFF_LOOP_BYTES = 256 * 1024
"""Bodies larger than this are parsed and validated in a worker thread, not on the event loop."""
LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A ``\\uD800`` to ``\\uDFFF`` escape: json.loads accepts it alone, but no UTF-8 text can carry it."""

JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
"""A JSON string literal, escapes included (the unrolled form: linear, no backtracking)."""

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


def parse_json(label: str, raw: bytes) -> tuple[Any, int, Violation | None]:
    """(value, status, violation): the parsed body, or why it is refused (status 0: the operation's own)."""
    if too_many_values(raw):
        return None, 413, _violation(label, "", *_TOO_MANY)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"request body is not valid UTF-8 (at byte {error.start})"
        return None, 0, _violation(label, "", "UTF-8 text", f"byte 0x{raw[error.start]:02x}", message)
    try:
        value = json.loads(text)
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
    shape = shape_problem(value, text)
    if shape is not None:
        return None, shape.status, _violation(label, shape.pointer, shape.expected, shape.received, shape.message)
    return value, 0, None


_TOO_MANY = (
    f"at most {MAX_VALUES} JSON values",
    "more",
    f"request body holds more than {MAX_VALUES} JSON values (the limit of this server)",
)


def too_many_values(raw: bytes) -> bool:
    """More than MAX_VALUES values, told from the bytes before parsing (parsing is the costly part).

    Every value but the first follows a comma outside a string, so those commas are a lower bound.
    """
    if raw.count(b",") < MAX_VALUES:
        return False  # the usual case: not even the commas inside strings add up to the limit
    return JSON_STRING.sub(b"", raw).count(b",") >= MAX_VALUES


def _violation(label: str, pointer: str, expected: str, received: str, message: str) -> Violation:
    return Violation(label, "body", pointer, expected, received, message)


def shape_problem(value: Any, text: str) -> ShapeProblem | None:
    """Nesting deeper than MAX_DEPTH, more than MAX_VALUES values, or a string with a lone surrogate.

    One walk without recursion, stopped at the first problem. Strings are looked at only when
    ``text`` has a surrogate escape at all.
    """
    strings = LONE_SURROGATE_ESCAPE.search(text) is not None
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 1, ())]
    seen = 0
    while stack:
        node, depth, path = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            return ShapeProblem("", *_TOO_MANY, status=413)
        if depth > MAX_DEPTH:
            return ShapeProblem(
                "",
                f"JSON nested at most {MAX_DEPTH} deep",
                "deeper nesting",
                f"request body is nested too deeply (more than {MAX_DEPTH} levels)",
            )
        if isinstance(node, dict):
            for key, child in node.items():
                if strings and _lone_surrogate(key):
                    return _surrogate_problem(path, key, "a property name")
                stack.append((child, depth + 1, (*path, key) if strings else path))
        elif isinstance(node, list):
            stack.extend((child, depth + 1, (*path, index) if strings else path) for index, child in enumerate(node))
        elif strings and isinstance(node, str) and _lone_surrogate(node):
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
    pointer = "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in path)
    shown = json.dumps(text[:40])  # ASCII: the surrogate shown as its escape
    return ShapeProblem(
        pointer,
        "Unicode text (UTF-16 surrogates only in pairs)",
        shown,
        f"body{pointer}: {what} with a lone surrogate escape, {shown}, is not Unicode text",
    )
