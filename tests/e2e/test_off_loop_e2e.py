"""Issue 16, point 2, on a real loopback server: one request's heavy work never holds the event loop.

Each test holds a piece of heavy work (validating a large body, building an operation on its first request,
answering a large Responses body) until another request, sent meanwhile, has been answered. Done on the event
loop, the held work would keep that request from ever being answered (the test then fails on its deadlock guard);
done in a worker thread, the loop answers it and the held work goes on. No timing is asserted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from apitwin.mockserver import app as app_module
from apitwin.mockserver import create_app
from apitwin.mockserver.behaviours import responses
from apitwin.mockserver.json_body import OFF_LOOP_BYTES
from apitwin.mockserver.operations import Operation
from tests.e2e.proxying import served_in_thread

GUARD = 30.0
"""Seconds before a held piece of work gives up waiting (a deadlock guard, not a measurement)."""
JSON = {"Content-Type": "application/json"}
AUTH = {"Authorization": "Bearer k"}


class Held:
    """A piece of the server's work, held until the test says the other request was answered."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.released = False
        """Whether the work went on because the other request was answered (not because the guard ran out)."""

    def hold(self) -> None:
        self.started.set()
        self.released = self.release.wait(GUARD)


def answered_meanwhile(base: str, held: Held, send: Callable[[], httpx.Response]) -> httpx.Response:
    """``send()``'s answer, after ``GET /_apitwin/apis`` was answered while ``held`` held ``send``'s work."""
    with ThreadPoolExecutor(1) as pool:
        heavy = pool.submit(send)
        assert held.started.wait(GUARD), "the heavy work never started"
        probe = httpx.get(f"{base}/_apitwin/apis", timeout=GUARD)
        held.release.set()
        assert probe.status_code == 200
        answer = heavy.result(timeout=GUARD)
    assert held.released, "the held work was not released by the probe's answer: it held the event loop"
    return answer


@pytest.mark.e2e
def test_a_request_is_answered_while_a_large_body_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps({"model": "m", "input": [{"not": "a token"}] * 40_000}).encode()
    assert len(body) > OFF_LOOP_BYTES
    held = Held()
    validate_body = app_module.validate_body

    def holding(operation: Operation, form: Any, value: Any) -> Any:
        if isinstance(value, dict) and len(value.get("input", ())) == 40_000:
            held.hold()
        return validate_body(operation, form, value)

    monkeypatch.setattr(app_module, "validate_body", holding)
    with served_in_thread(create_app(["lmdeploy"], state="memory")) as base:
        answer = answered_meanwhile(
            base, held, lambda: httpx.post(f"{base}/v1/embeddings", content=body, headers=JSON, timeout=GUARD)
        )
    assert answer.status_code == 422


@pytest.mark.e2e
def test_a_request_is_answered_while_another_operation_is_built_on_its_first_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = Held()
    build_deferred = Operation.build_deferred

    def holding(operation: Operation) -> None:
        if operation.path == "/responses":
            held.hold()
        build_deferred(operation)

    monkeypatch.setattr(Operation, "build_deferred", holding)
    with served_in_thread(create_app(["openresponses"], state="memory")) as base:
        answer = answered_meanwhile(
            base,
            held,
            lambda: httpx.post(
                f"{base}/responses", json={"model": "gpt-4o", "input": "first"}, headers=AUTH, timeout=GUARD
            ),
        )
    assert answer.status_code == 200 and answer.json()["object"] == "response"


@pytest.mark.e2e
def test_a_request_is_answered_while_a_large_responses_body_is_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "word " * (OFF_LOOP_BYTES // 4)
    held = Held()
    final_response = responses.final_response

    def holding(exchange: Any, found: Any, previous: Any) -> Any:
        if exchange.body.get("input") == text:
            held.hold()
        return final_response(exchange, found, previous)

    monkeypatch.setattr(responses, "final_response", holding)
    with served_in_thread(create_app(["openresponses"], state="memory")) as base:
        warm = httpx.post(f"{base}/responses", json={"model": "gpt-4o", "input": "warm"}, headers=AUTH, timeout=GUARD)
        assert warm.status_code == 200  # the operation is built: what is held below is the answer alone
        answer = answered_meanwhile(
            base,
            held,
            lambda: httpx.post(
                f"{base}/responses", json={"model": "gpt-4o", "input": text}, headers=AUTH, timeout=GUARD
            ),
        )
    assert answer.status_code == 200 and answer.json()["usage"]["input_tokens"] > OFF_LOOP_BYTES // 8
