"""Shrinking a failing request to the smallest one that still fails the same way.

A fuzzer's failing case is usually a large random body; what a person needs is the few fields that
matter. After the run, each cause's request body (a JSON object) is made smaller one step at a time:
drop a field, then simplify what is left (a string to ``""``, a list to its first item, a number to
``0``, a nested object the same way). Each candidate is sent; it is kept when the answer still shows
the same cause, so the result is the smallest body this greedy walk finds, never a guess. Every try is
a real request, counted by the budget, and capped per cause (``--shrink-requests``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

Body = dict[str, Any]
MAX_DEPTH = 3
"""Nested objects are simplified this deep; below, a value is only dropped or kept."""


def candidates(body: dict[str, Any], depth: int = MAX_DEPTH) -> Iterator[dict[str, Any]]:
    """Bodies one step smaller than ``body``: each field dropped (largest first), then each value simplified."""
    for key in sorted(body, key=lambda name: -_size(body[name])):
        yield {name: value for name, value in body.items() if name != key}
    for key, value in body.items():
        for simpler in _simpler(value, depth):
            yield {**body, key: simpler}


def _simpler(value: Any, depth: int) -> Iterator[Any]:
    if isinstance(value, str) and value:
        yield ""
        if len(value) > 1:
            yield value[0]
    elif isinstance(value, list) and value:
        if len(value) > 1:
            yield value[:1]
        yield []
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (int, float)) and value not in (0, 1):
        yield 0
        yield 1
    elif isinstance(value, dict) and depth > 1:
        yield from candidates(value, depth - 1)


def shrink(body: Body, still_fails: Callable[[Body], bool], attempts: int) -> tuple[Body, int]:
    """The smallest body this walk reaches from ``body`` within ``attempts`` tries, and the tries made.

    First the fields go in halves, then quarters, … (delta debugging: sixty optional fields cost a handful
    of tries, not sixty), then what is left is simplified value by value; a step that did not keep the
    failure is not tried again. ``still_fails`` sends a candidate and says whether the same cause shows;
    it may raise to stop (a spent budget)."""
    tries = _Tries(still_fails, attempts)
    body = _drop_fields(body, tries)
    rejected: set[str] = set()
    improved = True
    while improved and tries.left:
        improved = False
        for candidate in candidates(body):
            key = json.dumps(candidate, sort_keys=True, default=str)
            if not tries.left:
                break
            if key in rejected or _size(candidate) >= _size(body):
                continue
            if tries.fails(candidate):
                body, improved = candidate, True
                break
            rejected.add(key)
    return body, tries.made


class _Tries:
    def __init__(self, still_fails: Callable[[Body], bool], attempts: int) -> None:
        self.still_fails = still_fails
        self.attempts = attempts
        self.made = 0

    @property
    def left(self) -> bool:
        return self.made < self.attempts

    def fails(self, candidate: Body) -> bool:
        self.made += 1
        return self.still_fails(candidate)


def _drop_fields(body: Body, tries: _Tries) -> Body:
    """Delta debugging over the top-level fields: drop the largest chunk of them that keeps the failure."""
    chunks = 2
    while len(body) > 1 and tries.left:
        names = list(body)
        size = -(-len(names) // chunks)  # ceiling division
        for start in range(0, len(names), size):
            dropped = set(names[start : start + size])
            if not tries.left:
                return body
            if tries.fails({name: value for name, value in body.items() if name not in dropped}):
                body, chunks = {name: value for name, value in body.items() if name not in dropped}, max(chunks - 1, 2)
                break
        else:
            if chunks >= len(names):
                return body
            chunks = min(chunks * 2, len(names))
    return body


def fields(body: Any) -> int:
    """How many fields (at every depth) a body has: how the report words the shrink."""
    if isinstance(body, dict):
        return len(body) + sum(fields(value) for value in body.values())
    if isinstance(body, list):
        return sum(fields(value) for value in body)
    return 0


def _size(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_size(item) + len(str(key)) for key, item in value.items())
    if isinstance(value, list):
        return 1 + sum(_size(item) for item in value)
    return len(str(value)) if value is not None else 1
