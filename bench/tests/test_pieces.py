"""The benchmark's pieces that need no server: parsing, decoding, aggregating."""

from __future__ import annotations

import json
import math
import re

import jsonschema_rs
import pytest
from starlette.testclient import TestClient

from apitwin import specs
from bench import bare, handwritten, hotspots, load
from bench.load import Request
from bench.sse_soak import Distribution, StreamResult, _read_events, dechunk

WRK_REPORT = """Running 5s test @ http://127.0.0.1:60921/v1/chat/completions
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    28.53ms   11.09ms  93.01ms   86.66%
    Req/Sec   567.44    174.55   760.00     76.00%
  Latency Distribution
     50%  822.00us
     75%   34.26ms
     90%   42.46ms
     99%    1.20s
  2831 requests in 5.01s, 7.96MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:    564.55
Transfer/sec:      1.59MB
"""


def test_wrk_report_is_read_with_its_units() -> None:
    result = load.parse(WRK_REPORT, 16, 5)
    assert result.requests == 2831
    assert result.requests_per_s == 564.55
    assert result.p50_ms == pytest.approx(0.822)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.bytes_read == round(7.96 * 1024 * 1024)
    assert result.non_2xx == 7
    assert result.socket_errors == 5
    assert result.duration_s == pytest.approx(5.01)


def test_wrk_without_a_report_is_an_error() -> None:
    with pytest.raises(load.WrkFailed):
        load.parse("unable to connect to 127.0.0.1:1 Connection refused", 1, 1)


def test_wrk_without_latency_distribution_is_an_error() -> None:
    without = (
        WRK_REPORT.split("  Latency Distribution")[0]
        + "  2831 requests in 5.01s, 7.96MB read\nRequests/sec:    564.55\n"
    )
    with pytest.raises(load.WrkFailed, match="percentile"):
        load.parse(without, 16, 5)


def test_lua_script_escapes_the_body() -> None:
    body = json.dumps({"content": 'say "hi"\n\\'}) + "\r\n"
    script = load.lua_script(Request("http://x/", "POST", body, (("Content-Type", "application/json"),)))
    lines = script.splitlines()
    assert lines[0] == 'wrk.method = "POST"'
    assert lines[2] == 'wrk.headers["Content-Type"] = "application/json"'
    literal = lines[1].removeprefix("wrk.body = ")
    assert literal.startswith('"') and literal.endswith('"')
    assert _lua_unquote(literal) == body


def _lua_unquote(literal: str) -> str:
    """Read a Lua double-quoted string literal (the escapes lua_script writes)."""
    escapes = {"\\": "\\", '"': '"', "n": "\n", "r": "\r"}
    return re.sub(r"\\(.)", lambda found: escapes[found.group(1)], literal[1:-1])


def test_dechunk_needs_the_terminating_chunk() -> None:
    raw = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    assert dechunk(raw) == (b"hello world", True)
    assert dechunk(raw[:-7]) == (b"hello world", False)


def test_events_end_with_done() -> None:
    result = StreamResult(status=200)
    _read_events(b'data: {"a": 1}\n\ndata: {"a": 2}\n\ndata: [DONE]\n\n', result)
    assert (result.events, result.done, result.error, result.completed) == (3, True, "", True)


def test_done_that_is_not_last_does_not_complete() -> None:
    result = StreamResult(status=200)
    _read_events(b"data: [DONE]\n\ndata: {}\n\n", result)
    assert not result.completed


def test_an_event_that_is_not_json_fails_the_stream() -> None:
    result = StreamResult(status=200)
    _read_events(b"data: {broken\n\ndata: [DONE]\n\n", result)
    assert result.error == "event 1 is not JSON" and not result.completed


def test_distribution_uses_nearest_rank() -> None:
    found = Distribution.of([float(value) for value in range(1, 101)])
    assert (found.count, found.p50_ms, found.p99_ms, found.max_ms) == (100, 50.0, 99.0, 100.0)
    assert Distribution.of([]).p50_ms is None


def test_profile_shares_per_function_not_per_line() -> None:
    collapsed = "\n".join(
        [
            "main (contracts/__main__.py:3);handle (mockserver/app.py:10);validate (mockserver/validation.py:5) 6",
            "main (contracts/__main__.py:3);handle (mockserver/app.py:12);write (asyncio/selector_events.py:1) 4",
        ]
    )
    found = hotspots.aggregate(collapsed, "test")
    assert found.samples == 10
    inclusive = {share.function: share.share for share in found.inclusive}
    assert inclusive == {"validate (mockserver/validation.py)": 0.6}  # entry frames (in every sample) left out
    own = {share.function: share.share for share in found.own}
    assert own == {"validate (mockserver/validation.py)": 0.6, "write (asyncio/selector_events.py)": 0.4}


@pytest.mark.parametrize("size", [15, 16, 553, 2821])
def test_bare_body_has_the_asked_size_and_is_json(size: int) -> None:
    body = bare.fixed_body(size)
    assert len(body) == size
    assert isinstance(json.loads(body), dict)


def test_nan_latency_is_written_as_null(tmp_path, monkeypatch) -> None:
    from bench import report

    monkeypatch.setattr(report, "RESULTS_DIR", tmp_path)
    _, data_path = report.write("x", "# x\n", {"p50_ms": math.nan, "runs": [1.5]})
    assert json.loads(data_path.read_text()) == {"p50_ms": None, "runs": [1.5]}


def test_a_varying_request_numbers_each_body() -> None:
    script = load.lua_script(Request("http://x/", "POST", '{"content":"Hello{n}"}', vary=True))
    assert 'wrk.body = "{\\"content\\":\\"Hello\\"}"' in script
    assert "request = function()" in script and ".. counter .." in script


@pytest.mark.parametrize(
    ("path", "body", "tokens"),
    [
        (
            handwritten.CHAT,
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello there"}]},
            "prompt_tokens",
        ),
        (handwritten.RESPONSES, {"model": "gpt-4o", "input": "Hello there", "store": False}, "input_tokens"),
    ],
)
def test_the_hand_written_floor_answers_as_the_spec_says_and_refuses_what_it_refuses(
    path: str, body: dict[str, object], tokens: str
) -> None:
    """Targets h and hr must do the work they stand for: an answer the spec accepts, a refusal of what it refuses."""
    document = specs.load("aimlapi")
    client = TestClient(handwritten.create_app(document))
    bearer = {"Authorization": "Bearer k"}
    answer = client.post(path, json=body, headers=bearer)
    assert answer.status_code == 200
    schema = document["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    validator = jsonschema_rs.validator_for({**schema, "components": document["components"]})
    assert validator.is_valid(answer.json())
    assert answer.json()["usage"][tokens] == 2
    again = client.post(path, json=body, headers=bearer)
    assert again.json()["id"] == answer.json()["id"]  # seeded by the request
    other = client.post(path, json={**body, "model": "gpt-4o-mini"}, headers=bearer)
    assert other.json()["id"] != answer.json()["id"]
    assert client.post(path, json={"model": 5}, headers=bearer).status_code == 400
    assert client.post(path, json=body).status_code == 401
    assert client.post(path, content=b"{", headers=bearer).status_code == 400
