"""The mock's request log, its admin endpoints, recording instead of rejecting, and given answers."""

from __future__ import annotations

import httpx
import pytest
from starlette.testclient import TestClient

from apitwin.mockserver import create_app
from apitwin.mockserver.request_log import RequestLog
from tests.e2e.conftest import API_KEY, serving

AUTH = {"Authorization": "Bearer key"}
BAD_CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "10"}
GOOD_CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10}


def test_every_request_is_logged_with_its_violations_and_the_log_can_be_emptied() -> None:
    client = TestClient(create_app(["aimlapi"], self_check=True))
    assert client.post("/v1/chat/completions", json=BAD_CHAT, headers=AUTH).status_code == 400
    assert client.post("/v1/chat/completions", json=GOOD_CHAT, headers=AUTH).status_code == 200
    assert client.get("/nowhere", headers=AUTH).status_code == 404

    records = client.get("/_apitwin/requests").json()
    assert [(r["method"], r["path"], r["operation"], r["status"], r["valid"]) for r in records] == [
        ("POST", "/v1/chat/completions", "_v1_chat_completions", 400, False),
        ("POST", "/v1/chat/completions", "_v1_chat_completions", 200, True),
        ("GET", "/nowhere", "", 404, False),
    ]
    violation = records[0]["violations"][0]
    assert (violation["location"], violation["pointer"], violation["keyword"], violation["received"]) == (
        "body",
        "/max_tokens",
        "type",
        '"10"',
    )
    assert records[2]["violations"][0]["location"] == "path"

    assert client.delete("/_apitwin/requests").status_code == 204
    assert client.get("/_apitwin/requests").json() == []
    assert client.post("/_apitwin/requests").status_code == 405


def test_recording_instead_of_rejecting_answers_as_if_valid() -> None:
    log = RequestLog()
    client = TestClient(create_app(["aimlapi"], self_check=True, request_log=log, reject_invalid=False))
    answer = client.post("/v1/chat/completions", json=BAD_CHAT, headers=AUTH)
    assert answer.status_code == 200 and answer.json()["object"] == "chat.completion"
    assert [(v.pointer, v.keyword) for v in log.violations()] == [("/max_tokens", "type")]
    # What cannot be answered at all (no credentials) is still refused, and recorded.
    assert client.post("/v1/chat/completions", json=GOOD_CHAT).status_code == 401
    assert [v.location for v in log.records()[-1].violations] == ["auth"]


def test_a_responder_answers_valid_requests_and_none_falls_back_to_the_generator() -> None:
    given: list[tuple[int, str | None, object] | None] = [
        (429, "application/json", {"message": "slow down", "statusCode": 429}),
        None,
        (204, None, None),
    ]
    seen = []

    def responder(operation):  # type: ignore[no-untyped-def]
        seen.append(operation.operation_id)
        return given.pop(0)

    client = TestClient(create_app(["aimlapi"], responder=responder))
    limited = client.post("/v1/chat/completions", json=GOOD_CHAT, headers=AUTH)
    assert (limited.status_code, limited.json()) == (429, {"message": "slow down", "statusCode": 429})
    assert client.post("/v1/chat/completions", json=GOOD_CHAT, headers=AUTH).json()["object"] == "chat.completion"
    empty = client.post("/v1/chat/completions", json=GOOD_CHAT, headers=AUTH)
    assert (empty.status_code, empty.content) == (204, b"")
    # An invalid request is refused before the responder is asked.
    assert client.post("/v1/chat/completions", json=BAD_CHAT, headers=AUTH).status_code == 400
    assert seen == ["_v1_chat_completions"] * 3


@pytest.mark.e2e
def test_the_log_over_http_from_apitwin_serve() -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with serving("aimlapi") as base, httpx.Client(base_url=base, timeout=60) as client:
        # The first request compiles the operation's validators: seconds on a loaded machine, beyond httpx's 5 s.
        assert client.post("/v1/chat/completions", json=BAD_CHAT, headers=headers).status_code == 400
        records = client.get("/_apitwin/requests").json()
        assert [(r["status"], r["violations"][0]["pointer"]) for r in records] == [(400, "/max_tokens")]
        assert client.delete("/_apitwin/requests").status_code == 204
        assert client.get("/_apitwin/requests").json() == []
