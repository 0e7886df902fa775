"""Semantics over the generator: the tokenizer, caller schemas, embeddings and images."""

from __future__ import annotations

import base64
import math
import random
import struct
import zlib
from functools import cache
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.behaviours.embeddings import inputs
from apitwin.mockserver.behaviours.structured import caller_value, plan_calls, tool_arguments
from apitwin.mockserver.behaviours.text import compose, count_tokens, pieces, tokenize, truncate
from apitwin.mockserver.operations import answer_random
from tests.mockserver.test_chat_behaviour import AUTH


@cache
def client(name: str) -> TestClient:
    return TestClient(create_app([name], self_check=True), headers=AUTH)


def post(name: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client(name).post(path, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


# ---------------------------------------------------------------- text


@given(st.text())
def test_tokens_concatenate_to_the_text(text: str) -> None:
    assert "".join(tokenize(text)) == text


@given(st.text(), st.integers(min_value=0, max_value=50))
def test_truncation_is_prefix_stable(text: str, limit: int) -> None:
    cut, was_cut = truncate(text, limit)
    assert text.startswith(cut)
    assert count_tokens(cut) == min(limit, count_tokens(text))
    assert was_cut == (count_tokens(text) > limit)


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=5))
def test_pieces_rejoin(seed: int, most: int) -> None:
    text = compose(random.Random(seed))
    parts = pieces(text, random.Random(seed), most)
    assert "".join(parts) == text and all(parts)


def test_answer_text_ignores_streaming_fields_only() -> None:
    def text(seed: int, body: dict[str, Any]) -> str:
        return compose(answer_random(seed, "POST", "/v1/chat/completions", "", b"", body))

    body = {"messages": [{"role": "user", "content": "hi"}]}
    assert text(0, body) == text(0, {**body, "stream": True, "stream_options": {"include_usage": True}})
    assert text(0, body) != text(0, {"messages": [{"role": "user", "content": "ho"}]})
    assert text(0, body) != text(1, body)


# ---------------------------------------------------------------- caller schemas


@given(
    st.sampled_from(
        [
            {
                "type": "object",
                "properties": {"a": {"type": "integer", "multipleOf": 3}},
                "required": ["a"],
                "additionalProperties": False,
            },
            {
                "type": "array",
                "items": {"type": "string", "pattern": "^x[0-9]{2}$"},
                "minItems": 1,
                "uniqueItems": True,
            },
            {
                "anyOf": [{"type": "null"}, {"$ref": "#/$defs/point"}],
                "$defs": {"point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
            },
        ]
    ),
    st.integers(0, 1000),
)
def test_caller_value_is_valid(schema: dict[str, Any], seed: int) -> None:
    found, value = caller_value(schema, random.Random(seed))
    assert found
    jsonschema.validate(value, schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "nonsense"},
        {"$ref": "#/$defs/missing"},
        {"allOf": [{"type": "string"}, {"type": "integer"}]},
        "not a schema",
        42,
    ],
)
def test_broken_caller_schemas_give_nothing(schema: Any) -> None:
    assert caller_value(schema, random.Random(0)) == (False, None)


def test_tool_arguments_fall_back_to_empty_object_only_when_it_validates() -> None:
    assert (
        tool_arguments({"type": "object", "properties": {"x": {"$ref": "#/$defs/nowhere"}}}, random.Random(0)) == "{}"
    )
    assert tool_arguments({"type": "object", "required": ["x"], "properties": {"x": False}}, random.Random(0)) is None
    assert tool_arguments(None, random.Random(0)) is not None


def test_plan_calls_respects_tool_choice() -> None:
    tools = [
        {"type": "function", "function": {"name": "a"}},
        {"type": "function", "name": "b", "parameters": {"type": "object"}},
    ]
    assert plan_calls(tools, "none", random.Random(0)) == []
    assert [call.name for call in plan_calls(tools, {"type": "function", "name": "b"}, random.Random(0))] == ["b"]
    assert all(plan_calls(tools, "required", random.Random(seed)) for seed in range(20))
    assert plan_calls([{"type": "web_search"}], "required", random.Random(0)) == []


# ---------------------------------------------------------------- embeddings

EMBEDDINGS = [("aimlapi", "/v1/embeddings", "alibaba/qwen-text-embedding-v3"), ("lmdeploy", "/v1/embeddings", "bge")]


