"""The real ``openai`` SDK against ``apitwin serve`` on loopback: streams, embeddings, images."""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Iterator

import httpx
import jsonschema
import pytest
from openai import OpenAI

from tests.e2e.conftest import API_KEY, serving

pytestmark = pytest.mark.e2e
CHAT_MODEL = "anthropic/claude-3-5-haiku"


NO_DELAY = {"X-Apitwin-Pacing": "ttft=0"}
"""The server runs with --ttft 300; every client but the pacing test turns it off per request."""


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving("aimlapi", "openresponses", "lmdeploy", "--state", "memory", "--ttft", "300") as url:
        yield url


@pytest.fixture(scope="module")
def aimlapi(base: str) -> OpenAI:
    return OpenAI(base_url=f"{base}/aimlapi/v1", api_key=API_KEY, max_retries=0, default_headers=NO_DELAY)


@pytest.fixture(scope="module")
def openresponses(base: str) -> OpenAI:
    return OpenAI(base_url=f"{base}/openresponses", api_key=API_KEY, max_retries=0, default_headers=NO_DELAY)


@pytest.fixture(scope="module")
def lmdeploy(base: str) -> OpenAI:
    return OpenAI(base_url=f"{base}/lmdeploy/v1", api_key=API_KEY, max_retries=0, default_headers=NO_DELAY)


def test_chat_stream_joins_to_the_plain_answer(aimlapi: OpenAI) -> None:
    messages = [{"role": "user", "content": "Describe a lighthouse."}]
    plain = aimlapi.chat.completions.create(model=CHAT_MODEL, messages=messages, n=2, max_tokens=40)
    assert plain.model == CHAT_MODEL and [choice.index for choice in plain.choices] == [0, 1]
    stream = aimlapi.chat.completions.create(
        model=CHAT_MODEL, messages=messages, n=2, max_tokens=40, stream=True, stream_options={"include_usage": True}
    )
    texts = {0: "", 1: ""}
    finishes = {}
    usage = None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
        usage = chunk.usage or usage
    for choice in plain.choices:
        assert texts[choice.index] == choice.message.content
        assert finishes[choice.index] == choice.finish_reason
    assert (
        usage is not None
        and usage.total_tokens == plain.usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    )


def test_chat_tool_call_and_structured_output(aimlapi: OpenAI) -> None:
    parameters = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": parameters}}]
    answer = aimlapi.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "Where?"}], tools=tools, tool_choice="required"
    )
    [call, *_] = answer.choices[0].message.tool_calls
    jsonschema.validate(json.loads(call.function.arguments), parameters)
    schema = {
        "type": "object",
        "properties": {"score": {"type": "integer", "minimum": 0, "maximum": 10}},
        "required": ["score"],
    }
    form = {"type": "json_schema", "json_schema": {"name": "rating", "schema": schema}}
    rated = aimlapi.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "Rate it."}], response_format=form
    )
    jsonschema.validate(json.loads(rated.choices[0].message.content), schema)


def test_responses_create_stream(openresponses: OpenAI) -> None:
    plain = openresponses.responses.create(model="gpt-4o", input="Tell me a short story.")
    stream = openresponses.responses.create(model="gpt-4o", input="Tell me a short story.", stream=True)
    kinds, text, numbers = [], "", []
    final = None
    for event in stream:
        kinds.append(event.type)
        numbers.append(event.sequence_number)
        if event.type == "response.output_text.delta":
            text += event.delta
        if event.type == "response.completed":
            final = event.response
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert final is not None and text == final.output_text == plain.output_text


def test_responses_stream_helper_and_chaining(openresponses: OpenAI) -> None:
    with openresponses.responses.stream(model="gpt-4o", input="Explain tides.", max_output_tokens=500) as stream:
        deltas = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert final.output_text == deltas and final.model == "gpt-4o"
    assert final.usage.total_tokens == final.usage.input_tokens + final.usage.output_tokens
    follow = openresponses.responses.create(model="gpt-4o", input="And then?", previous_response_id=final.id)
    assert follow.previous_response_id == final.id
    with pytest.raises(Exception) as refused:
        openresponses.responses.create(model="gpt-4o", input="x", previous_response_id="resp_nowhere")
    assert getattr(refused.value, "status_code", None) == 404 and "previous_response_id" in str(refused.value)


def test_embeddings_both_encodings(aimlapi: OpenAI, lmdeploy: OpenAI) -> None:
    floats = aimlapi.embeddings.create(
        model="alibaba/qwen-text-embedding-v3", input=["alpha", "beta"], dimensions=128, encoding_format="float"
    )
    assert [item.index for item in floats.data] == [0, 1] and all(len(item.embedding) == 128 for item in floats.data)
    client = lmdeploy
    default = client.embeddings.create(
        model="bge", input=["alpha", "beta", "gamma"]
    )  # the SDK asks for base64 and decodes it
    as_floats = client.embeddings.create(model="bge", input=["alpha", "beta", "gamma"], encoding_format="float")
    assert len(default.data) == 3
    # base64 carries each float32's bytes; JSON its shortest spelling, which reads back as the same float32
    assert [float32(item.embedding) for item in default.data] == [float32(item.embedding) for item in as_floats.data]
    assert all(
        len(repr(value)) <= len(repr(decoded))
        for value, decoded in zip(as_floats.data[0].embedding, default.data[0].embedding, strict=True)
    )


def float32(values: list[float]) -> list[float]:
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def test_images_url_and_b64(aimlapi: OpenAI, base: str) -> None:
    urls = aimlapi.images.generate(model="dall-e-2", prompt="a lighthouse at dusk", n=2, response_format="url")
    assert len(urls.data) == 2 and all(item.url and item.url.startswith(base) for item in urls.data)
    assert httpx.get(urls.data[0].url).content.startswith(b"\x89PNG")  # served by the mock itself
    inline = aimlapi.images.generate(model="dall-e-2", prompt="a lighthouse at dusk", n=1, response_format="b64_json")
    assert base64.b64decode(inline.data[0].b64_json).startswith(b"\x89PNG")


def test_ttft_option_and_header(base: str) -> None:
    client = OpenAI(base_url=f"{base}/lmdeploy/v1", api_key=API_KEY, max_retries=0)
    started = time.perf_counter()
    pieces = [
        chunk
        for chunk in client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    ]
    assert time.perf_counter() - started >= 0.3 and pieces
    # The header's override is proven with an injected sleeper in tests/mockserver/test_pacing.py; here it
    # only has to be accepted (no upper bound on time: this machine is shared).
    headers = {"Authorization": f"Bearer {API_KEY}", **NO_DELAY}
    answer = httpx.post(
        f"{base}/lmdeploy/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        headers=headers,
    )
    assert answer.status_code == 200 and answer.text.rstrip().endswith("data: [DONE]")
