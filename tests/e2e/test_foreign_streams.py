"""Streams from a spec written the way vendors publish them, served by ``apitwin serve FILE``.

The fixture puts the chunk schema straight under ``text/event-stream``, declares a union of
typed events, and has an operation whose only sign of a stream is its documented ``stream`` flag;
the openai SDK must consume real events from each (issue 10, point 2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.e2e.conftest import API_KEY, serving

FIXTURE = Path(__file__).parent / "fixtures" / "foreign_streams.yaml"
MESSAGES = [{"role": "user", "content": "Say hello in a few words"}]
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(str(FIXTURE)) as url:
        yield url


@pytest.fixture
def client(base: str) -> openai.OpenAI:
    """The SDK at the spec's server path (``https://api.example.com/v1`` → ``/v1``); raw requests use the root."""
    return openai.OpenAI(base_url=f"{base}/v1", api_key=API_KEY, max_retries=0)


def frames(text: str) -> list[dict[str, str]]:
    """The SSE frames of a body: each a dict of its fields (``event``, ``data``)."""
    found = []
    for block in text.strip().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            fields[name] = fields[name] + "\n" + value if name in fields else value
        found.append(fields)
    return found


def test_the_sdk_consumes_chunks_of_a_schema_given_straight_under_event_stream(client):
    chunks = list(client.chat.completions.create(model="m-1", messages=MESSAGES, stream=True))
    assert len(chunks) >= 3
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert {chunk.model for chunk in chunks} == {"m-1"}
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text.strip()
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


def test_the_chat_stream_ends_with_the_done_its_stream_options_mention(base):
    body = {"model": "m-1", "messages": MESSAGES, "stream": True}
    response = httpx.post(f"{base}/chat/completions", json=body, headers=AUTH)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = frames(response.text)
    assert events[-1] == {"data": "[DONE]"}
    for event in events[:-1]:
        assert json.loads(event["data"])["object"] == "chat.completion.chunk"


def test_a_documented_stream_flag_streams_the_success_answer_as_chunks(client, base):
    chunks = list(client.completions.create(model="m-1", prompt="Hello", stream=True))
    assert chunks
    assert {chunk.object for chunk in chunks} == {"text_completion"}
    response = httpx.post(f"{base}/completions", json={"model": "m-1", "prompt": "Hi", "stream": True}, headers=AUTH)
    assert frames(response.text)[-1] == {"data": "[DONE]"}


def test_without_stream_the_same_operation_answers_json(client):
    completion = client.completions.create(model="m-1", prompt="Hello")
    assert completion.object == "text_completion"
    assert completion.choices


def test_typed_events_are_named_by_their_type_and_not_terminated(base):
    response = httpx.post(f"{base}/jobs", json={"stream": True}, headers=AUTH)
    assert response.status_code == 200
    events = frames(response.text)
    assert len(events) >= 3
    for event in events:
        payload = json.loads(event["data"])
        assert event["event"] == payload["type"]
        assert payload["type"] in ("job.progress", "job.finished")
