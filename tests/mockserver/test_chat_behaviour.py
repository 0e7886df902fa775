"""Chat completions behaviour, in-process, on every API whose spec has a chat operation."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from apitwin import specs
from apitwin.mockserver import create_app
from apitwin.mockserver.behaviours.text import count_tokens, prompt_tokens

AUTH = {"Authorization": "Bearer test-key"}


@dataclass(frozen=True, slots=True)
class ChatApi:
    name: str
    path: str
    model: str


CHAT_APIS = [
    ChatApi("aimlapi", "/v1/chat/completions", "anthropic/claude-3-5-haiku"),
    ChatApi("lmdeploy", "/v1/chat/completions", "internlm2"),
    ChatApi("lmdeploy-proxy", "/v1/chat/completions", "internlm2"),
]
IDS = [api.name for api in CHAT_APIS]


@cache
def client(name: str, seed: int = 0) -> TestClient:
    return TestClient(create_app([name], seed=seed, self_check=True), headers=AUTH)


def sse(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) per frame of an event stream."""
    frames = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        frames.append((name, "\n".join(data)))
    return frames


def chunks(text: str) -> tuple[list[dict[str, Any]], str | None]:
    """The JSON chunks of a chat stream and its last raw data line."""
    frames = sse(text)
    payloads = [json.loads(data) for _, data in frames if data != "[DONE]"]
    return payloads, frames[-1][1] if frames else None


def request(api: ChatApi, **fields: Any) -> dict[str, Any]:
    return {"model": api.model, "messages": [{"role": "user", "content": "Say something about streams."}], **fields}


