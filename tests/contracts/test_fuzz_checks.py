"""apitwin's stream checks on hand-made streams read against the shipped specs (no network)."""

from __future__ import annotations

import json

import pytest

from apitwin import specs
from apitwin.contracts.sse import Stream, StreamSpecs, parse_events, run_stream_checks


def chat_spec():
    return StreamSpecs(specs.load("lmdeploy")).for_response("/v1/chat/completions", "post", 200, "text/event-stream")


def chunk(index: int = 0, usage: dict | None = None) -> dict:
    body = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": index, "delta": {"content": "hi"}, "finish_reason": None}],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def frames(*payloads) -> bytes:
    return b"".join(
        f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode() for payload in payloads
    )


def checks_of(body: bytes, spec, reads: list[int] | None = None, request=None) -> set[str]:
    reads = reads if reads is not None else [len(part) + 2 for part in body.split(b"\n\n")[:-1]]
    stream = Stream(spec, parse_events(body, reads), len(reads), False, request)
    return {problem.check for problem in run_stream_checks(stream)}


def test_a_healthy_chat_stream_passes():
    assert checks_of(frames(chunk(), chunk(), "[DONE]"), chat_spec()) == set()


def test_missing_done_and_missing_index_are_caught():
    without_index = chunk()
    del without_index["choices"][0]["index"]
    assert checks_of(frames(without_index, chunk()), chat_spec()) == {"sse_event_schema", "sse_terminator"}


def test_usage_is_required_when_the_caller_asked_for_it():
    request = {"stream": True, "stream_options": {"include_usage": True}}
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    assert "sse_usage" in checks_of(frames(chunk(), "[DONE]"), chat_spec(), request=request)
    assert "sse_usage" not in checks_of(frames(chunk(usage=usage), "[DONE]"), chat_spec(), request=request)
    assert "sse_usage" not in checks_of(frames(chunk(), "[DONE]"), chat_spec(), request={"stream": True})


@pytest.mark.parametrize(("reads", "buffered"), [(None, False), ("one", True)])
def test_a_stream_in_one_read_is_buffered(reads, buffered):
    body = frames(chunk(), chunk(), chunk(), "[DONE]")
    assert ("sse_buffered" in checks_of(body, chat_spec(), [len(body)] if reads == "one" else None)) is buffered


def test_responses_order_and_deltas():
    spec = StreamSpecs(specs.load("openresponses")).for_response("/responses", "post", 200, "text/event-stream")
    assert spec.lifecycle == "response" and spec.sequenced
    events = [
        {
            "type": "response.output_text.delta",
            "item_id": "i",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hel",
            "sequence_number": 2,
        },
        {
            "type": "response.output_text.delta",
            "item_id": "i",
            "output_index": 0,
            "content_index": 0,
            "delta": "lo",
            "sequence_number": 1,
        },
        {
            "type": "response.output_text.done",
            "item_id": "i",
            "output_index": 0,
            "content_index": 0,
            "text": "Help",
            "sequence_number": 3,
        },
    ]
    body = b"".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events)
    found = checks_of(body, spec)
    assert {"sse_event_order", "sse_deltas"} <= found
