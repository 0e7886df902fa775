"""The embedded store: one SQLite file, the default of ``apitwin serve``.

The file survives restarts, and the worker processes of one host share it (WAL journal, a busy
timeout for concurrent writers). Calls run in a thread so a busy database never blocks the event
loop; one connection per store, guarded by a lock.

Each row carries its expiry and its size: reads skip expired rows, and every ``PRUNE_EVERY`` writes
the expired rows are deleted and, while the total is over the byte budget, the soonest to expire
(the least recently written) too. SQLite reuses the freed pages, so the file stops growing.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from apitwin.mockserver.state import Change, StoreLimits

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS state (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    " expires REAL NOT NULL DEFAULT 0, size INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (kind, key))"
)
BUSY_TIMEOUT_SECONDS = 10.0
PRUNE_EVERY = 64
"""Writes between two prunes of expired and over-budget rows."""


class SqliteStore:
    def __init__(self, path: str | Path, limits: StoreLimits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or StoreLimits()
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._writes = 0

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA)
            _migrate(connection, self.limits.clock() + self.limits.ttl)
            connection.execute("CREATE INDEX IF NOT EXISTS state_expires ON state (expires)")
            self._connection = connection
        return self._connection

    async def _run(self, work: Any, *args: Any) -> Any:
        def locked() -> Any:
            with self._lock:
                return work(self._connect(), *args)

        return await asyncio.to_thread(locked)

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return await self._run(_get, kind, key, self.limits.clock())

    async def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        await self._run(_put, kind, key, json.dumps(value), self._expiry())
        await self._wrote()

    async def update(self, kind: str, key: str, change: Change) -> dict[str, Any] | None:
        result = await self._run(_update, kind, key, change, self.limits.clock(), self._expiry())
        await self._wrote()
        return result

    async def prune(self) -> None:
        """Delete expired rows, then the soonest to expire while the total is over the byte budget."""
        await self._run(_prune, self.limits.clock(), self.limits.max_bytes)

    def _expiry(self) -> float:
        return self.limits.clock() + self.limits.ttl

    async def _wrote(self) -> None:
        self._writes += 1
        if self._writes % PRUNE_EVERY == 0:
            await self.prune()

    async def items(self, kind: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        result: list[tuple[str, dict[str, Any]]] = await self._run(_items, kind, self.limits.clock(), limit)
        return result

    async def clear(self, kind: str) -> int:
        count: int = await self._run(_clear, kind)
        return count

    async def delete(self, kind: str, key: str) -> bool:
        return await self._run(_delete, kind, key)

    async def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def _migrate(connection: sqlite3.Connection, expires: float) -> None:
    """A state file from before expiry and size were kept: add them (its rows expire one TTL from now)."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(state)")}
    if "expires" in columns:
        return
    connection.execute("ALTER TABLE state ADD COLUMN expires REAL NOT NULL DEFAULT 0")
    connection.execute("ALTER TABLE state ADD COLUMN size INTEGER NOT NULL DEFAULT 0")
    connection.execute("UPDATE state SET expires = ?, size = length(value)", (expires,))


def _get(connection: sqlite3.Connection, kind: str, key: str, now: float) -> dict[str, Any] | None:
    row = connection.execute(
        "SELECT value FROM state WHERE kind = ? AND key = ? AND expires > ?", (kind, key, now)
    ).fetchone()
    return None if row is None else json.loads(row[0])


def _put(connection: sqlite3.Connection, kind: str, key: str, text: str, expires: float) -> None:
    connection.execute(
        "INSERT OR REPLACE INTO state (kind, key, value, expires, size) VALUES (?, ?, ?, ?, ?)",
        (kind, key, text, expires, len(text)),
    )


def _prune(connection: sqlite3.Connection, now: float, max_bytes: int) -> None:
    connection.execute("DELETE FROM state WHERE expires <= ?", (now,))
    total = connection.execute("SELECT COALESCE(SUM(size), 0) FROM state").fetchone()[0]
    if total <= max_bytes:
        return
    # The soonest to expire are the least recently written: drop them until the rest fits.
    over = total - max_bytes
    rows = connection.execute("SELECT kind, key, size FROM state ORDER BY expires").fetchall()
    doomed = []
    for kind, key, size in rows:
        if over <= 0:
            break
        doomed.append((kind, key))
        over -= size
    connection.executemany("DELETE FROM state WHERE kind = ? AND key = ?", doomed)


def _update(
    connection: sqlite3.Connection, kind: str, key: str, change: Change, now: float, expires: float
) -> dict[str, Any] | None:
    # BEGIN IMMEDIATE takes the write lock before the read: no other process can slip in between.
    connection.execute("BEGIN IMMEDIATE")
    try:
        row = connection.execute(
            "SELECT value FROM state WHERE kind = ? AND key = ? AND expires > ?", (kind, key, now)
        ).fetchone()
        if row is None:
            connection.execute("COMMIT")
            return None
        text = json.dumps(change(json.loads(row[0])))
        connection.execute(
            "UPDATE state SET value = ?, expires = ?, size = ? WHERE kind = ? AND key = ?",
            (text, expires, len(text), kind, key),
        )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return json.loads(text)


def _items(connection: sqlite3.Connection, kind: str, now: float, limit: int) -> list[tuple[str, dict[str, Any]]]:
    rows = connection.execute(
        "SELECT key, value FROM state WHERE kind = ? AND expires > ? ORDER BY expires DESC LIMIT ?", (kind, now, limit)
    ).fetchall()
    return [(key, json.loads(value)) for key, value in rows]


def _clear(connection: sqlite3.Connection, kind: str) -> int:
    count: int = connection.execute("DELETE FROM state WHERE kind = ?", (kind,)).rowcount
    return count


def _delete(connection: sqlite3.Connection, kind: str, key: str) -> bool:
    return connection.execute("DELETE FROM state WHERE kind = ? AND key = ?", (kind, key)).rowcount > 0
