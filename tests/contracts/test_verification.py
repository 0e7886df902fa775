"""WireMock-style verification: requests(operation=...) parsed, assert_called with times and body_matches."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from apitwin.contracts.client_mode import ApitwinMock, MockSettings, RunningMock
from apitwin.contracts.verification import Requests, assert_called, mismatch
from apitwin.mockserver.journal import Body, Entry

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10}


def entry(operation: str, body: object, *, sequence: int = 1, truncated: bool = False) -> Entry:
    text = json.dumps(body)
    return Entry(
        sequence,
        "POST",
        "/v1/chat/completions",
        operation,
        200,
        request_headers=[("Content-Type", "application/json")],
        request_body=Body(text, len(text), truncated),
    )


def test_mismatch_names_the_first_pointer_that_differs() -> None:
    assert mismatch(CHAT, {"model": "gpt-4o"}) is None
    assert mismatch(CHAT, {"messages": [{"role": "user"}]}) is None
    assert mismatch(CHAT, {"model": "o1"}) == '/model: expected "o1", got "gpt-4o"'
    assert mismatch(CHAT, {"messages": [{"role": "system"}]}) == '/messages/0/role: expected "system", got "user"'
    assert mismatch(CHAT, {"stream": True}) == "/stream: missing (expected true)"
    assert mismatch(CHAT, {"max_tokens": 10.0}) == "/max_tokens: expected 10.0, got 10"  # JSON types differ
    assert mismatch(CHAT, {"messages": []}).startswith("/messages: expected []")
    assert mismatch("text", {"a/b": 1}) == '/: expected an object, got "text"'
    assert mismatch({"a/b": 2}, {"a/b": 1}) == "/a~1b: expected 1, got 2"


def test_requests_called_gives_parsed_bodies_for_one_operation() -> None:
    requests = Requests([entry("createChatCompletion", CHAT), entry("listModels", {}, sequence=2)])
    assert len(requests) == 2 and requests[0].operation == "createChatCompletion"  # still the list of records
    [seen] = requests(operation="createChatCompletion")
    assert seen.body == CHAT and seen.headers == {"content-type": "application/json"} and seen.valid
    [cut] = Requests([entry("createChatCompletion", CHAT, truncated=True)])()
    assert cut.body is None and cut.body_truncated


def test_assert_called_passes_with_the_matching_calls() -> None:
    entries = [entry("createChatCompletion", CHAT), entry("createChatCompletion", {**CHAT, "model": "o1"}, sequence=2)]
    assert len(assert_called(entries, "createChatCompletion", times=2)) == 2
    [matching] = assert_called(entries, "createChatCompletion", times=1, body_matches={"model": "o1"})
    assert matching.sequence == 2


def test_assert_called_fails_with_each_call_and_why_it_did_not_match() -> None:
    entries = [entry("createChatCompletion", CHAT), entry("createChatCompletion", {**CHAT, "model": "o1"}, sequence=2)]
    with pytest.raises(AssertionError) as failure:
        assert_called(entries, "createChatCompletion", times=1, body_matches={"model": "gpt-5"})
    assert str(failure.value) == (
        'apitwin: expected createChatCompletion to be called 1 time(s) with a body matching {"model": "gpt-5"}; '
        "it was called 2 time(s), 0 matching\n"
        '  #1 POST /v1/chat/completions -> 200: /model: expected "gpt-5", got "gpt-4o"\n'
        '  #2 POST /v1/chat/completions -> 200: /model: expected "gpt-5", got "o1"'
    )


def test_assert_called_on_an_operation_never_called_lists_those_that_were() -> None:
    with pytest.raises(AssertionError, match="called at least once; it was called 0 time") as failure:
        assert_called([entry("listModels", {})], "createChatCompletion", api="aimlapi")
    assert str(failure.value).endswith("operations called on aimlapi: listModels")
    with pytest.raises(AssertionError, match="raise journal_body_bytes"):
        assert_called([entry("op", CHAT, truncated=True)], "op", body_matches={"model": "gpt-4o"})


def test_the_fixtures_mock_verifies_what_a_client_sent() -> None:
    running = RunningMock(MockSettings("aimlapi"))
    mock = ApitwinMock(running, running.settings)
    client = TestClient(running.app, headers=mock.headers)
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
    assert client.post("/v1/chat/completions", json={**CHAT, "max_tokens": "10"}).status_code == 400
    operation = mock.requests[0].operation
    assert [seen.body for seen in mock.requests(operation=operation)] == [CHAT, {**CHAT, "max_tokens": "10"}]
    assert mock.requests(operation=operation)[0].headers["authorization"] == "Bearer [masked]"
    mock.assert_called(operation, times=1, body_matches={"max_tokens": 10})
    with pytest.raises(AssertionError, match=r"#2 POST /v1/chat/completions -> 400: /max_tokens: expected 10"):
        mock.assert_called(operation, times=2, body_matches={"max_tokens": 10})
