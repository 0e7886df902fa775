"""The in-process store: a dict, for tests and ``--state memory``.

Values are copied through JSON on the way in and out, so a caller never shares a mutable object
with the store and gets exactly what the persistent backends would give back.
"""

from __future__ import annotations

import json
from typing import Any

from apitwin.mockserver.state import Change


class MemoryStore:
    def __init__(self) -> None:
        self._values: dict[tuple[str, str], str] = {}

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        text = self._values.get((kind, key))
        return None if text is None else json.loads(text)

    async def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        self._values[(kind, key)] = json.dumps(value)

    async def update(self, kind: str, key: str, change: Change) -> dict[str, Any] | None:
        # No await between the read and the write: atomic within the event loop.
        text = self._values.get((kind, key))
        if text is None:
            return None
        value = change(json.loads(text))
        self._values[(kind, key)] = json.dumps(value)
        return json.loads(self._values[(kind, key)])

    async def delete(self, kind: str, key: str) -> bool:
        return self._values.pop((kind, key), None) is not None

    async def close(self) -> None:
        self._values.clear()