def post(api: ChatApi, body: dict[str, Any], seed: int = 0, **headers: str) -> Any:
    answer = client(api.name, seed).post(api.path, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


def streamed_text(payloads: list[dict[str, Any]], index: int) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for chunk in payloads
        for choice in chunk["choices"]
        if choice["index"] == index and choice.get("delta")
    )


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_plain_answer_echoes_model_and_counts_usage(api: ChatApi) -> None:
    body = request(api)
    value = post(api, body).json()
    assert value["model"] == api.model
    assert len(value["choices"]) == 1
    choice = value["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    content = choice["message"]["content"]
    assert isinstance(content, str) and content
    usage = value["usage"]
    assert usage["completion_tokens"] == count_tokens(content)
    assert usage["prompt_tokens"] == prompt_tokens(body["messages"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_aimlapi_answers_the_chatcmpl_ids_its_pages_show_a_new_one_per_request() -> None:
    """Issue 12, point 3: most of aimlapi's chat examples answer `chatcmpl-…` ids (the spec carries a few as
    examples, from the doc samples); every answer has its own, never a documented one, and a stream one for all its
    chunks."""
    api = CHAT_APIS[0]
    documented = set(
        specs.load(api.name)["components"]["schemas"]["V1ChatCompletions2"]["properties"]["id"]["examples"]
    )
    prompts = [f"Say something about rivers, take {number}." for number in range(12)]
    ids = [
        post(api, {**request(api), "messages": [{"role": "user", "content": text}]}).json()["id"] for text in prompts
    ]
    assert all(re.fullmatch(r"chatcmpl-[A-Za-z0-9]{29}", answer) for answer in ids), ids
    assert len(set(ids)) == len(ids) and not documented & set(ids)
    assert post(api, {**request(api), "messages": [{"role": "user", "content": prompts[0]}]}).json()["id"] == ids[0]
    payloads, _ = chunks(post(api, request(api, stream=True)).text)
    assert len({chunk["id"] for chunk in payloads}) == 1 and payloads[0]["id"].startswith("chatcmpl-")


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_n_choices_and_max_tokens(api: ChatApi) -> None:
    value = post(api, request(api, n=3, max_tokens=5)).json()
    assert [choice["index"] for choice in value["choices"]] == [0, 1, 2]
    for choice in value["choices"]:
        assert count_tokens(choice["message"]["content"]) == 5
        assert choice["finish_reason"] == "length"
    assert value["usage"]["completion_tokens"] == 15


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_max_completion_tokens_takes_precedence(api: ChatApi) -> None:
    value = post(api, request(api, max_completion_tokens=2, max_tokens=50)).json()
    assert count_tokens(value["choices"][0]["message"]["content"]) == 2


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_stream_shape(api: ChatApi) -> None:
    answer = post(api, request(api, stream=True, n=2, stream_options={"include_usage": True}))
    assert answer.headers["content-type"].startswith("text/event-stream")
    payloads, last = chunks(answer.text)
    assert last == "[DONE]"
    assert all(chunk["object"] == "chat.completion.chunk" and chunk["model"] == api.model for chunk in payloads)
    assert len({chunk["id"] for chunk in payloads}) == 1
    *content, final = payloads
    assert (
        final["choices"] == []
        and final["usage"]["total_tokens"] == final["usage"]["prompt_tokens"] + final["usage"]["completion_tokens"]
    )
    assert all(chunk.get("usage") is None for chunk in content)
    for index in (0, 1):
        mine = [chunk["choices"][0] for chunk in content if chunk["choices"][0]["index"] == index]
        assert mine[0]["delta"]["role"] == "assistant"
        assert all(choice.get("finish_reason") is None for choice in mine[:-1])
        assert mine[-1]["finish_reason"] == "stop"
    completion = sum(count_tokens(streamed_text(content, index)) for index in (0, 1))
    assert final["usage"]["completion_tokens"] == completion


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_stream_without_include_usage_has_no_usage(api: ChatApi) -> None:
    payloads, _ = chunks(post(api, request(api, stream=True)).text)
    assert all(chunk["choices"] for chunk in payloads)
    assert all("usage" not in chunk or chunk["usage"] is None for chunk in payloads)


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
@given(
    prompt=st.text(min_size=1, max_size=40),
    n=st.integers(min_value=1, max_value=3),
    limit=st.one_of(st.none(), st.integers(min_value=1, max_value=40)),
    seed=st.integers(min_value=0, max_value=3),
)
def test_stream_adds_up_to_plain_answer(api: ChatApi, prompt: str, n: int, limit: int | None, seed: int) -> None:
    body = {"model": api.model, "messages": [{"role": "user", "content": prompt}], "n": n}
    if limit is not None:
        body["max_tokens"] = limit
    plain = post(api, body, seed).json()
    payloads, last = chunks(post(api, {**body, "stream": True, "stream_options": {"include_usage": True}}, seed).text)
    assert last == "[DONE]"
    for choice in plain["choices"]:
        assert streamed_text(payloads, choice["index"]) == choice["message"]["content"]
        if limit is not None:
            assert count_tokens(choice["message"]["content"]) <= limit
        finish = [
            c["finish_reason"]
            for chunk in payloads
            for c in chunk["choices"]
            if c["index"] == choice["index"] and c.get("finish_reason")
        ]
        assert finish == [choice["finish_reason"]]
    assert payloads[-1]["usage"]["completion_tokens"] == plain["usage"]["completion_tokens"]
    usage = plain["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_same_request_same_bytes_other_prompt_other_text(api: ChatApi) -> None:
    body = request(api)
    assert post(api, body).content == post(api, body).content
    other = post(api, {**body, "messages": [{"role": "user", "content": "Something else entirely."}]}).json()
    assert other["choices"][0]["message"]["content"] != post(api, body).json()["choices"][0]["message"]["content"]
    assert (
        post(api, body, seed=1).json()["choices"][0]["message"]["content"]
        != post(api, body).json()["choices"][0]["message"]["content"]
    )


WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"enum": ["c", "f"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit"],
    "additionalProperties": False,
}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}},
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "parameters": {
                "type": "object",
                "properties": {"zone": {"type": "string", "pattern": "^[A-Z][a-z]+/[A-Z][a-z]+$"}},
                "required": ["zone"],
            },
        },
    },
]


