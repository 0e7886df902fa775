"""Edits to a generated value, each kept only if the value still validates: the one rule every engine that gives
a drawn value meaning follows (behaviours setting ids, texts and echoed settings; jobs setting statuses, times and
URLs; error answers filling message, path and status; a stream's ``.done`` event carrying its deltas joined).

A realistic value the schema forbids is dropped and the generated valid one stays, so an answer never stops
validating because the mock tried to make it look real. :func:`first_valid` is that decision; the rest are the two
ways of trying an edit:

- copy-on-write, :func:`keep_valid`: ``body`` with the first option at a path that validates (``body`` itself,
  untouched, when none does); for values that are shared or cached (an error template, a drawn job object);
- in place, :func:`settle`: a list of :class:`Edit` applied to a value the caller owns, each undone when the
  value stops validating; all first options are tried at once first, so an answer whose edits all fit costs one
  validation (the behaviours' hot path).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

DELETE: Any = object()
"""An edit value meaning "remove this key"."""

T = TypeVar("T")


class Judge(Protocol):
    """Anything that judges a value: a compiled validator, a :class:`~apitwin.mockserver.generate.CompiledSchema`."""

    def is_valid(self, instance: Any, /) -> bool: ...


def first_valid(validator: Judge | None, trials: Iterable[T], otherwise: T) -> T:
    """The first of ``trials`` ``validator`` accepts (without a validator, the first one), else ``otherwise``.

    ``trials`` is read lazily: no trial after the accepted one is made."""
    for trial in trials:
        if validator is None or validator.is_valid(trial):
            return trial
    return otherwise


# ---------------------------------------------------------------- copy-on-write


def keep_valid(validator: Judge | None, body: Any, path: tuple[Any, ...], *options: Any) -> Any:
    """``body`` with the first of ``options`` at ``path`` that keeps it valid; ``body`` itself when none does.

    Only the containers along ``path`` are copied (missing ones are created as objects); ``DELETE`` removes
    the key."""
    return first_valid(validator, (placed(body, path, option) for option in options), body)


def placed(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``node`` with ``value`` at ``path`` (``DELETE``: without that key), copying only along the way."""
    if not path:
        return value
    holder = dict(node) if isinstance(node, dict) else {}
    head, rest = path[0], path[1:]
    if rest:
        holder[head] = placed(holder.get(head), rest, value)
    elif value is DELETE:
        holder.pop(head, None)
    else:
        holder[head] = value
    return holder


# ---------------------------------------------------------------- in place


@dataclass(slots=True)
class Edit:
    """Set ``container[key]`` to the first of ``options`` the schema allows (``DELETE`` removes the key)."""

    container: Any
    key: Any
    options: tuple[Any, ...]


def edit(container: Any, key: Any, *options: Any) -> Edit:
    return Edit(container, key, options)


def settle(root: Any, validator: Judge | None, edits: Iterable[Edit]) -> Any:
    """Apply ``edits`` to ``root`` (in place), keeping each one only if ``root`` stays valid (without a
    validator, every first option).

    Fast path: all first options at once, one validation. Otherwise edit by edit, option by option,
    so what the schema forbids is left as generated. Returns ``root``.
    """
    edits = [item for item in edits if item.options]
    applied = [_apply(item, item.options[0]) for item in edits]
    if validator is None or validator.is_valid(root):
        return root
    for before in reversed(applied):
        _restore(before)
    for item in edits:
        first_valid(validator, _tried(root, item), root)
    return root


def quiet(container: dict[str, Any], keys: Iterable[str]) -> list[Edit]:
    """Edits that silence generated noise: ``null``, else absent, else empty."""
    result = []
    for key in keys:
        if key not in container:
            continue
        options: tuple[Any, ...] = (None, DELETE, [] if isinstance(container[key], list) else {})
        result.append(Edit(container, key, options))
    return result


def _tried(root: Any, item: Edit) -> Iterator[Any]:
    """``root`` with each option of ``item`` applied in turn; an option is undone only when the next is tried
    (or after the last), so the one :func:`first_valid` accepts stays in place."""
    for option in item.options:
        before = _apply(item, option)
        yield root
        _restore(before)


Before = tuple[Any, Any, bool, Any]
"""What an edit replaced: (container, key, whether the key was there, its value)."""


def _apply(item: Edit, value: Any) -> Before:
    container, key = item.container, item.key
    had = _has(container, key)
    old = container[key] if had else None
    if value is DELETE:
        if had:
            del container[key]
    else:
        container[key] = value
    return container, key, had, old


def _restore(before: Before) -> None:
    container, key, had, old = before
    if had:
        container[key] = old
    elif _has(container, key):
        del container[key]


def _has(container: Any, key: Any) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container)
