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
import threading
from collections.abc import Callable
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
        self._skeletons: dict[tuple[Any, ...], tuple[CompiledSchema, Any]] = {}
        self._lock = threading.Lock()
        self._identifying: dict[int, tuple[CompiledSchema, dict[str, Callable[[random.Random], Any]]]] = {}

    def draw(
        self,
        compiled: CompiledSchema,
        role: str,
        seed: int,
        rng: random.Random,
        skip: tuple[str, ...] = (),
        caller_sets: tuple[str, ...] = (),
        shallow: bool = False,
    ) -> Any:
        """A skeleton the caller owns, its identifying top-level fields drawn from ``rng`` (the request's),
        except those in ``caller_sets``, which the caller replaces anyway. ``shallow``: the caller only sets and
        removes top-level keys, so a kept skeleton's nested values may be shared rather than copied."""
        if not self.keep:
            value = _fresh(compiled, role, seed, skip)
        else:
            value = self._kept(compiled, role, seed, skip)
            value = dict(value) if shallow and isinstance(value, dict) else copy_json(value)
        if isinstance(value, dict):
            for name, draw in self._identifying_of(compiled).items():
                if name in value and name not in caller_sets:
                    value[name] = draw(rng)
        return value

    def _identifying_of(self, compiled: CompiledSchema) -> dict[str, Callable[[random.Random], Any]]:
        """How each identifying property of ``compiled``'s object is drawn (worked out once per schema)."""
        known = self._identifying.get(id(compiled))
        if known is None or known[0] is not compiled:
            drawers = {name: draw for name, draw in compiled.property_drawers().items() if identifying(name)}
            known = self._identifying[id(compiled)] = (compiled, drawers)
        return known[1]

    def _kept(self, compiled: CompiledSchema, role: str, seed: int, skip: tuple[str, ...]) -> Any:
        """The kept skeleton itself (never handed out: callers get copies). The schema is kept beside it, so its
        id cannot pass to another schema while the entry lives."""
        key = (id(compiled), role, seed, skip)
        found = self._skeletons.get(key)
        if found is None or found[0] is not compiled:
            found = (compiled, _fresh(compiled, role, seed, skip))
            with self._lock:  # a behaviour may draw in a worker thread (a large body) while the loop draws too
                self._skeletons[key] = found
                if len(self._skeletons) > self.max_kept:
                    del self._skeletons[next(iter(self._skeletons))]  # the oldest
        return found[1]

    def __len__(self) -> int:
        return len(self._skeletons)


def _fresh(compiled: CompiledSchema, role: str, seed: int, skip: tuple[str, ...]) -> Any:
    return compiled.generate(seeded("skeleton", seed, role, *skip), skip)


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value, through orjson (about ten times faster than ``copy.deepcopy``);
    what orjson cannot write (integers beyond 64 bits) is copied by ``copy``."""
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:
        return copy.deepcopy(value)
