"""mockserver/state/scoped.py: stored responses, jobs and sessions belong to one API and one credential."""

from __future__ import annotations

import asyncio

from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.state.memory import MemoryStore
from apitwin.mockserver.state.scoped import CURRENT_SCOPE, ScopedStore, scope_for

ALICE = {"Authorization": "Bearer key-of-alice"}
BOB = {"Authorization": "Bearer key-of-bob"}


def test_a_stored_response_is_found_only_by_its_api_and_its_key():
    client = TestClient(create_app(["openresponses", "openai-responses", "sequrity"], self_check=True))
    first = client.post("/openresponses/responses", json={"model": "gpt-4o", "input": "one"}, headers=ALICE)
    chained = {"model": "gpt-4o", "input": "two", "previous_response_id": first.json()["id"]}
    assert client.post("/openresponses/responses", json=chained, headers=ALICE).status_code == 200
    other_key = client.post("/openresponses/responses", json=chained, headers=BOB)
    assert other_key.status_code == 404 and "previous_response_id" in other_key.text
    # The case: made on openai-responses, offered to sequrity (which documents the 404 as 4XX).
    made = client.post("/openai-responses/v1/responses", json={"model": "gpt-4o", "input": "one"}, headers=ALICE)
    offered = {"model": "gpt-4o", "input": "two", "previous_response_id": made.json()["id"]}
    assert client.post("/sequrity/control/chat/v1/responses", json=offered, headers=ALICE).status_code == 404


def test_a_job_is_polled_only_with_the_key_that_created_it():
    client = TestClient(create_app(["aimlapi"], self_check=True))
    video = {"model": "klingai/avatar-pro", "image_url": "https://e.com/f.png", "audio_url": "https://e.com/v.mp3"}
    job = client.post("/v2/video/generations", json=video, headers=ALICE).json()
    own = client.get("/v2/video/generations", params={"generation_id": job["id"]}, headers=ALICE)
    assert own.status_code == 200 and own.json()["id"] == job["id"]
    assert client.get("/v2/video/generations", params={"generation_id": job["id"]}, headers=BOB).status_code == 404


def test_a_session_is_continued_only_with_the_key_that_opened_it():
    client = TestClient(create_app(["sequrity"], self_check=True))
    body = {"model": "gpt-4o", "input": "Hello"}
    session = client.post("/control/chat/v1/responses", json=body, headers=ALICE).headers["x-session-id"]
    again = client.post("/control/chat/v1/responses", json=body, headers={**ALICE, "X-Session-ID": session})
    assert again.headers["x-session-id"] == session
    stolen = client.post("/control/chat/v1/responses", json=body, headers={**BOB, "X-Session-ID": session})
    assert stolen.status_code == 200 and stolen.headers["x-session-id"] != session


def test_the_scope_changes_keys_of_owned_kinds_only():
    inner = MemoryStore()
    store = ScopedStore(inner)

    async def scenario() -> tuple[object, object, object]:
        CURRENT_SCOPE.set(scope_for("api", "secret"))
        await store.put("job", "j1", {"n": 1})
        await store.put("media", "m1", {"n": 2})
        CURRENT_SCOPE.set(scope_for("api", "other"))
        return await store.get("job", "j1"), await store.get("media", "m1"), await inner.get("media", "m1")

    assert asyncio.run(scenario()) == (None, {"n": 2}, {"n": 2})
    assert scope_for("api", "secret") != scope_for("other-api", "secret")
    assert "secret" not in scope_for("api", "secret")
