"""One failure per cause, and a curl that re-sends exactly what was sent (only the credential hidden)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from apitwin.contracts.fuzz.events import Exchange, Failure
from apitwin.contracts.fuzz.repro import basic_token, curl, hide, reveal
from apitwin.contracts.fuzz.runner import add_cause, pointer_shape
from apitwin.contracts.sse import mask_instance
from tests.contracts.conftest import fuzz
from tests.contracts.faulty_gateway import faulty_gateway
from tests.contracts.test_fuzz_defects import CASES
from tests.e2e.conftest import API_KEY

SECRET = "sk-test-'quoted'-$HOME-secret"


@contextlib.contextmanager
def echo_server() -> Iterator[tuple[str, list[dict]]]:
    """A loopback HTTP server that records each request (method, path, headers, body) and answers 200."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": {name.lower(): value for name, value in self.headers.items()},
                    "body": self.rfile.read(length),
                }
            )
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_DELETE = _record

        def log_message(self, *args: object) -> None: ...

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def prepared(method: str, url: str, **kwargs) -> requests.PreparedRequest:
    return requests.Request(method, url, **kwargs).prepare()


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        (
            "POST",
            "/v1/chat/completions",
            {"json": {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "it's $5 `now`\n\\"}]}},
        ),
        ("GET", "/v1/models", {"params": {"key": SECRET, "limit": "2"}}),
        ("POST", "/v1/files", {"files": {"file": ("a.bin", bytes(range(256)))}, "data": {"purpose": "x"}}),
        ("DELETE", "/v1/files/f-1", {}),
    ],
)
def test_the_curl_re_sends_exactly_what_was_sent(method, path, kwargs):
    with echo_server() as (base, seen):
        original = prepared(method, base + path, headers={"Authorization": f"Bearer {SECRET}"}, **kwargs)
        command = curl(original, SECRET)
        assert SECRET not in command and "$APITWIN_API_KEY" in command
        assert "[Filtered]" not in command
        environment = {**os.environ, "APITWIN_API_KEY": SECRET}
        subprocess.run(["bash", "-c", command + " --silent --output /dev/null"], check=True, env=environment)
    [received] = seen
    sent_body = original.body.encode() if isinstance(original.body, str) else original.body or b""
    assert received["method"] == method
    assert base + received["path"] == original.url
    assert received["body"] == sent_body
    assert received["headers"]["authorization"] == f"Bearer {SECRET}"
    if original.headers.get("Content-Type"):
        assert received["headers"]["content-type"] == original.headers["Content-Type"]


@pytest.mark.parametrize("key", [SECRET, "user:pa$$word"])
def test_basic_credentials_are_re_sent_by_curl_and_hidden_everywhere(key):
    """http basic: the key (or a ``user:password`` key) travels base64-encoded, where ``hide`` missed it."""
    token = basic_token(key)
    with echo_server() as (base, seen):
        original = prepared("GET", base + "/v1/models", headers={"Authorization": f"Basic {token}"})
        command = curl(original, key)
        assert token not in command and key not in command and "-u " in command
        environment = {**os.environ, "APITWIN_API_KEY": key}
        subprocess.run(["bash", "-c", command + " --silent --output /dev/null"], check=True, env=environment)
    [received] = seen
    assert received["headers"]["authorization"] == f"Basic {token}"
    hidden = hide(f"Authorization: Basic {token}", key)
    assert hidden == "Authorization: Basic $APITWIN_API_KEY"
    assert reveal(hidden, key) == f"Authorization: Basic {token}"
    assert base64.b64decode(token).decode() == (key if ":" in key else f"apitwin:{key}")


def test_only_the_credential_is_hidden():
    request = prepared("POST", "http://gw/v1/chat", headers={"X-Api-Key": "k1"}, json={"max_tokens": 7, "token": "t"})
    command = curl(request, "k1")
    assert '"max_tokens": 7' in command and '"token": "t"' in command
    assert '-H "X-Api-Key: $APITWIN_API_KEY"' in command
    assert hide("key=sk-live-1&x=sk-live-12", "sk-live-1") == "key=$APITWIN_API_KEY&x=$APITWIN_API_KEY2"
    # a short test key is hidden only where it stands alone: it must not eat the letters of other words
    hidden = hide("Connection: keep-alive; Bearer k; x=k1", "k")
    assert hidden == "Connection: keep-alive; Bearer $APITWIN_API_KEY; x=k1"
    # the curl too: it turned /links into /lin${APITWIN_API_KEY}s
    short = curl(prepared("GET", "http://gw/links", headers={"Authorization": "Bearer k"}), "k")
    assert " http://gw/links " in short and '"Authorization: Bearer $APITWIN_API_KEY"' in short


