"""The embedded store: one SQLite file, the default of ``apitwin serve``.

The file survives restarts, and the worker processes of one host share it (WAL journal, a busy
timeout for concurrent writers). Calls run in a thread so a busy database never blocks the event
loop; one connection per store, guarded by a lock.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from apitwin.mockserver.state import Change

_SCHEMA = "CREATE TABLE IF NOT EXISTS state (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key))"
BUSY_TIMEOUT_SECONDS = 10.0


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA)
            self._connection = connection
        return self._connection

    async def _run(self, work: Any, *args: Any) -> Any:
        def locked() -> Any:
            with self._lock:
                return work(self._connect(), *args)

        return await asyncio.to_thread(locked)

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return await self._run(_get, kind, key)

    async def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        await self._run(_put, kind, key, json.dumps(value))

    async def update(self, kind: str, key: str, change: Change) -> dict[str, Any] | None:
        return await self._run(_update, kind, key, change)

    async def delete(self, kind: str, key: str) -> bool:
        return await self._run(_delete, kind, key)

    async def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def _get(connection: sqlite3.Connection, kind: str, key: str) -> dict[str, Any] | None:
    row = connection.execute("SELECT value FROM state WHERE kind = ? AND key = ?", (kind, key)).fetchone()
    return None if row is None else json.loads(row[0])


def _put(connection: sqlite3.Connection, kind: str, key: str, text: str) -> None:
    connection.execute("INSERT OR REPLACE INTO state (kind, key, value) VALUES (?, ?, ?)", (kind, key, text))


def _update(connection: sqlite3.Connection, kind: str, key: str, change: Change) -> dict[str, Any] | None:
    # BEGIN IMMEDIATE takes the write lock before the read: no other process can slip in between.
    connection.execute("BEGIN IMMEDIATE")
    try:
        row = connection.execute("SELECT value FROM state WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        if row is None:
            connection.execute("COMMIT")
            return None
        text = json.dumps(change(json.loads(row[0])))
        connection.execute("UPDATE state SET value = ? WHERE kind = ? AND key = ?", (text, kind, key))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return json.loads(text)


def _delete(connection: sqlite3.Connection, kind: str, key: str) -> bool:
    return connection.execute("DELETE FROM state WHERE kind = ? AND key = ?", (kind, key)).rowcount > 0