@pytest.mark.parametrize(("name", "path", "model"), EMBEDDINGS, ids=[item[0] for item in EMBEDDINGS])
def test_one_embedding_per_input_with_stable_dimension(name: str, path: str, model: str) -> None:
    value = post(name, path, {"model": model, "input": ["one", "two words", "three"]})
    assert [item["index"] for item in value["data"]] == [0, 1, 2]
    sizes = {len(item["embedding"]) for item in value["data"]}
    assert len(sizes) == 1
    for item in value["data"]:
        assert math.isclose(math.sqrt(sum(x * x for x in item["embedding"])), 1.0, rel_tol=1e-4)
    again = post(name, path, {"model": model, "input": "two words"})
    assert again["data"][0]["embedding"] == value["data"][1]["embedding"]
    assert value["usage"]["total_tokens"] == count_tokens("one") + count_tokens("two words") + count_tokens("three")


def test_dimensions_parameter_and_declared_default() -> None:
    assert (
        len(
            post(
                "aimlapi", "/v1/embeddings", {"model": "alibaba/qwen-text-embedding-v3", "input": "x", "dimensions": 64}
            )["data"][0]["embedding"]
        )
        == 64
    )
    assert (
        len(
            post("aimlapi", "/v1/embeddings", {"model": "alibaba/qwen-text-embedding-v3", "input": "x"})["data"][0][
                "embedding"
            ]
        )
        == 1024
    )


def test_base64_encoding_is_little_endian_float32() -> None:
    floats = post("lmdeploy", "/v1/embeddings", {"model": "bge", "input": "hello"})["data"][0]["embedding"]
    encoded = post("lmdeploy", "/v1/embeddings", {"model": "bge", "input": "hello", "encoding_format": "base64"})[
        "data"
    ][0]["embedding"]
    raw = base64.b64decode(encoded)
    as_float32 = struct.unpack(f"<{len(floats)}f", struct.pack(f"<{len(floats)}f", *floats))  # as a client reads them
    assert struct.unpack(f"<{len(raw) // 4}f", raw) == as_float32


def test_base64_is_not_sent_where_the_schema_forbids_it() -> None:
    value = post(
        "aimlapi",
        "/v1/embeddings",
        {"model": "alibaba/qwen-text-embedding-v3", "input": "hello", "encoding_format": "base64"},
    )
    assert isinstance(value["data"][0]["embedding"], list)


def test_input_items() -> None:
    assert inputs("a") == ["a"]
    assert inputs([1, 2, 3]) == [[1, 2, 3]]
    assert inputs([[1, 2], [3]]) == [[1, 2], [3]]
    assert inputs(["a", "b"]) == ["a", "b"]
    assert inputs([]) is None and inputs(5) is None and inputs([{"x": 1}]) is None


# ---------------------------------------------------------------- images


def _png_ok(data: bytes) -> bool:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return False
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            return False
        offset += 12 + length
    return True


@pytest.mark.parametrize(("model", "count_field"), [("dall-e-2", "n"), ("alibaba/qwen-image", "num_images")])
def test_images_count_and_url(model: str, count_field: str) -> None:
    value = post("aimlapi", "/v1/images/generations", {"model": model, "prompt": "a red fox", count_field: 3})
    assert len(value["data"]) == 3
    assert all(item["url"].startswith("http://testserver/_apitwin/media/") for item in value["data"])
    assert not any(item.get("b64_json") for item in value["data"])
    assert len({item["url"] for item in value["data"]}) == 3


def test_an_image_url_serves_the_image_the_inline_answer_carries() -> None:
    """Image URLs point at the mock (as job results do) and give the very PNG the b64_json answer holds."""
    http = client("aimlapi")
    asked = {"model": "dall-e-2", "prompt": "a red fox", "n": 2}
    urls = http.post("/v1/images/generations", json=asked).json()["data"]
    inline = http.post("/v1/images/generations", json={**asked, "response_format": "b64_json"}).json()["data"]
    for by_url, by_value in zip(urls, inline, strict=True):
        fetched = http.get(by_url["url"])
        assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
        assert fetched.content == base64.b64decode(by_value["b64_json"]) and _png_ok(fetched.content)


def test_images_inline_base64_png() -> None:
    value = post(
        "aimlapi",
        "/v1/images/generations",
        {"model": "dall-e-2", "prompt": "a red fox", "n": 2, "response_format": "b64_json"},
    )
    assert len(value["data"]) == 2
    for item in value["data"]:
        assert not item.get("url")
        assert _png_ok(base64.b64decode(item["b64_json"]))
