"""One suite for every Store backend: memory, SQLite (a temp file) and Redis (a real redis-server)."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from apitwin.mockserver.state import DEFAULT_SQLITE_PATH, StoreURLError, open_store
from apitwin.mockserver.state.memory import MemoryStore
from apitwin.mockserver.state.redis import RedisStore
from apitwin.mockserver.state.sqlite import SqliteStore
from tests.e2e.redis import redis_server


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url = request.getfixturevalue("redis_url")
    # A database of its own per test keeps the tests independent without FLUSHALL races.
    return url.rsplit("/", 1)[0] + f"/{abs(hash(request.node.nodeid)) % 15 + 1}"


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


async def _with_store(url: str, work):  # type: ignore[no-untyped-def]
    store = open_store(url)
    try:
        return await work(store)
    finally:
        await store.close()


def test_get_of_a_missing_key_is_none(store_url: str) -> None:
    async def work(store):  # type: ignore[no-untyped-def]
        return await store.get("job", "nothing-here-" + store_url[-3:])

    assert run(_with_store(store_url, work)) is None


def test_put_then_get_round_trips_json_and_kinds_are_separate(store_url: str, request: pytest.FixtureRequest) -> None:
    key = request.node.name
    value = {"status": "queued", "polls": 0, "nested": {"list": [1, 2.5, None, True, "ü"]}}

    async def work(store):  # type: ignore[no-untyped-def]
        await store.put("job", key, value)
        await store.put("response", key, {"other": 1})
        return await store.get("job", key), await store.get("response", key), await store.get("session", key)

    job, response, session = run(_with_store(store_url, work))
    assert job == value
    assert response == {"other": 1}
    assert session is None


def test_put_replaces_and_delete_removes(store_url: str, request: pytest.FixtureRequest) -> None:
    key = request.node.name

    async def work(store):  # type: ignore[no-untyped-def]
        await store.put("job", key, {"n": 1})
        await store.put("job", key, {"n": 2})
        replaced = await store.get("job", key)
        deleted = await store.delete("job", key)
        again = await store.delete("job", key)
        return replaced, deleted, again, await store.get("job", key)

    assert run(_with_store(store_url, work)) == ({"n": 2}, True, False, None)


def test_update_changes_a_stored_value_and_skips_a_missing_one(store_url: str, request: pytest.FixtureRequest) -> None:
    key = request.node.name
    calls: list[dict] = []

    def bump(value: dict) -> dict:
        calls.append(value)
        return {**value, "polls": value["polls"] + 1}

    async def work(store):  # type: ignore[no-untyped-def]
        await store.put("job", key, {"polls": 0})
        changed = await store.update("job", key, bump)
        missing = await store.update("job", key + "-absent", bump)
        return changed, missing, await store.get("job", key)

    changed, missing, stored = run(_with_store(store_url, work))
    assert changed == {"polls": 1} == stored
    assert missing is None
    assert calls == [{"polls": 0}]


def test_concurrent_updates_lose_no_increment(store_url: str, request: pytest.FixtureRequest) -> None:
    key = request.node.name

    async def work(store):  # type: ignore[no-untyped-def]
        await store.put("job", key, {"polls": 0})
        others = [open_store(store_url) if store_url != "memory" else store for _ in range(4)]
        try:
            await asyncio.gather(
                *(other.update("job", key, lambda v: {"polls": v["polls"] + 1}) for other in others for _ in range(10))
            )
        finally:
            for other in others:
                if other is not store:
                    await other.close()
        return await store.get("job", key)

    assert run(_with_store(store_url, work)) == {"polls": 40}


def _increment_many(url: str, key: str, times: int) -> None:
    async def work(store):  # type: ignore[no-untyped-def]
        for _ in range(times):
            await store.update("job", key, lambda v: {"polls": v["polls"] + 1})

    asyncio.run(_with_store(url, work))


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_updates_from_several_processes_are_atomic(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}" if backend == "sqlite" else request.getfixturevalue("redis_url")
    key = request.node.name
    run(_with_store(url, lambda store: store.put("job", key, {"polls": 0})))
    context = multiprocessing.get_context("fork")  # no re-import: the children start at once
    workers = [context.Process(target=_increment_many, args=(url, key, 25)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert run(_with_store(url, lambda store: store.get("job", key))) == {"polls": 75}


def test_sqlite_values_survive_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'state.db'}"
    run(_with_store(url, lambda store: store.put("job", "j1", {"status": "generating"})))
    assert run(_with_store(url, lambda store: store.get("job", "j1"))) == {"status": "generating"}
    assert (tmp_path / "nested" / "state.db").is_file()


def test_open_store_picks_the_backend_from_the_url(tmp_path: Path) -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    default = open_store("sqlite")
    assert isinstance(default, SqliteStore) and default.path == DEFAULT_SQLITE_PATH
    absolute = open_store(f"sqlite:///{tmp_path}/a.db")
    assert isinstance(absolute, SqliteStore) and absolute.path == tmp_path / "a.db"
    relative = open_store("sqlite:///data/b.db")
    assert isinstance(relative, SqliteStore) and relative.path == Path("data/b.db")
    bare = open_store(str(tmp_path / "c.db"))
    assert isinstance(bare, SqliteStore) and bare.path == tmp_path / "c.db"
    assert isinstance(open_store("redis://127.0.0.1:6379/2"), RedisStore)


@pytest.mark.parametrize("url", ["", "postgres://x/y", "sqlite:relative.db", "http://example.com"])
def test_open_store_rejects_what_names_no_backend(url: str) -> None:
    with pytest.raises(StoreURLError):
        open_store(url)
