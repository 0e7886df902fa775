"""Issue 16, point 2: one large or invalid body cannot hold the worker: its work is bounded and done off the loop."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.json_body import MAX_VALUES, OFF_LOOP_BYTES
from apitwin.mockserver.validation import DETAIL_VALUES, MAX_VIOLATIONS, SAMPLE_ITEMS, _sample

AUTH = (b"authorization", b"Bearer k")


async def call(app: Any, method: str, path: str, body: bytes = b"", received: asyncio.Event | None = None) -> int:
    """One request through the ASGI app; ``received`` is set once the app has read the whole body."""
    headers = [AUTH, (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            if received is not None:
                received.set()  # the probe runs as soon as this request lets the loop go
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect: the client waits for its answer
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def test_a_concurrent_request_is_answered_while_a_large_body_is_read():
    app = create_app(["lmdeploy"], state="memory")
    items = (MAX_VALUES - 10) // 3  # just under the limit: parsed and judged in full, not refused
    big = json.dumps({"model": "m", "input": [[1, 2]] * items}).encode()
    assert len(big) > OFF_LOOP_BYTES
    finished: list[str] = []

    async def scenario() -> tuple[int, int]:
        read = asyncio.Event()

        async def big_request() -> int:
            status = await call(app, "POST", "/v1/embeddings", big, read)
            finished.append("big")
            return status

        async def probe() -> int:
            await read.wait()  # the large body is in: the app is parsing and judging it now
            status = await call(app, "GET", "/_apitwin/apis")
            finished.append("probe")
            return status

        return await asyncio.gather(big_request(), probe())

    big_status, probe_status = asyncio.run(scenario())
    assert (big_status, probe_status) == (422, 200)
    assert finished == ["probe", "big"]


def test_an_invalid_large_body_is_judged_on_a_sample_and_the_errors_are_capped():
    value = {"model": "m", "input": [[index, "x"] for index in range(DETAIL_VALUES)]}
    sample, cut = _sample(value)
    assert cut and len(sample["input"]) == SAMPLE_ITEMS and sample["input"][3] == [3, "x"]
    small = {"model": "m", "input": [[1, 2]] * 10}
    assert _sample(small) == (small, False)
    client = TestClient(create_app(["lmdeploy"], state="memory"))
    answer = client.post("/v1/embeddings", json={"model": "m", "input": [{"bad": i} for i in range(50_000)]})
    detail = answer.json()["detail"]
    assert answer.status_code == 422 and 1 <= len(detail) <= MAX_VIOLATIONS
    assert detail[0]["loc"][:3] == ["body", "input", 0]


def test_an_error_beyond_the_sample_is_still_a_clear_4xx():
    items: list[Any] = ["fine"] * (DETAIL_VALUES + 1)
    items[-1] = {"not": "a string"}
    client = TestClient(create_app(["lmdeploy"], state="memory"))
    answer = client.post("/v1/embeddings", json={"model": "m", "input": items})
    assert answer.status_code == 422
    message = answer.json()["detail"][0]["msg"]
    assert f"first {SAMPLE_ITEMS} items" in message and str(DETAIL_VALUES) in message
