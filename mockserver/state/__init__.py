"""State the mock keeps between requests: jobs, stored responses, sessions.

Everything lives behind one small :class:`Store` interface of JSON objects grouped by ``kind``
(``"job"``, ``"response"``, ``"session"``, …) and addressed by ``key``. Three backends:
``memory`` (one process, gone on exit), SQLite (the default of ``apitwin serve``: embedded, one
file, survives restarts, shared by the worker processes of one host) and Redis (several workers
or hosts share it). :func:`open_store` picks one from a URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

Change = Callable[[dict[str, Any]], dict[str, Any]]
"""A pure function from the stored value to its replacement (may be called more than once)."""

DEFAULT_SQLITE_PATH = Path(".apitwin") / "state.db"


DEFAULT_TTL = 24 * 3600.0
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoreLimits:
    """How long a stored object lives and how many bytes all of them may take (``--state-ttl``,
    ``--state-max-bytes``). An object expires ``ttl`` seconds after it was last written; when the
    total is over ``max_bytes`` the least recently written go first. Redis applies the TTL itself
    and leaves the byte bound to its own ``maxmemory`` policy."""

    ttl: float = DEFAULT_TTL
    max_bytes: int = DEFAULT_MAX_BYTES
    clock: Callable[[], float] = field(default=time.time, compare=False)


class Store(Protocol):
    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """The stored value, or ``None`` when there is none."""
        ...

    async def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` (a JSON-able dict), replacing any previous one."""
        ...

    async def update(self, kind: str, key: str, change: Change) -> dict[str, Any] | None:
        """Atomically replace the stored value with ``change(value)``; the new value, or ``None``
        when nothing is stored under the key (then ``change`` is not called)."""
        ...

    async def delete(self, kind: str, key: str) -> bool:
        """Remove the value; whether there was one."""
        ...

    async def items(self, kind: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """Up to ``limit`` live values of ``kind`` with their keys, the most recently written first (the
        dashboard's view of the state; not on any request's path)."""
        ...

    async def clear(self, kind: str) -> int:
        """Remove every value of ``kind``; how many there were."""
        ...

    async def close(self) -> None: ...


class StoreURLError(ValueError):
    """A ``--state`` value that names no backend."""


def open_store(url: str, limits: StoreLimits | None = None) -> Store:
    """The store a URL names: ``memory``, ``sqlite`` (the default file ``.apitwin/state.db``),
    ``sqlite:///path/file.db`` (or a bare path), ``redis://host:port/db``; bounded by ``limits``."""
    limits = limits or StoreLimits()
    text = url.strip()
    if text in ("memory", "memory:", "memory://"):
        from apitwin.mockserver.state.memory import MemoryStore

        return MemoryStore(limits)
    if text.startswith(("redis://", "rediss://", "unix://")):
        from apitwin.mockserver.state.redis import RedisStore

        return RedisStore(text, limits)
    path = _sqlite_path(text)
    from apitwin.mockserver.state.sqlite import SqliteStore

    return SqliteStore(path, limits)


def describe_store(url: str) -> str:
    """Where a ``--state`` URL keeps its data, said plainly (the banner prints it: no silent relative path)."""
    text = url.strip()
    if text in ("memory", "memory:", "memory://"):
        return "memory (this process only, gone on exit)"
    if text.startswith(("redis://", "rediss://", "unix://")):
        return f"Redis at {text}"
    return f"SQLite file {_sqlite_path(text).resolve()}"


def _sqlite_path(text: str) -> Path:
    if text in ("sqlite", "sqlite:", "sqlite://"):
        return DEFAULT_SQLITE_PATH
    if text.startswith("sqlite:///"):
        return Path(text[len("sqlite:///") :])  # sqlite:////abs/file.db keeps its leading slash
    if text.startswith("sqlite:"):
        raise StoreURLError(
            f"malformed SQLite URL {text!r}; expected sqlite:///relative/path.db or sqlite:////absolute/path.db"
        )
    if "://" in text or not text:
        raise StoreURLError(
            f"unknown state store {text!r}; expected memory, sqlite, sqlite:///file.db, a file path or redis://host:port/db"
        )
    return Path(text)
