"""Listing and clearing a kind of stored object (the dashboard's state view), on every backend."""

from __future__ import annotations

import asyncio

from apitwin.mockserver.state import StoreLimits, open_store
from tests.mockserver.test_state import redis_url, store_url

__all__ = ["redis_url", "store_url"]  # the backends' fixtures, shared with the store suite


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_items_lists_live_values_of_one_kind_newest_first_and_clear_removes_only_that_kind(store_url: str) -> None:
    async def work() -> tuple[list, list, int, list, object]:
        store = open_store(store_url)
        try:
            await store.clear("job")
            await store.clear("session")
            for number in range(3):
                await store.put("job", f"j{number}", {"id": f"j{number}"})
            await store.put("session", "s0", {"id": "s0"})
            listed = await store.items("job", 10)
            limited = await store.items("job", 2)
            removed = await store.clear("job")
            return listed, limited, removed, await store.items("job", 10), await store.get("session", "s0")
        finally:
            await store.close()

    listed, limited, removed, after, session = asyncio.run(work())
    assert sorted(key for key, _ in listed) == ["j0", "j1", "j2"] and dict(listed)["j1"] == {"id": "j1"}
    assert len(limited) == 2 and removed == 3 and after == [] and session == {"id": "s0"}
    if not store_url.startswith("redis"):  # Redis keeps no write order
        assert [key for key, _ in listed] == ["j2", "j1", "j0"]


def test_expired_values_are_not_listed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    for url in ("memory", f"sqlite:///{tmp_path / 'state.db'}"):

        async def work(url: str = url) -> list:
            store = open_store(url, StoreLimits(ttl=10, clock=clock))
            try:
                await store.put("job", "old", {"id": "old"})
                clock.now += 11
                await store.put("job", "new", {"id": "new"})
                return await store.items("job", 10)
            finally:
                await store.close()

        assert [key for key, _ in asyncio.run(work())] == ["new"], url