def _calls(value: dict[str, Any]) -> list[dict[str, Any]]:
    return value["choices"][0]["message"].get("tool_calls") or []


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_required_tool_calls_have_arguments_valid_against_the_tool(api: ChatApi) -> None:
    schemas = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}
    for prompt in ("weather please", "time please", "both please"):
        body = {
            "model": api.model,
            "messages": [{"role": "user", "content": prompt}],
            "tools": TOOLS,
            "tool_choice": "required",
        }
        value = post(api, body).json()
        assert value["choices"][0]["finish_reason"] == "tool_calls"
        calls = _calls(value)
        assert calls
        for call in calls:
            jsonschema.validate(json.loads(call["function"]["arguments"]), schemas[call["function"]["name"]])
            assert call["type"] == "function" and call["id"].startswith("call_")


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_tool_choice_none_and_named(api: ChatApi) -> None:
    body = {"model": api.model, "messages": [{"role": "user", "content": "hi"}], "tools": TOOLS}
    assert not _calls(post(api, {**body, "tool_choice": "none"}).json())
    named = post(api, {**body, "tool_choice": {"type": "function", "function": {"name": "get_time"}}}).json()
    assert [call["function"]["name"] for call in _calls(named)] == ["get_time"]


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_auto_tool_choice_calls_a_deterministic_subset(api: ChatApi) -> None:
    seen = set()
    for index in range(12):
        body = {"model": api.model, "messages": [{"role": "user", "content": f"question {index}"}], "tools": TOOLS}
        first, second = post(api, body).json(), post(api, body).json()
        assert _calls(first) == _calls(second)
        seen.add(tuple(call["function"]["name"] for call in _calls(first)))
    assert () in seen and len(seen) > 1


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_unusable_tool_schema_gives_no_call(api: ChatApi) -> None:
    broken = [
        {
            "type": "function",
            "function": {
                "name": "never",
                "parameters": {"type": "object", "required": ["x"], "properties": {"x": False}},
            },
        }
    ]
    value = post(
        api,
        {
            "model": api.model,
            "messages": [{"role": "user", "content": "hi"}],
            "tools": broken,
            "tool_choice": "required",
        },
    ).json()
    assert not _calls(value)
    assert isinstance(value["choices"][0]["message"]["content"], str)
    empty_ok = [
        {
            "type": "function",
            "function": {
                "name": "ping",
                "parameters": {"type": "object", "properties": {"x": {"$ref": "#/$defs/missing"}}},
            },
        }
    ]
    value = post(
        api,
        {
            "model": api.model,
            "messages": [{"role": "user", "content": "hi"}],
            "tools": empty_ok,
            "tool_choice": "required",
        },
    ).json()
    assert [call["function"]["arguments"] for call in _calls(value)] in ([], ["{}"])


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_streamed_tool_calls_add_up(api: ChatApi) -> None:
    body = {
        "model": api.model,
        "messages": [{"role": "user", "content": "weather"}],
        "tools": TOOLS,
        "tool_choice": "required",
    }
    plain = _calls(post(api, body).json())
    payloads, last = chunks(post(api, {**body, "stream": True}).text)
    assert last == "[DONE]"
    joined: dict[int, dict[str, str]] = {}
    for chunk in payloads:
        for piece in chunk["choices"][0]["delta"].get("tool_calls") or []:
            entry = joined.setdefault(piece["index"], {"name": "", "arguments": "", "id": ""})
            entry["id"] = piece.get("id") or entry["id"]
            function = piece.get("function") or {}
            entry["name"] = function.get("name") or entry["name"]
            entry["arguments"] += function.get("arguments") or ""
    assert [joined[index] for index in sorted(joined)] == [
        {"name": c["function"]["name"], "arguments": c["function"]["arguments"], "id": c["id"]} for c in plain
    ]
    assert payloads[-1]["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
@given(
    schema=st.sampled_from(
        [
            WEATHER,
            {
                "type": "object",
                "properties": {"items": {"type": "array", "items": {"type": "number"}, "minItems": 2}},
                "required": ["items"],
            },
            {
                "type": "object",
                "properties": {"name": {"type": "string", "format": "email"}, "kind": {"$ref": "#/$defs/kind"}},
                "required": ["name", "kind"],
                "$defs": {"kind": {"enum": ["a", "b"]}},
            },
        ]
    ),
    prompt=st.text(max_size=20),
)
def test_response_format_json_schema(api: ChatApi, schema: dict[str, Any], prompt: str) -> None:
    form = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
    body = {"model": api.model, "messages": [{"role": "user", "content": prompt}], "response_format": form}
    content = post(api, body).json()["choices"][0]["message"]["content"]
    jsonschema.validate(json.loads(content), schema)
    payloads, _ = chunks(post(api, {**body, "stream": True}).text)
    assert streamed_text(payloads, 0) == content


@pytest.mark.parametrize("api", CHAT_APIS, ids=IDS)
def test_prefer_code_still_bypasses_the_behaviour(api: ChatApi) -> None:
    answer = client(api.name).post(
        api.path, json=request(api), headers={"Prefer": "code=422" if api.name != "aimlapi" else "code=400"}
    )
    assert answer.status_code in (400, 422)
