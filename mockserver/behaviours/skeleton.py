"""An answer's skeleton: what it says whatever the request, drawn once per seed.

A real service answers every request of an operation in one shape: the same fields, the same ``object``,
the same ``system_fingerprint``. What differs is what identifies an answer (its ``id``, its timestamps),
drawn per request here, and what the request decides (text, usage, the settings it echoes), which the
behaviours fill in. So the generated value an answer starts from is drawn from a random source of the
seed and its role in the operation alone; then its identifying fields from the request's source.

Drawing that value is most of the generator's work in an answer. The fast path (``Options.answer_templates``,
the default) draws each skeleton once and hands out copies; the slow path draws it on every request. Both
give the same bytes (``tests/mockserver/test_fast_path.py`` compares them).
"""

from __future__ import annotations

import copy
import random
from typing import Any

import orjson

from apitwin.mockserver.generate import CompiledSchema
from apitwin.mockserver.operations import seeded

MAX_KEPT = 1024
"""Skeletons kept per server: (operation role × seed); a client changing ``Prefer: seed=`` cannot grow it."""
TIMESTAMPS = frozenset({"created", "timestamp"})


def identifying(name: str) -> bool:
    """An id or a timestamp: a property every answer has its own value of."""
    return name == "id" or name.endswith(("_id", "_at")) or name in TIMESTAMPS


class Skeletons:
    """Where a server's behaviours get skeletons: drawn anew (slow path) or kept (fast path)."""

    def __init__(self, keep: bool, max_kept: int = MAX_KEPT) -> None:
        self.keep = keep
        self.max_kept = max_kept
        self._kept: dict[tuple[Any, ...], Any] = {}

    def draw(
        self,
        compiled: CompiledSchema,
        role: str,
        seed: int,
        rng: random.Random,
        skip: tuple[str, ...] = (),
        caller_sets: tuple[str, ...] = (),
    ) -> Any:
        """A skeleton the caller owns, its identifying top-level fields drawn from ``rng`` (the request's),
        except those in ``caller_sets``, which the caller replaces anyway."""
        value = self._kept_copy(compiled, role, seed, skip) if self.keep else _fresh(compiled, role, seed, skip)
        if isinstance(value, dict):
            for name in compiled.properties():
                if name in value and identifying(name) and name not in caller_sets:
                    value[name] = compiled.property_value(rng, name)
        return value

    def _kept_copy(self, compiled: CompiledSchema, role: str, seed: int, skip: tuple[str, ...]) -> Any:
        key = (id(compiled), role, seed, skip)
        found = self._kept.get(key)
        if found is None:
            found = self._kept[key] = _fresh(compiled, role, seed, skip)
            if len(self._kept) > self.max_kept:
                del self._kept[next(iter(self._kept))]  # the oldest
        return copy_json(found)


def _fresh(compiled: CompiledSchema, role: str, seed: int, skip: tuple[str, ...]) -> Any:
    return compiled.generate(seeded("skeleton", seed, role, *skip), skip)


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value, through orjson (about ten times faster than ``copy.deepcopy``);
    what orjson cannot write (integers beyond 64 bits) is copied by ``copy``."""
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:
        return copy.deepcopy(value)