def test_pointer_and_value_shapes():
    assert pointer_shape("/events/12/data/choices/0/index") == "/events/*/data/choices/*/index"
    assert mask_instance("'yesterday' is not of type 'integer'", "yesterday") == "… is not of type 'integer'"
    assert mask_instance('12345 is not of type "string"', 12345) == '… is not of type "string"'
    assert mask_instance("'id' is a required property", {"a": 1}) == "'id' is a required property"


def failure(cause: str, body: str, field: str = "", check: str = "sse_event_schema") -> Failure:
    exchange = Exchange("POST", "http://gw/x", {}, body, 200, {}, None, 0.0)
    return Failure("POST /x", check, "t", f"msg {body}", "/p", f"curl {body}", exchange, [check], 1, cause, field)


def test_a_cause_counts_its_requests_and_keeps_the_smallest():
    causes: list[Failure] = []
    add_cause(causes, failure("a", "a much longer request body"))
    add_cause(causes, failure("a", "short"))
    add_cause(causes, failure("b", "other"))
    add_cause(causes, failure("c", "json", field="/model|type|", check="response_schema_conformance"))
    add_cause(causes, failure("d", "streamed", field="/model|type|"))
    assert [(cause.cause, cause.occurrences) for cause in causes] == [("a", 2), ("b", 1), ("c", 2)]
    assert causes[0].curl == "curl short" and causes[0].message == "msg short"
    assert causes[2].checks == ["response_schema_conformance", "sse_event_schema"]


# -- end to end, through the faulty gateway ------------------------------------------------------------


def causes_of(upstream: str, defect: str, api: str, operation: str, report) -> tuple[list[dict], str]:
    with faulty_gateway(upstream, defect, API_KEY) as (url, _):
        result = fuzz(
            api, "--base-url", url, "--operations", operation, "--max-examples", "8", "--seed", "3", "--json", report
        )
    with open(report, encoding="utf-8") as file:
        data = json.load(file)
    return [failure for operation in data["operations"] for failure in operation["failures"]], result.output


@pytest.mark.e2e
@pytest.mark.parametrize("defect", sorted(set(CASES) - {"reorder-events"}))
def test_each_defect_is_one_cause(defect, mock_url, tmp_path):
    api, operation, expected = CASES[defect]
    causes, output = causes_of(mock_url(api), defect, api, operation, str(tmp_path / "run.json"))
    assert len(causes) == 1, [(cause["checks"], cause["message"][:120]) for cause in causes]
    [cause] = causes
    assert expected & set(cause["checks"])
    assert "1 failure (one per cause)" in output
    report = (tmp_path / "run.json").read_text()
    assert API_KEY not in report and "[Filtered]" not in report and "$APITWIN_API_KEY" in cause["curl"]


@pytest.mark.e2e
def test_a_stream_with_every_event_bad_is_one_failure_counting_them(mock_url, tmp_path):
    causes, output = causes_of(
        mock_url("lmdeploy"), "drop-choice-index", *CASES["drop-choice-index"][:2], str(tmp_path / "run.json")
    )
    [cause] = causes
    found = re.match(r"(\d+) of (\d+) events \(first: event 1\): 'index' is a required property", cause["message"])
    assert found and found.group(1) == found.group(2), cause["message"]
    assert cause["occurrences"] > 1 and cause["pointer"] == "/events/0/data/choices/0"
    assert cause["checks"][0] == "sse_event_schema"
    assert f"{found.group(1)} of {found.group(2)} events" in output


@pytest.mark.e2e
def test_a_server_error_seen_by_two_checks_is_shown_once(mock_url, tmp_path):
    causes, output = causes_of(mock_url("lmdeploy"), "server-error", *CASES["server-error"][:2], str(tmp_path / "r"))
    [cause] = causes
    assert cause["checks"] == ["not_a_server_error", "status_code_conformance"]
    assert "not_a_server_error + status_code_conformance" in output
