"""apitwin check-traffic: recorded exchanges (HAR, schemathesis cassettes) judged against a spec."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner
from starlette.testclient import TestClient

from apitwin.contracts.cli import main
from apitwin.contracts.sse import parse_events
from apitwin.mockserver import create_app
from apitwin.recordings.records import TrafficError, read_traffic
from apitwin.specs.catalogue import shipped
from tests.e2e.conftest import API_KEY, serving

FIXTURES = Path(__file__).parent / "fixtures"
ST = str(Path(sys.executable).parent / "st")
CHAT = {"model": "internlm", "messages": [{"role": "user", "content": "Hello"}]}


def har_entry(response: httpx.Response) -> dict:
    """One HAR 1.2 entry from a real exchange, as a recording proxy would write it."""
    request = response.request
    entry = {
        "startedDateTime": "2025-01-01T00:00:00Z",
        "time": 1,
        "request": {
            "method": request.method,
            "url": str(request.url),
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": name, "value": value} for name, value in request.headers.items()],
            "queryString": [{"name": name, "value": value} for name, value in request.url.params.multi_items()],
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(request.content),
        },
        "response": {
            "status": response.status_code,
            "statusText": response.reason_phrase,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": name, "value": value} for name, value in response.headers.items()],
            "cookies": [],
            "content": {
                "size": len(response.content),
                "mimeType": response.headers.get("content-type", ""),
                "text": response.text,
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(response.content),
        },
        "cache": {},
        "timings": {"send": 0, "wait": 1, "receive": 0},
    }
    if request.content:
        entry["request"]["postData"] = {
            "mimeType": request.headers.get("content-type", ""),
            "text": request.content.decode(),
        }
    return entry


def har(entries: list[dict]) -> dict:
    return {"log": {"version": "1.2", "creator": {"name": "apitwin tests", "version": "1"}, "entries": entries}}


@pytest.fixture(scope="module")
def recorded() -> dict:
    """Real exchanges with the lmdeploy mock, mounted under /lmdeploy beside another API."""
    client = TestClient(create_app(["lmdeploy", "sequrity"], self_check=True, seed=3))
    responses = [
        client.post("/lmdeploy/v1/chat/completions", json=CHAT),
        client.post("/lmdeploy/v1/chat/completions", json={**CHAT, "stream": True}),
        client.get("/lmdeploy/v1/models"),
        client.post("/lmdeploy/v1/completions", json={"model": "internlm", "prompt": "Say hi", "stream": True}),
        client.get("/lmdeploy/health"),
    ]
    assert [response.status_code for response in responses] == [200, 200, 200, 200, 200]
    assert responses[1].headers["content-type"].startswith("text/event-stream")
    return har([har_entry(response) for response in responses])


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check-traffic", *args])
    return result.exit_code, result.output


def write(tmp_path: Path, document: dict, name: str = "traffic.har") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def check_json(tmp_path: Path, document: dict, *extra: str) -> tuple[int, dict]:
    code, output = run("lmdeploy", write(tmp_path, document), "--json", *extra)
    return code, json.loads(output)


def violations(report: dict) -> list[dict]:
    return [violation for exchange in report["exchanges"] for violation in exchange["violations"]]


def test_real_exchanges_with_the_mock_pass_and_the_base_path_is_detected(tmp_path, recorded):
    code, report = check_json(tmp_path, recorded)
    assert code == 0, violations(report)
    assert report["base_path"] == "/lmdeploy"
    assert report["summary"] == {"exchanges": 5, "ok": 5, "violating": 0, "violations": 0, "intentionally_invalid": 0}
    assert [exchange["operation"] for exchange in report["exchanges"]][:3] == [
        "post_v1_chat_completions",
        "post_v1_chat_completions",
        "get_v1_models",
    ]


def test_text_output_has_a_line_per_exchange_and_a_summary(tmp_path, recorded):
    code, output = run("lmdeploy", write(tmp_path, recorded))
    lines = output.strip().splitlines()
    assert code == 0
    assert lines[0].startswith("OK   #1 POST /v1/chat/completions (post_v1_chat_completions) → 200")
    assert lines[-1] == "5 exchanges: 5 OK, 0 violating (0 violations); base path /lmdeploy"


def test_a_response_missing_a_required_field_fails_naming_the_pointer(tmp_path, recorded):
    altered = copy.deepcopy(recorded)
    content = altered["log"]["entries"][0]["response"]["content"]
    body = json.loads(content["text"])
    del body["choices"][0]["message"]["role"]
    content["text"] = json.dumps(body)
    code, report = check_json(tmp_path, altered)
    assert code == 1
    [found] = violations(report)
    assert (found["location"], found["pointer"], found["keyword"]) == (
        "response body",
        "/choices/0/message",
        "required",
    )
    assert "'role' is a required property" in found["message"]
    assert report["summary"]["violating"] == 1


def test_a_wrong_type_in_a_response_fails_with_expected_and_received(tmp_path, recorded):
    altered = copy.deepcopy(recorded)
    content = altered["log"]["entries"][2]["response"]["content"]
    body = json.loads(content["text"])
    body["data"] = "not a list"
    content["text"] = json.dumps(body)
    code, output = run("lmdeploy", write(tmp_path, altered))
    assert code == 1
    assert "FAIL #3 GET /v1/models (get_v1_models) → 200" in output
    assert 'response body /data: expected type "array", received "not a list"' in output


def test_an_event_with_an_invalid_payload_fails_naming_event_and_pointer(tmp_path, recorded):
    altered = copy.deepcopy(recorded)
    content = altered["log"]["entries"][1]["response"]["content"]
    events = parse_events(content["text"])
    assert events[-1].data == "[DONE]" and len(events) >= 3
    payload = json.loads(events[1].data)
    payload["created"] = "yesterday"
    content["text"] = content["text"].replace(events[1].data, json.dumps(payload), 1)
    code, report = check_json(tmp_path, altered)
    assert code == 1
    [found] = violations(report)
    assert (found["location"], found["pointer"], found["received"]) == ("event 2", "/data/created", '"yesterday"')


def test_an_event_that_is_not_json_and_one_after_the_terminator_fail(tmp_path, recorded):
    altered = copy.deepcopy(recorded)
    content = altered["log"]["entries"][3]["response"]["content"]
    content["text"] = content["text"].replace("data: {", "data: {oops", 1) + "data: {}\n\n"
    code, report = check_json(tmp_path, altered)
    assert code == 1
    found = violations(report)
    assert found[0]["location"] == "event 1" and "is not JSON" in found[0]["message"]
    assert "after the stream's terminator" in found[-1]["message"]


def test_an_invalid_request_body_fails_naming_the_pointer(tmp_path, recorded):
    altered = copy.deepcopy(recorded)
    post = altered["log"]["entries"][0]["request"]["postData"]
    post["text"] = json.dumps({**CHAT, "temperature": "hot"})
    code, report = check_json(tmp_path, altered)
    assert code == 1
    [found] = violations(report)
    assert (found["location"], found["pointer"], found["received"]) == ("request body", "/temperature", '"hot"')


def test_undeclared_status_content_type_and_undocumented_operations_fail(tmp_path, recorded):
    altered = copy.deepcopy(recorded)
    entries = altered["log"]["entries"]
    entries[2]["response"]["status"] = 418
    entries[4]["response"]["headers"] = [{"name": "content-type", "value": "application/xml"}]
    unknown = copy.deepcopy(entries[2])
    unknown["request"]["url"] = "http://testserver/lmdeploy/v1/unknown"
    wrong_method = copy.deepcopy(entries[2])
    wrong_method["request"]["method"] = "DELETE"
    entries += [unknown, wrong_method]
    code, report = check_json(tmp_path, altered)
    assert code == 1
    by_number = {
        exchange["number"]: [v["location"] for v in exchange["violations"]] for exchange in report["exchanges"]
    }
    assert by_number == {1: [], 2: [], 3: ["status"], 4: [], 5: ["content-type"], 6: ["route"], 7: ["route"]}
    messages = [v["message"] for v in violations(report)]
    assert any("undocumented operation: the spec has no path matching /v1/unknown" in m for m in messages)
    assert any("DELETE is not declared on /v1/models (declared: GET)" in m for m in messages)


def test_explicit_base_path_and_paths_outside_it(tmp_path, recorded):
    code, report = check_json(tmp_path, recorded, "--base-path", "/lmdeploy/")
    assert code == 0 and report["base_path"] == "/lmdeploy"
    code, report = check_json(tmp_path, recorded, "--base-path", "/elsewhere")
    assert code == 1
    assert report["summary"]["violating"] == 5
    assert "outside the base path /elsewhere" in violations(report)[0]["message"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        ('{"log": ', "malformed JSON at line 1"),
        ('{"entries": []}', "neither a HAR file"),
        ("a: [1,\n", "malformed YAML"),
        ('{"log": {"entries": [{"request": {"url": 3}}]}}', "log.entries[0].request: method and url must be strings"),
        (
            "http_interactions:\n- request: {uri: 'http://x/health', method: GET}\n  response: {status: {code: abc}}\n",
            "response.status.code",
        ),
    ],
)
def test_unreadable_input_exits_2_naming_file_and_reason(tmp_path, content, reason):
    path = tmp_path / "recording.txt"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["check-traffic", "lmdeploy", str(path)])
    assert result.exit_code == 2
    assert str(path) in result.output and reason in result.output


def test_unknown_api_exits_2(tmp_path, recorded):
    code, output = run("no-such-api", write(tmp_path, recorded))
    assert code == 2 and "not a shipped API" in output


def test_cassette_with_preserved_bytes_truncation_and_no_response():
    exchanges = read_traffic(FIXTURES / "preserved_bytes.yaml")
    assert [exchange.source for exchange in exchanges] == ["interaction 'a1'", "interaction 'b2'", "interaction 'c3'"]
    assert json.loads(exchanges[0].response.body)["object"] == "list"
    assert exchanges[1].response.truncated
    assert exchanges[2].response is None and exchanges[2].intentionally_invalid
    code, output = run("lmdeploy", str(FIXTURES / "preserved_bytes.yaml"))
    assert code == 0, output
    assert "note: the recorder truncated the response body; body not checked" in output
    assert "note: no response was recorded (the request failed)" in output


def test_har_form_params_and_base64_content_are_read(tmp_path):
    document = har(
        [
            {
                "request": {
                    "method": "POST",
                    "url": "http://h/x",
                    "headers": [],
                    "postData": {
                        "mimeType": "application/x-www-form-urlencoded",
                        "params": [{"name": "a", "value": "1 2"}],
                    },
                },
                "response": {
                    "status": 200,
                    "headers": [],
                    "content": {"size": 2, "mimeType": "application/json", "text": "e30=", "encoding": "base64"},
                },
            },
            {
                "request": {"method": "GET", "url": "http://h/y", "headers": []},
                "response": {"status": 0, "headers": [], "content": {}},
            },
        ]
    )
    exchanges = read_traffic(Path(write(tmp_path, document)))
    assert exchanges[0].request.body == b"a=1+2"
    assert exchanges[0].response.body == b"{}"
    assert exchanges[1].response is None


def test_parse_events_follows_the_framing_rules():
    text = ': comment\r\nevent: delta\r\ndata: {"a":\r\ndata: 1}\r\n\r\nid: 7\n\ndata:[DONE]\n'
    events = parse_events(text)
    assert [(event.number, event.name, event.data) for event in events] == [
        (1, "delta", '{"a":\n1}'),
        (2, None, "[DONE]"),
    ]


def test_read_traffic_rejects_a_directory(tmp_path):
    with pytest.raises(TrafficError, match="is a directory"):
        read_traffic(tmp_path)


@pytest.mark.e2e
def test_a_real_schemathesis_cassette_of_the_loopback_mock_passes(tmp_path):
    cassette = tmp_path / "cassette.yaml"
    with serving("lmdeploy") as base:
        result = subprocess.run(
            [
                ST,
                "run",
                str(shipped("lmdeploy").spec_path),
                "--url",
                base,
                "--max-examples",
                "2",
                "--seed",
                "1",
                "--no-color",
                "--phases",
                "examples,fuzzing",
                "-H",
                f"Authorization: Bearer {API_KEY}",
                "--report",
                "vcr",
                "--report-vcr-path",
                str(cassette),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-3000:]
    code, output = run("lmdeploy", str(cassette), "--json")
    report = json.loads(output)
    assert code == 0, violations(report)
    summary = report["summary"]
    assert summary["exchanges"] >= 25 and summary["violating"] == 0
    interactions = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    streamed = [
        item
        for item in interactions["http_interactions"]
        if item["response"] and "text/event-stream" in json.dumps(item["response"]["headers"])
    ]
    assert streamed, "the run recorded no stream"

    # The same cassette with one streamed event broken is caught, naming the event.
    body = streamed[0]["response"]["body"]
    first = parse_events(body["string"])[0].data
    body["string"] = body["string"].replace(first, "[42]", 1)
    cassette.write_text(yaml.safe_dump(interactions, allow_unicode=True), encoding="utf-8")
    code, output = run("lmdeploy", str(cassette), "--json")
    assert code == 1
    [found, *_] = violations(json.loads(output))
    assert (found["location"], found["pointer"], found["received"]) == ("event 1", "/data", "[42]")


# -- stream defects: the checks `apitwin fuzz` runs, on recordings ----------------------------------


def _streamed(api: str, path: str, body: dict) -> httpx.Response:
    client = TestClient(create_app([api], self_check=True, seed=3))
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    return response


def _with_events(entry: dict, events: list[tuple[str | None, str]]) -> dict:
    entry["response"]["content"]["text"] = "".join(
        (f"event: {name}\n" if name else "") + f"data: {data}\n\n" for name, data in events
    )
    return entry


def _check_one(tmp_path: Path, api: str, entry: dict) -> tuple[int, list[dict]]:
    code, output = run(api, write(tmp_path, har([entry])), "--json")
    return code, violations(json.loads(output))


def test_a_recorded_chat_stream_without_done_fails(tmp_path):
    entry = har_entry(_streamed("lmdeploy", "/v1/chat/completions", {**CHAT, "stream": True}))
    events = [(event.name, event.data) for event in parse_events(entry["response"]["content"]["text"])]
    assert events[-1][1] == "[DONE]"
    assert _check_one(tmp_path, "lmdeploy", entry) == (0, [])
    code, found = _check_one(tmp_path, "lmdeploy", _with_events(entry, events[:-1]))
    assert code == 1
    [violation] = found
    assert violation["location"] == "stream" and "no `data: [DONE]`" in violation["message"]


def test_a_recorded_responses_stream_with_sequence_numbers_out_of_order_fails(tmp_path):
    response = _streamed("openresponses", "/responses", {"model": "gpt-4o", "input": "Hello", "stream": True})
    entry = har_entry(response)
    events = parse_events(entry["response"]["content"]["text"])
    assert [json.loads(event.data)["sequence_number"] for event in events] == list(range(len(events)))
    assert _check_one(tmp_path, "openresponses", entry) == (0, [])
    renumbered = []
    for event in events:  # 0, 1, 2, 4, 3, 5, …: the fourth and fifth events trade numbers
        payload = json.loads(event.data)
        payload["sequence_number"] = {3: 4, 4: 3}.get(event.index, event.index)
        renumbered.append((event.name, json.dumps(payload)))
    code, found = _check_one(tmp_path, "openresponses", _with_events(entry, renumbered))
    assert code == 1
    [violation] = found
    assert (violation["location"], violation["pointer"], violation["received"]) == (
        "event 5",
        "/data/sequence_number",
        "3",
    )
    assert "sequence_number 3 comes after 4" in violation["message"]


def test_a_recorded_stream_without_the_usage_it_was_asked_for_fails(tmp_path):
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    entry = har_entry(_streamed("lmdeploy", "/v1/chat/completions", body))
    assert _check_one(tmp_path, "lmdeploy", entry) == (0, [])
    events = []
    for event in parse_events(entry["response"]["content"]["text"]):
        payload = json.loads(event.data) if event.data != "[DONE]" else None
        if isinstance(payload, dict):
            payload.pop("usage", None)
        events.append((event.name, json.dumps(payload) if payload is not None else event.data))
    code, found = _check_one(tmp_path, "lmdeploy", _with_events(entry, events))
    assert code == 1 and [violation["message"] for violation in found] == [
        "the request set stream_options.include_usage=true but no chunk carries a usage object"
    ]
