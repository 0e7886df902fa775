"""Embedding answers (mockserver/behaviours/embeddings.py) whole: the same bytes for the same request whether its
vector size has a table yet or not, in both encodings, every answer self-checked against the schema."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.behaviours import unit_vectors
from apitwin.mockserver.behaviours.embeddings import SIZES
from tests.mockserver.test_chat_behaviour import AUTH


def answer(name: str, body: dict[str, Any]) -> bytes:
    """The bytes a new server (so no remembered answer) sends for ``body``, self-checked."""
    client = TestClient(create_app([name], self_check=True), headers=AUTH)
    response = client.post("/v1/embeddings", json=body)
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("aimlapi", {"model": "alibaba/qwen-text-embedding-v3", "input": "one", "dimensions": 77}),
        ("lmdeploy", {"model": "bge", "input": "one", "encoding_format": "base64"}),
        ("lmdeploy", {"model": "bge", "input": "one"}),
    ],
    ids=["aimlapi-dimensions", "lmdeploy-base64", "lmdeploy-floats"],
)
def test_the_same_bytes_before_and_after_the_size_has_a_table(
    name: str, body: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    circles = unit_vectors._Circles()
    monkeypatch.setattr(unit_vectors, "_circles", circles)
    worked_out = answer(name, body)  # the size seen for the first time: its values worked out one by one
    assert not circles._tables
    from_table = answer(name, body)
    assert len(circles._tables) == 1
    assert from_table == worked_out


def test_base64_carries_the_floats_bytes_of_the_float_answer() -> None:
    body = {"model": "bge", "input": ["one", "two words"]}
    floats = TestClient(create_app(["lmdeploy"], self_check=True), headers=AUTH).post("/v1/embeddings", json=body)
    encoded = TestClient(create_app(["lmdeploy"], self_check=True), headers=AUTH).post(
        "/v1/embeddings", json={**body, "encoding_format": "base64"}
    )
    for number, item in enumerate(encoded.json()["data"]):
        raw = base64.b64decode(item["embedding"])
        spelled = floats.json()["data"][number]["embedding"]
        as_float32 = struct.unpack(f"<{len(spelled)}f", struct.pack(f"<{len(spelled)}f", *spelled))
        assert struct.unpack(f"<{len(raw) // 4}f", raw) == as_float32


def test_floats_are_written_in_their_shortest_float32_spelling() -> None:
    """As OpenAI documents an embedding (``0.0023064255``): the fewest digits that read back as the float32, so an
    answer of 1,536 floats is ~19 KB, not the ~32 KB of each float32's exact double (``0.002306425478309393``)."""
    body = {"model": "text-embedding-3-small", "input": "one"}
    raw = TestClient(create_app(["lmdeploy"], self_check=True), headers=AUTH).post("/v1/embeddings", json=body).content
    written = raw.split(b'"embedding":[')[1].split(b"]")[0].split(b",")
    assert len(written) == 1536
    assert max(len(number.lstrip(b"-").removeprefix(b"0.").lstrip(b"0")) for number in written) <= 13
    assert len(raw) < 21_000


@pytest.mark.parametrize(
    ("name", "body", "size"),
    [
        ("aimlapi", {"model": "text-embedding-3-small", "input": "one"}, 1536),
        ("aimlapi", {"model": "text-embedding-ada-002", "input": "one"}, 1536),
        ("lmdeploy", {"model": "openai/text-embedding-3-large", "input": "one"}, 3072),  # behind a vendor prefix
        ("aimlapi", {"model": "text-embedding-3-large", "input": "one", "dimensions": 256}, 256),  # asked for: it wins
    ],
)
def test_well_known_models_answer_their_documented_size(name: str, body: dict[str, Any], size: int) -> None:
    data = json.loads(answer(name, body))["data"]
    assert [len(item["embedding"]) for item in data] == [size]


def test_a_model_nobody_documents_gets_a_stable_size_of_its_own() -> None:
    first = json.loads(answer("lmdeploy", {"model": "acme/embedder-9", "input": "one"}))["data"][0]["embedding"]
    again = json.loads(answer("lmdeploy", {"model": "acme/embedder-9", "input": "two"}))["data"][0]["embedding"]
    assert len(first) == len(again) and len(first) in SIZES
