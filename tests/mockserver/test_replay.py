"""``apitwin serve --replay``: recorded answers for recorded requests, paced as recorded, and what a miss gets."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from apitwin.mockserver.app import create_app
from apitwin.mockserver.replay import ReplayError

CHAT = {"model": "internlm2", "messages": [{"role": "user", "content": "hi"}]}
RECORDED = {"id": "recorded-1", "object": "chat.completion", "created": 1, "model": "internlm2", "choices": []}
STREAM = b'data: {"a": 1}\n\ndata: {"a": 2}\n\ndata: [DONE]\n\n'


def entry(body: dict, status: int, content_type: str, text: str, chunks: list | None = None) -> dict:
    content = {"size": len(text), "mimeType": content_type, "text": text}
    if chunks is not None:
        content["_chunks"] = chunks
    return {
        "request": {
            "method": "POST",
            "url": "http://gateway.example/lmdeploy/v1/chat/completions",
            "headers": [{"name": "Content-Type", "value": "application/json"}],
            "postData": {"mimeType": "application/json", "text": json.dumps(body)},
        },
        "response": {
            "status": status,
            "headers": [
                {"name": "content-type", "value": content_type},
                {"name": "content-length", "value": "999"},
                {"name": "set-cookie", "value": "[masked]"},
                {"name": "x-request-id", "value": "rec-42"},
            ],
            "content": content,
        },
    }


@pytest.fixture
def recordings(tmp_path):
    entries = [
        entry({**CHAT, "user": "alice", "metadata": {"run": 1}}, 200, "application/json", json.dumps(RECORDED)),
        entry(
            {**CHAT, "stream": True},
            200,
            "text/event-stream",
            STREAM.decode(),
            [{"offset_ms": 40.0, "size": 16}, {"offset_ms": 65.0, "size": 16}, {"offset_ms": 70.0, "size": 14}],
        ),
    ]
    for number, item in enumerate(entries):
        (tmp_path / f"{number}.har").write_text(json.dumps({"log": {"version": "1.2", "entries": [item]}}))
    return tmp_path


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(round(seconds, 6))


def post(app, body: dict) -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://mock") as client:
            return await client.post("/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"})

    return asyncio.run(send())


def test_a_recorded_request_gets_the_recorded_answer_whatever_its_ignored_fields(recordings):
    app = create_app(["lmdeploy"], replay=str(recordings), state="memory")
    answer = post(app, {**CHAT, "user": "bob"})
    assert answer.status_code == 200 and answer.json() == RECORDED
    assert answer.headers["x-request-id"] == "rec-42"
    assert "set-cookie" not in answer.headers  # a masked value is not replayed
    generated = post(app, {**CHAT, "max_tokens": 5})
    assert generated.status_code == 200 and generated.json()["id"] != "recorded-1"


def test_a_stream_is_replayed_read_by_read_at_its_recorded_offsets(recordings):
    sleeps = Sleeps()
    app = create_app(["lmdeploy"], replay=str(recordings), state="memory", sleep=sleeps)
    answer = post(app, {**CHAT, "stream": True})
    assert answer.content == STREAM and answer.headers["content-type"] == "text/event-stream"
    assert sleeps.calls == [0.04, 0.025, 0.005]
    unpaced = Sleeps()
    app = create_app(["lmdeploy"], replay=str(recordings), replay_pace="none", state="memory", sleep=unpaced)
    assert (post(app, {**CHAT, "stream": True})).content == STREAM
    assert unpaced.calls == []


def test_a_miss_in_strict_mode_is_a_404_in_the_apis_shape_naming_the_nearest_recordings(recordings):
    app = create_app(["lmdeploy"], replay=str(recordings), replay_strict=True, state="memory")
    answer = post(app, {**CHAT, "max_tokens": 5})
    assert answer.status_code == 404
    message = json.dumps(answer.json())
    assert "no recorded answer for POST /v1/chat/completions" in message
    assert "body differs in max_tokens" in message and "0.har entry 0" in message


def test_recordings_that_cannot_be_read_are_an_error_naming_them(tmp_path, recordings):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReplayError, match="no recordings"):
        create_app(["lmdeploy"], replay=str(empty), state="memory")
    with pytest.raises(ReplayError, match=r"missing\.har: no such file"):
        create_app(["lmdeploy"], replay=str(tmp_path / "missing.har"), state="memory")
    with pytest.raises(ReplayError, match="pace 'fast'"):
        create_app(["lmdeploy"], replay=str(recordings), replay_pace="fast", state="memory")
