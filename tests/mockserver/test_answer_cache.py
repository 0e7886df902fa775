"""Remembered answers: a byte-identical repeat of a request is answered without being parsed and checked again."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.responses import Response
from starlette.testclient import TestClient

from apitwin.mockserver import app as app_module
from apitwin.mockserver import create_app
from apitwin.mockserver.answer_cache import AnswerCache

AUTH = {"Authorization": "Bearer test-key"}
CHAT = {"model": "internlm2", "messages": [{"role": "user", "content": "Hi"}]}


def counted_checks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every body the app checks against its schema, in order."""
    checked: list[Any] = []
    real = app_module.validate_body

    def counting(operation: Any, form: Any, body: Any) -> Any:
        checked.append(body)
        return real(operation, form, body)

    monkeypatch.setattr(app_module, "validate_body", counting)
    return checked


def test_an_identical_request_gets_its_answer_without_being_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = counted_checks(monkeypatch)
    client = TestClient(create_app(["lmdeploy"]), headers=AUTH)
    first = client.post("/v1/chat/completions", json=CHAT)
    again = client.post("/v1/chat/completions", json=CHAT)
    assert first.status_code == 200 and again.content == first.content
    assert len(checked) == 1
    other_header = client.post("/v1/chat/completions", json=CHAT, headers={"X-Trace": "1"})
    assert other_header.content == first.content and len(checked) == 2  # not the same request: checked first
    invalid = {**CHAT, "temperature": "hot"}
    assert client.post("/v1/chat/completions", json=invalid).status_code >= 400
    assert client.post("/v1/chat/completions", json=invalid).status_code >= 400
    assert len(checked) == 4  # a refused request is never remembered


def test_when_invalid_requests_are_answered_every_request_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = counted_checks(monkeypatch)
    client = TestClient(create_app(["lmdeploy"], reject_invalid=False), headers=AUTH)
    for _ in range(3):
        assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
    assert len(checked) == 3  # the journal notes each one's violations, so each is checked


def test_remembered_repeats_are_bounded() -> None:
    cache = AnswerCache(max_entries=3)
    for index in range(5):
        body = f"request {index}".encode()
        cache.put(AnswerCache.key("api", "make", "POST", "/x", "", body, {}), Response(b"{}"), repeat=("whole", body))
    assert cache.repeated(("whole", b"request 4")) is not None
    assert cache.repeated(("whole", b"request 0")) is None
