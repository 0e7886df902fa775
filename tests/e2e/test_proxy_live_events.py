"""A stream event that breaks the spec is reported while the stream still runs, and the client's bytes are the
upstream's: an upstream on loopback sends the events one by one and holds the stream open after the broken one."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest

from tests.contracts.conftest import mock_url  # noqa: F401  (session fixture: one mock per API)
from tests.e2e.conftest import API_KEY
from tests.e2e.proxying import proxy_in_thread, served_in_thread

pytestmark = pytest.mark.e2e

PATH = "/v1/chat/completions"
STREAM = {"model": "internlm2", "messages": [{"role": "user", "content": "Say hello"}], "stream": True}
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
HOLD_SECONDS = 30


class HeldStream:
    """Answers every request with ``events``, one HTTP chunk each, waiting for ``release`` after ``hold_after``."""

    def __init__(self, events: list[bytes], hold_after: int) -> None:
        self.events = events
        self.hold_after = hold_after
        self.release = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        headers = [(b"content-type", b"text/event-stream; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for number, event in enumerate(self.events, start=1):
            await send({"type": "http.response.body", "body": event, "more_body": True})
            if number == self.hold_after:
                await asyncio.to_thread(self.release.wait, HOLD_SECONDS)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def real_events(upstream: str) -> list[bytes]:
    """The events of a stream the mock answered, each with its blank line."""
    text = httpx.post(upstream + PATH, json=STREAM, headers=HEADERS).text
    return [(block + "\n\n").encode() for block in text.split("\n\n") if block.strip()]


def without_model(event: bytes) -> bytes:
    payload = json.loads(event.decode().removeprefix("data: "))
    payload["model"] = None
    return f"data: {json.dumps(payload)}\n\n".encode()


def test_a_broken_event_is_a_journal_line_while_the_stream_is_still_running(mock_url):  # noqa: F811
    events = real_events(mock_url("lmdeploy"))
    assert len(events) > 4 and events[-1] == b"data: [DONE]\n\n"
    events[1] = without_model(events[1])
    upstream = HeldStream(events, hold_after=2)
    with served_in_thread(upstream) as held, proxy_in_thread("lmdeploy", held) as proxy:
        with httpx.stream("POST", proxy.url + PATH, json=STREAM, headers=HEADERS) as answer:
            pieces = answer.iter_raw()
            received = b""
            while received.count(b"\n\n") < 2:
                received += next(pieces)
            deadline = time.monotonic() + 10
            while not proxy.journal.findings and time.monotonic() < deadline:
                time.sleep(0.01)
            mid_stream = list(proxy.journal.findings)
            judged_meanwhile = proxy.journal.judged
            upstream.release.set()
            received += b"".join(pieces)
        journal = proxy.settled(1)
    assert judged_meanwhile == 0, "the stream was still running"
    assert [(finding.check, finding.where, finding.pointer) for finding in mid_stream] == [
        ("sse_event_schema", "event 2", "/data/model")
    ]
    assert received == b"".join(events), "the client gets the upstream's bytes, the broken event included"
    assert journal.findings == mid_stream, "the end of the stream adds nothing and repeats nothing"
    assert proxy.out.getvalue().count("event 2 /data/model") == 1
