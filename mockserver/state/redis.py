"""The shared store: Redis, for several worker processes or hosts (``--state redis://host:port/db``).

Each value is one JSON string under ``apitwin:<kind>:<key>``, with the store's TTL. ``update`` is an optimistic
transaction (WATCH, read, MULTI/EXEC, retry when another client wrote in between), so two workers
polling the same job never lose a step.
"""

from __future__ import annotations

import json
from typing import Any

from apitwin.mockserver.state import Change, StoreLimits

KEY_PREFIX = "apitwin"
MAX_UPDATE_ATTEMPTS = 64


class RedisStore:
    def __init__(self, url: str, limits: StoreLimits | None = None) -> None:
        self.url = url
        self.limits = limits or StoreLimits()
        self._client: Any = None

    def _redis(self) -> Any:
        # Created on first use, inside the event loop that will drive it.
        if self._client is None:
            import redis.asyncio

            self._client = redis.asyncio.Redis.from_url(self.url, decode_responses=True)
        return self._client

    @staticmethod
    def _key(kind: str, key: str) -> str:
        return f"{KEY_PREFIX}:{kind}:{key}"

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        text = await self._redis().get(self._key(kind, key))
        return None if text is None else json.loads(text)

    async def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        await self._redis().set(self._key(kind, key), json.dumps(value), px=self._ttl_ms())

    async def update(self, kind: str, key: str, change: Change) -> dict[str, Any] | None:
        from redis.exceptions import WatchError

        name = self._key(kind, key)
        async with self._redis().pipeline(transaction=True) as pipe:
            for _ in range(MAX_UPDATE_ATTEMPTS):
                try:
                    await pipe.watch(name)
                    text = await pipe.get(name)
                    if text is None:
                        await pipe.unwatch()
                        return None
                    value = change(json.loads(text))
                    pipe.multi()
                    pipe.set(name, json.dumps(value), px=self._ttl_ms())
                    await pipe.execute()
                    return json.loads(json.dumps(value))
                except WatchError:
                    continue
        raise RuntimeError(f"redis update of {name} kept conflicting after {MAX_UPDATE_ATTEMPTS} attempts")

    async def delete(self, kind: str, key: str) -> bool:
        return bool(await self._redis().delete(self._key(kind, key)))

    async def items(self, kind: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """Up to ``limit`` values of ``kind`` (SCAN order: Redis keeps no write order)."""
        prefix = self._key(kind, "")
        found = []
        async for name in self._redis().scan_iter(match=f"{prefix}*", count=500):
            text = await self._redis().get(name)
            if text is not None:
                found.append((name[len(prefix) :], json.loads(text)))
            if len(found) >= limit:
                break
        return found

    async def clear(self, kind: str) -> int:
        names = [name async for name in self._redis().scan_iter(match=f"{self._key(kind, '')}*", count=500)]
        return int(await self._redis().delete(*names)) if names else 0

    def _ttl_ms(self) -> int:
        """Redis expires the key itself (its byte bound is the server's own ``maxmemory`` policy)."""
        return max(1, int(self.limits.ttl * 1000))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
