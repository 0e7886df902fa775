"""Stream pacing: time to first token, tokens per second, the per-request header."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.pacing import (
    MAX_EVENT_WAIT,
    MIN_TOKENS_PER_SECOND,
    Pacing,
    PacingError,
    checked,
    frame_tokens,
    paced,
    parse_header,
)
from apitwin.specs.sse_wire import frame
from tests.mockserver.test_chat_behaviour import AUTH, chunks, streamed_text

BODY = {"model": "internlm2", "messages": [{"role": "user", "content": "pace me"}], "stream": True}


def test_header_parsing() -> None:
    default = Pacing(10, 5)
    assert parse_header(None, default) == default
    assert parse_header("ttft=200,tps=50", default) == Pacing(200, 50)
    assert parse_header(" tps = 7 ", default) == Pacing(10, 7)
    assert parse_header("TTFT=0", default) == Pacing(0, 5)
    for bad in ("fast", "ttft=", "ttft=abc", "tps=-1", "ttft=1e9", "speed=3", "tps=nan"):
        with pytest.raises(PacingError):
            parse_header(bad, default)
    with pytest.raises(PacingError):
        checked(-1, 0)


def test_frame_tokens_count_only_new_text() -> None:
    assert frame_tokens(frame('{"choices": [{"index": 0, "delta": {"content": " hello world"}}]}', None)) == 2
    assert (
        frame_tokens(
            frame(
                '{"type": "response.output_text.delta", "delta": "one two three", "item_id": "msg_1"}',
                "response.output_text.delta",
            )
        )
        == 3
    )
    assert frame_tokens(frame('{"type": "response.created", "response": {"output": []}}', "response.created")) == 0
    assert frame_tokens(frame("[DONE]", None)) == 0


class Sleeps:
    """Records the delays asked for instead of waiting them out."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def test_paced_delays_add_up() -> None:
    frames = [frame('{"delta": "a b c d"}', None)] * 3
    sleeps = Sleeps()

    async def source() -> AsyncIterator[bytes]:
        for item in frames:
            yield item

    async def collect() -> list[bytes]:
        return [item async for item in paced(source(), Pacing(100, 80), sleeps)]

    assert asyncio.run(collect()) == frames
    assert sleeps.seconds == [0.1, 4 / 80, 4 / 80]  # ttft first, then each frame's new tokens at 80 per second


def _paced_client(sleeps: Sleeps, **options: Any) -> TestClient:
    return TestClient(create_app(["lmdeploy"], self_check=True, sleep=sleeps, **options), headers=AUTH)


def test_server_options_and_header_override() -> None:
    sleeps = Sleeps()
    client = _paced_client(sleeps, ttft_ms=150)
    text = client.post("/v1/chat/completions", json=BODY).text
    assert sleeps.seconds == [0.15]
    sleeps.seconds.clear()
    same = client.post("/v1/chat/completions", json=BODY, headers={"X-Apitwin-Pacing": "ttft=0"}).text
    assert same == text and sleeps.seconds == []
    payloads, _ = chunks(text)
    tokens = sum(frame_tokens(frame(json.dumps(chunk), None)) for chunk in payloads)
    assert tokens > 0 and streamed_text(payloads, 0)
    client.post("/v1/chat/completions", json=BODY, headers={"X-Apitwin-Pacing": f"ttft=0,tps={tokens * 4}"})
    assert sum(sleeps.seconds) == pytest.approx(0.25, abs=0.02)  # the text's tokens at 4x their count per second


def test_default_is_no_delay() -> None:
    app = create_app(["lmdeploy"], self_check=True)
    server = app.server
    assert not server.pacing.active


def test_bad_header_is_a_400_in_the_api_shape() -> None:
    client = TestClient(create_app(["lmdeploy"], self_check=True), headers=AUTH)
    answer = client.post("/v1/chat/completions", json=BODY, headers={"X-Apitwin-Pacing": "tps=fast"})
    assert answer.status_code == 400
    assert "X-Apitwin-Pacing" in answer.text
    aiml = TestClient(create_app(["aimlapi"], self_check=True), headers=AUTH)
    answer = aiml.post(
        "/v1/chat/completions",
        json={**BODY, "model": "anthropic/claude-3-5-haiku"},
        headers={"X-Apitwin-Pacing": "ttft=-5"},
    )
    assert answer.status_code == 400 and "statusCode" in answer.json()


def test_invalid_server_options_are_refused() -> None:
    with pytest.raises(PacingError):
        create_app(["lmdeploy"], tokens_per_second=-3)


def test_a_vanishing_rate_is_refused_and_no_event_waits_past_the_cap() -> None:
    for bad in ("tps=1e-300", "tps=0.05"):
        with pytest.raises(PacingError, match=r"at least 0\.1"):
            parse_header(bad, Pacing())
    assert parse_header("tps=0", Pacing(0, 5)) == Pacing(0, 0)  # 0 still turns the rate off
    long_text = " ".join(["word"] * 5000)
    sleeps = Sleeps()

    async def source() -> AsyncIterator[bytes]:
        yield frame('{"delta": "first"}', None)
        yield frame(json.dumps({"delta": long_text}), None)

    async def drain() -> None:
        async for _ in paced(source(), Pacing(0, MIN_TOKENS_PER_SECOND), sleeps):
            pass

    asyncio.run(drain())
    assert sleeps.seconds == [MAX_EVENT_WAIT]  # 5000 tokens at 0.1/s would be 14 hours


def test_a_vanishing_rate_in_the_header_is_a_400_in_the_api_shape() -> None:
    client = TestClient(create_app(["lmdeploy"], self_check=True), headers=AUTH)
    answer = client.post("/v1/chat/completions", json=BODY, headers={"X-Apitwin-Pacing": "tps=1e-300"})
    assert answer.status_code == 400 and "X-Apitwin-Pacing: tokens per second" in answer.json()["detail"][0]["msg"]
