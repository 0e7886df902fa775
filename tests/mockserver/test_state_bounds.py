"""Issue 16, point 5: every store has a TTL and a byte bound; jobs keep what a later answer needs; the answer
cache is bounded in bytes. The clock is injected; the bounds are asserted on what is kept, not on time."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.responses import Response

from apitwin.mockserver.answer_cache import AnswerCache
from apitwin.mockserver.behaviours.jobs import MAX_RESULT_LINES, kept_request
from apitwin.mockserver.state import StoreLimits
from apitwin.mockserver.state.memory import MemoryStore
from apitwin.mockserver.state.redis import RedisStore
from apitwin.mockserver.state.sqlite import PRUNE_EVERY, SqliteStore
from tests.e2e.redis import redis_server


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_an_object_expires_its_ttl_after_its_last_write(backend: str, tmp_path: Path) -> None:
    clock = Clock()
    limits = StoreLimits(ttl=60, max_bytes=10**6, clock=clock)
    store = MemoryStore(limits) if backend == "memory" else SqliteStore(tmp_path / "s.db", limits)

    async def scenario() -> list[object]:
        await store.put("job", "a", {"polls": 0})
        clock.now += 50
        await store.update("job", "a", lambda value: {"polls": value["polls"] + 1})  # a write renews it
        clock.now += 50
        alive = await store.get("job", "a")
        clock.now += 11
        gone = await store.get("job", "a")
        renewed = await store.update("job", "a", lambda value: value)
        await store.close()
        return [alive, gone, renewed]

    assert run(scenario()) == [{"polls": 1}, None, None]


def test_memory_keeps_under_its_byte_bound_through_200k_objects() -> None:
    store = MemoryStore(StoreLimits(ttl=3600, max_bytes=100_000, clock=Clock()))

    async def fill() -> None:
        for index in range(200_000):
            await store.put("response", f"resp_{index}", {"id": f"resp_{index}", "text": "x" * 20})

    run(fill())
    assert 0 < store.bytes <= 100_000
    assert len(store) <= 100_000 // len(json.dumps({"id": "resp_0", "text": "x" * 20}))
    assert run(store.get("response", "resp_199999")) is not None  # the newest stay
    assert run(store.get("response", "resp_0")) is None  # the oldest went first


@pytest.mark.parametrize(("key_length", "text_length"), [(8, 20), (80, 200), (80, 1500)])
def test_what_the_memory_store_counts_is_at_least_what_it_allocates(key_length: int, text_length: int) -> None:
    """The byte bound is on what the process holds: keys, tuples and the ordered dict's table count too (tracemalloc
    sees the allocations; the store's count adds the allocator's rounding on top, so it must not be below)."""
    store = MemoryStore(StoreLimits(ttl=3600, max_bytes=2 * 2**20, clock=Clock()))

    async def fill() -> None:
        for index in range(4 * 2 * 2**20 // (key_length + text_length)):  # four bounds' worth: entries come and go
            await store.put("response", f"{index:0{key_length}d}", {"text": "x" * text_length})

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        run(fill())
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held <= store.bytes <= 2 * 2**20


def test_sqlite_prunes_expired_and_over_budget_rows(tmp_path: Path) -> None:
    clock = Clock()
    store = SqliteStore(tmp_path / "s.db", StoreLimits(ttl=60, max_bytes=20_000, clock=clock))
    value = {"text": "y" * 100}

    async def fill(start: int, count: int) -> None:
        for index in range(start, start + count):
            await store.put("response", str(index), value)

    run(fill(0, PRUNE_EVERY * 4))
    run(store.prune())
    rows = sqlite3.connect(tmp_path / "s.db").execute("SELECT COUNT(*), SUM(size) FROM state").fetchone()
    assert rows[1] <= 20_000 and rows[0] < PRUNE_EVERY * 4
    assert run(store.get("response", str(PRUNE_EVERY * 4 - 1))) == value
    clock.now += 61
    run(store.prune())
    assert sqlite3.connect(tmp_path / "s.db").execute("SELECT COUNT(*) FROM state").fetchone()[0] == 0


def test_a_state_file_from_before_expiry_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE state (kind TEXT, key TEXT, value TEXT, PRIMARY KEY (kind, key))")
    old.execute("INSERT INTO state VALUES ('job', 'j', '{\"polls\": 3}')")
    old.commit()
    old.close()
    store = SqliteStore(path, StoreLimits(ttl=60, clock=Clock()))
    assert run(store.get("job", "j")) == {"polls": 3}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def test_redis_keys_carry_the_ttl(redis_url: str) -> None:
    store = RedisStore(redis_url, StoreLimits(ttl=90))

    async def scenario() -> tuple[int, int]:
        await store.put("session", "s1", {"turns": 1})
        first = await store._redis().pttl("apitwin:session:s1")
        await store.update("session", "s1", lambda value: {"turns": 2})
        second = await store._redis().pttl("apitwin:session:s1")
        await store.delete("session", "s1")
        await store.close()
        return first, second

    first, second = run(scenario())
    assert 0 < first <= 90_000 and 0 < second <= 90_000


def test_a_job_keeps_the_ids_of_its_request_not_its_payload() -> None:
    body = {
        "model": "m",
        "prompt": "p" * 9_000_000,
        "requests": [{"custom_id": f"c{i}", "params": {"messages": ["x" * 1000]}} for i in range(MAX_RESULT_LINES + 5)],
    }
    kept = kept_request(body)
    assert kept == {"requests": [{"custom_id": f"c{i}"} for i in range(MAX_RESULT_LINES)]}
    assert len(json.dumps(kept)) < 30_000


def test_the_answer_cache_is_bounded_in_bytes() -> None:
    cache = AnswerCache(max_entries=10_000, max_bytes=50_000)
    for index in range(100):
        key = AnswerCache.key("api", "make", "POST", "/x", "", f"request {index}".encode(), {})
        cache.put(key, Response(b"z" * 1_000, media_type="application/json"))
    assert cache.bytes <= 50_000 and len(cache) < 50
    newest = AnswerCache.key("api", "make", "POST", "/x", "", b"request 99", {})
    oldest = AnswerCache.key("api", "make", "POST", "/x", "", b"request 0", {})
    assert cache.get(newest) is not None and cache.get(oldest) is None
