"""The published ``sequrity`` 0.4.2 client against ``apitwin serve sequrity`` on loopback.

The client runs in a venv of its own (``tests/e2e/client_envs.py``); a script drives
``client.control.responses.create`` and prints, as JSON, what the client itself parsed: the
classes of its own pydantic models, their fields, and the session it tracks from
``X-Session-ID``. Every request the client sent must also pass the mock's request validation
(the request log has no violations), so the client and the spec are held to each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.client_envs import client_python, run_script
from tests.e2e.conftest import API_KEY, serving

pytestmark = pytest.mark.e2e

MODEL = "gpt-4o"
PROMPT = "Name three rivers."

SCRIPT = r'''
import asyncio
import json
import sys

from sequrity import AsyncSequrityClient, SequrityClient
from sequrity._exceptions import SequrityAPIError
from sequrity.control import FeaturesHeader, SecurityPolicyHeader
from sequrity.types.responses.response import ResponsesResponse

mode, base, key, model, prompt = sys.argv[1:6]


def summary(response):
    """What the client parsed from one response object, by its own types."""
    return {
        "class": type(response).__name__,
        "id": response.id,
        "object": response.object,
        "model": response.model,
        "status": response.status,
        "output_classes": [type(item).__name__ for item in response.output],
        "content_classes": [
            type(part).__name__ for item in response.output for part in getattr(item, "content", None) or []
        ],
        "output_text": response.output_text,
        "usage": response.usage.model_dump() if response.usage is not None else None,
        "session_id": response.session_id,
    }


def event_record(event):
    return {
        "class": type(event).__name__,
        "type": event.type,
        "sequence_number": event.sequence_number,
        "delta": getattr(event, "delta", None),
        "text": getattr(event, "text", None),
    }


def streamed(stream):
    events, final = [], None
    with stream:
        for event in stream:
            events.append(event_record(event))
            if event.type in ("response.completed", "response.incomplete"):
                final = summary(ResponsesResponse.model_validate(event.response))
    return {"events": events, "final": final, "session_id": stream.session_id}


def plain_then_continue(client):
    first = client.control.responses.create(model, input=prompt)
    tracked = client.control.session_id
    second = client.control.responses.create(model, input="And three lakes?")
    continued = client.control.session_id
    client.control.reset_session()
    fresh = client.control.responses.create(model, input="Start over.")
    return {
        "first": summary(first),
        "tracked": tracked,
        "second": summary(second),
        "continued": continued,
        "fresh": summary(fresh),
    }


def plain_then_stream(client):
    plain = client.control.responses.create(model, input=prompt)
    stream = client.control.responses.create(model, input=prompt, stream=True)
    return {"plain": summary(plain), "stream": streamed(stream), "tracked": client.control.session_id}


def provider_route(client):
    response = client.control.responses.create(
        model,
        input=prompt,
        instructions="Answer briefly.",
        temperature=0.2,
        max_output_tokens=512,  # above the longest answer the mock composes, so it is never cut
        provider="openai",
        endpoint_type="code",
        llm_api_key="sk-llm-key",
        features=FeaturesHeader.dual_llm(),
        security_policy=SecurityPolicyHeader.dual_llm(),
        session_id="a-session-the-server-never-issued",
    )
    return {
        "response": summary(response),
        "temperature": response.temperature,
        "instructions": response.instructions,
        "max_output_tokens": response.max_output_tokens,
    }


async def async_stream(base, key):
    async with AsyncSequrityClient(api_key=key, base_url=base) as client:
        stream = await client.control.responses.create(model, input=prompt, stream=True)
        events, final = [], None
        async with stream:
            async for event in stream:
                events.append(event_record(event))
                if event.type == "response.completed":
                    final = summary(ResponsesResponse.model_validate(event.response))
        return {"events": events, "final": final, "session_id": stream.session_id}


def refused(client):
    try:
        client.control.responses.create(model, input=prompt)
    except SequrityAPIError as error:
        return {"class": type(error).__name__, "status_code": error.status_code, "message": error.message}
    return {"class": None}


if mode == "async-stream":
    print(json.dumps(asyncio.run(async_stream(base, key))))
else:
    modes = {
        "continue": plain_then_continue,
        "stream": plain_then_stream,
        "provider": provider_route,
        "refused": refused,
    }
    with SequrityClient(api_key=key, base_url=base, timeout=30) as client:
        print(json.dumps(modes[mode](client)))
'''

RESPONSES_ORDER = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]
"""The event types of a one-message answer, as OpenAI streams them (deltas may repeat)."""


@pytest.fixture(scope="module")
def python() -> Path:
    return client_python("sequrity-0.4.2", "sequrity==0.4.2")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving("sequrity") as url:
        yield url


@pytest.fixture
def base(server: str) -> Iterator[str]:
    """The server with an empty request log; afterwards, every request the client sent was valid."""
    httpx.delete(f"{server}/_apitwin/requests").raise_for_status()
    yield server
    records = httpx.get(f"{server}/_apitwin/requests").json()
    broken = [record for record in records if not record["valid"]]
    assert not broken, f"the sequrity client sent requests the spec forbids: {broken}"


def drive(python: Path, mode: str, base: str, key: str = API_KEY) -> Any:
    return run_script(python, SCRIPT, mode, base, key, MODEL, PROMPT)


def requests_seen(base: str) -> list[dict[str, Any]]:
    return httpx.get(f"{base}/_apitwin/requests").json()


def assert_parsed_message(summary: dict[str, Any]) -> None:
    """A response the client parsed into its own types: one assistant message with text."""
    assert summary["class"] == "ResponsesResponse"
    assert summary["object"] == "response" and summary["model"] == MODEL and summary["status"] == "completed"
    assert summary["output_classes"] == ["ResponseOutputMessage"]
    assert summary["content_classes"] == ["OutputText"]
    assert summary["output_text"].strip()
    usage = summary["usage"]
    assert usage is not None and usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_create_returns_the_response_and_continues_the_session(python: Path, base: str) -> None:
    result = drive(python, "continue", base)
    first, second, fresh = result["first"], result["second"], result["fresh"]
    for summary in (first, second, fresh):
        assert_parsed_message(summary)
    assert first["session_id"] and result["tracked"] == first["session_id"]
    # the client sent the tracked id back; the mock continued that session rather than opening a new one
    assert second["session_id"] == first["session_id"] == result["continued"]
    assert fresh["session_id"] and fresh["session_id"] != first["session_id"]
    assert first["output_text"] != second["output_text"]
    assert [record["status"] for record in requests_seen(base)] == [200, 200, 200]


def test_stream_yields_responses_events_adding_up_to_the_completed_response(python: Path, base: str) -> None:
    result = drive(python, "stream", base)
    plain, stream = result["plain"], result["stream"]
    events = stream["events"]
    types = [event["type"] for event in events]
    collapsed = [kind for position, kind in enumerate(types) if position == 0 or kind != types[position - 1]]
    assert collapsed == RESPONSES_ORDER
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert all(event["class"].startswith("Response") and event["class"].endswith("Event") for event in events)
    deltas = "".join(event["delta"] for event in events if event["type"] == "response.output_text.delta")
    [done] = [event for event in events if event["type"] == "response.output_text.done"]
    final = stream["final"]
    assert_parsed_message(final)
    assert deltas == done["text"] == final["output_text"]
    assert final["output_text"] == plain["output_text"]  # the same request streamed or not: the same answer
    assert stream["session_id"] == plain["session_id"] == result["tracked"]


def test_async_client_streams_the_same_events(python: Path, base: str) -> None:
    result = drive(python, "async-stream", base)
    types = [event["type"] for event in result["events"]]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    deltas = "".join(event["delta"] for event in result["events"] if event["type"] == "response.output_text.delta")
    assert deltas == result["final"]["output_text"] and deltas.strip()
    assert result["session_id"]


def test_provider_route_with_security_headers(python: Path, base: str) -> None:
    result = drive(python, "provider", base)
    assert_parsed_message(result["response"])
    assert (
        result["temperature"] == 0.2
        and result["instructions"] == "Answer briefly."
        and result["max_output_tokens"] == 512
    )
    # an id the server never issued starts a new session under a fresh id
    assert result["response"]["session_id"] and result["response"]["session_id"] != "a-session-the-server-never-issued"
    [record] = requests_seen(base)
    assert record["path"] == "/control/code/openai/v1/responses" and record["status"] == 200


def test_wrong_key_raises_the_clients_api_error(python: Path, server: str) -> None:
    httpx.delete(f"{server}/_apitwin/requests").raise_for_status()
    result = drive(python, "refused", server, key="not-the-key")
    [record] = requests_seen(server)
    [violation] = record["violations"]
    assert record["status"] == 401 and violation["location"] == "auth"
    assert result["class"] == "SequrityAPIError" and result["status_code"] == 401
    # the client reads ``detail`` (else ``message``) of the error body: the mock's reason arrives intact
    assert result["message"] == violation["message"]
