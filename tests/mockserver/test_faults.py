"""Fault injection: injected statuses in the API's own error shape, latency, slow first byte, cut streams."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from apitwin import specs
from apitwin.mockserver import create_app
from apitwin.mockserver.faults import FaultError, Faults, for_request, parse
from apitwin.specs.validation import SchemaChecker
from tests.mockserver.test_pacing import Sleeps

AUTH = {"Authorization": "Bearer k"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}
LM_CHAT = {"model": "internlm2", "messages": [{"role": "user", "content": "Hello"}], "stream": True}


def error_schema(api: str, path: str, status: str):
    document = specs.load(api)
    response = document["paths"][path]["post"]["responses"][status]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return document, response["content"]["application/json"]["schema"]


def test_parse_reads_rates_and_settings():
    faults = parse("429:0.05, 500:0.01, latency=20, cut=3, first-byte=5")
    assert faults == Faults(rates=((429, 0.05), (500, 0.01)), latency_ms=20.0, first_byte_ms=5.0, cut_after=3)
    assert parse(None) == Faults() and not parse("").active


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("429", "expected STATUS:RATE"),
        ("200:0.5", "error status 400-599"),
        ("429:2", "between 0 and 1"),
        ("429:0.7,500:0.7", "add up to 1.4"),
        ("latency=fast", "latency must be a number"),
        ("cut=-1", "whole number"),
        ("speed=3", "unknown setting 'speed'"),
    ],
)
def test_parse_refuses_bad_specs_naming_the_problem(spec, fragment):
    with pytest.raises(FaultError, match=fragment):
        parse(spec)


def test_a_request_header_overrides_only_what_it_names():
    server = parse("500:0.5", latency_ms=10)
    mine = for_request("cut=2", server)
    assert mine.rates == ((500, 0.5),) and mine.latency_ms == 10 and mine.cut_after == 2
    assert for_request(None, server) is server


def test_injected_429_has_the_api_error_shape_and_retry_after():
    client = TestClient(create_app(["aimlapi"], self_check=True, faults="429:1"))
    answer = client.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "1"
    document, schema = error_schema("aimlapi", "/v1/chat/completions", "429")
    assert SchemaChecker(document).error(schema, answer.json()) is None
    assert "injected fault: 429" in answer.json()["message"]


SEQURITY = ("sequrity", "/control/chat/v1/responses", {"model": "gpt-4o", "input": "Hello"})
OPENRESPONSES = ("openresponses", "/responses", {"model": "gpt-4o", "input": "Hello"})


@pytest.mark.parametrize(("api", "path", "body"), [("aimlapi", "/v1/chat/completions", CHAT), SEQURITY, OPENRESPONSES])
def test_a_429_asked_for_with_prefer_carries_retry_after_too(api, path, body):
    client = TestClient(create_app([api], self_check=True))
    answer = client.post(path, json=body, headers={**AUTH, "Prefer": "code=429"})
    assert answer.status_code == 429 and answer.headers["retry-after"] == "1"
    other = client.post(path, json=body, headers={**AUTH, "Prefer": "code=500"})
    assert "retry-after" not in other.headers


def test_faults_hit_only_valid_requests():
    client = TestClient(create_app(["aimlapi"], self_check=True, faults="503:1"))
    invalid = client.post("/v1/chat/completions", json={"model": "gpt-4o"}, headers=AUTH)
    assert invalid.status_code == 400


def test_rates_are_honoured_and_reproducible_for_a_seed():
    def statuses(seed: int) -> list[int]:
        client = TestClient(create_app(["lmdeploy"], seed=seed, faults="500:0.3,429:0.2"))
        return [client.get("/v1/models").status_code for _ in range(200)]

    first = statuses(3)
    assert first == statuses(3)
    assert 40 <= first.count(500) <= 80 and 20 <= first.count(429) <= 60 and set(first) == {200, 429, 500}


def test_the_header_injects_for_one_request():
    client = TestClient(create_app(["lmdeploy"], self_check=True))
    assert client.get("/v1/models", headers={"X-Apitwin-Faults": "503:1"}).status_code == 503
    assert client.get("/v1/models").status_code == 200


def test_a_malformed_fault_header_is_a_400_in_the_api_shape():
    client = TestClient(create_app(["lmdeploy"], self_check=True))
    answer = client.post("/v1/chat/completions", json=LM_CHAT, headers={"X-Apitwin-Faults": "503:lots"})
    assert answer.status_code == 400
    assert "X-Apitwin-Faults: a rate must be a number" in answer.text


def test_latency_delays_the_answer():
    sleeps = Sleeps()
    client = TestClient(create_app(["lmdeploy"], sleep=sleeps))
    assert client.get("/v1/models", headers={"X-Apitwin-Faults": "latency=300"}).status_code == 200
    assert sleeps.seconds == [0.3]


def test_slow_first_byte_keeps_the_body_intact():
    sleeps = Sleeps()
    client = TestClient(create_app(["lmdeploy"], seed=1, sleep=sleeps))
    plain = client.get("/v1/models")
    slow = client.get("/v1/models", headers={"X-Apitwin-Faults": "first-byte=300"})
    assert sleeps.seconds == [0.3]
    assert slow.status_code == 200 and slow.content == plain.content


def test_a_cut_stream_breaks_off_after_n_events():
    client = TestClient(create_app(["lmdeploy"], self_check=True, cut_stream_after=2))
    with pytest.raises(Exception) as raised, client.stream("POST", "/v1/chat/completions", json=LM_CHAT) as answer:
        b"".join(answer.iter_bytes())
    assert "cut after 2 events" in str(raised.value)
