"""The proxy's judge alone: where a request's path starts in the spec, and what it finds in an exchange."""

from __future__ import annotations

from typing import Any

from apitwin.contracts.proxy.judge import Judge
from apitwin.mockserver.operations import compile_api
from apitwin.recordings.records import RecordedExchange, RecordedRequest

ANSWER = {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}


def operation(operation_id: str, required: str) -> dict[str, Any]:
    body = {"type": "object", "required": [required], "properties": {required: {"type": "string"}}}
    return {
        "operationId": operation_id,
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {"200": ANSWER},
    }


def document(server: str) -> dict[str, Any]:
    """OpenAI's layout in small: ``/completions`` and ``/chat/completions`` under a server path."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": f"https://api.example.com{server}"}],
        "paths": {
            "/completions": {"post": operation("createCompletion", "prompt")},
            "/chat/completions": {"post": operation("createChatCompletion", "messages")},
        },
    }


def request(path: str) -> RecordedExchange:
    body = b'{"messages": "hi"}'
    headers = {"content-type": "application/json"}
    return RecordedExchange(1, "t", RecordedRequest("POST", f"http://gw{path}", headers, body), None)


def test_a_request_under_the_specs_server_path_is_routed_there_not_under_a_longer_prefix():
    judge = Judge(compile_api("t", document("/v1")))
    verdict = judge.request(request("/v1/chat/completions"))
    assert (verdict.label, verdict.findings) == ("POST /chat/completions", [])


def test_a_request_outside_the_server_path_is_still_routed_by_the_prefix_that_matches():
    judge = Judge(compile_api("t", document("/v1")))
    assert judge.request(request("/chat/completions")).label == "POST /chat/completions"
    assert judge.request(request("/v2/chat")).label == "undocumented"
