"""Text completions behaviour (``behaviours/completions.py``), in-process, on the APIs with ``/v1/completions``."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from tests.mockserver.test_chat_behaviour import AUTH

APIS = ["lmdeploy", "lmdeploy-proxy"]


def client(name: str) -> TestClient:
    return TestClient(create_app([name], self_check=True), headers=AUTH)


@pytest.mark.parametrize("name", APIS)
def test_choices_answer_the_prompt_and_the_stream_adds_up_to_them(name: str) -> None:
    http = client(name)
    body = {"model": "internlm2", "prompt": "Once upon a time", "n": 2, "max_tokens": 12}
    plain = http.post("/v1/completions", json=body).json()
    assert plain["model"] == "internlm2" and [choice["index"] for choice in plain["choices"]] == [0, 1]
    assert all(choice["text"] and choice["finish_reason"] in ("stop", "length") for choice in plain["choices"])
    streamed = http.post("/v1/completions", json={**body, "stream": True}).text
    chunks = [json.loads(line[len("data: ") :]) for line in streamed.splitlines() if line.startswith("data: {")]
    texts = {0: "", 1: ""}
    finishes = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            texts[choice["index"]] += choice["text"]
            if choice.get("finish_reason"):
                finishes[choice["index"]] = choice["finish_reason"]
    assert streamed.rstrip().endswith("data: [DONE]")
    for choice in plain["choices"]:
        assert texts[choice["index"]] == choice["text"] and finishes[choice["index"]] == choice["finish_reason"]


def test_a_budget_cuts_the_text() -> None:
    answer = client("lmdeploy").post("/v1/completions", json={"model": "m", "prompt": "Tell", "max_tokens": 1}).json()
    assert answer["choices"][0]["finish_reason"] == "length" and answer["usage"]["completion_tokens"] <= 1


@pytest.mark.parametrize("name", APIS)
def test_include_usage_adds_a_last_usage_chunk_and_null_usage_before_it(name: str) -> None:
    body = {"model": "m", "prompt": "Tell me", "max_tokens": 8, "stream": True}
    http = client(name)
    plain = http.post("/v1/completions", json={**body, "stream": False}).json()
    streamed = http.post("/v1/completions", json={**body, "stream_options": {"include_usage": True}}).text
    chunks = [json.loads(line[len("data: ") :]) for line in streamed.splitlines() if line.startswith("data: {")]
    *texts, last = chunks
    assert all(chunk["choices"] and chunk["usage"] is None for chunk in texts)
    assert last["choices"] == [] and last["usage"] == plain["usage"]
    without = http.post("/v1/completions", json=body).text
    assert '"usage"' not in without
