"""The fast path answers byte for byte what the slow path answers (issue 15), and self-check still sees every answer.

Two servers per API: ``answer_templates=False`` (every skeleton drawn anew, every stream event made through
``settle``) and the default. For every chat, text-completion, Responses and embeddings operation of every
shipped API, hypothesis draws request bodies with the mock's own generator from the operation's request
schema (so tools, ``n``, ``max_tokens``, response formats, reasoning… all come up), asks for a stream half of
the time where the operation has one, and sends the same request to both: status, headers and body must match.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from apitwin import specs
from apitwin.mockserver import create_app
from apitwin.mockserver.behaviours import chat, completions, embeddings, responses
from apitwin.mockserver.behaviours.skeleton import Skeletons, copy_json
from apitwin.mockserver.generate import Generator
from apitwin.mockserver.operations import CompiledApi, Operation, is_json
from apitwin.mockserver.produce import SelfCheckError
from apitwin.mockserver.validation import validate_body

AUTH = {"Authorization": "Bearer test-key"}
BEHAVIOURS = {"chat": chat, "completions": completions, "responses": responses, "embeddings": embeddings}
HEADERS_THAT_DIFFER = ("date",)


@cache
def client(name: str, fast: bool, self_check: bool = True) -> TestClient:
    app = create_app([name], self_check=self_check, answer_templates=fast, state="memory")
    return TestClient(app, headers=AUTH)


def _cases() -> Iterator[tuple[str, str, str, str]]:
    """(api, behaviour, method, path) of every operation one of the four behaviours answers."""
    for name in specs.names():
        api = create_app([name]).server.apis[name]
        for operation in api.operations:
            for kind, module in BEHAVIOURS.items():
                if "{" not in operation.path and module.match(api, operation) is not None:
                    yield name, kind, operation.method.upper(), operation.path
                    break


CASES = sorted(set(_cases()))


def test_every_kind_of_answer_is_covered() -> None:
    """The property below runs on real operations of each kind (a rename of a behaviour would empty it)."""
    assert {kind for _, kind, _, _ in CASES} == set(BEHAVIOURS)
    assert len({name for name, _, _, _ in CASES}) >= 4


@cache
def _operation(name: str, method: str, path: str) -> tuple[CompiledApi, Operation]:
    api = client(name, True).app.server.apis[name]  # type: ignore[attr-defined]
    found = next(item for item in api.operations if item.method.upper() == method and item.path == path)
    return api, found


@cache
def _body_generator(name: str, method: str, path: str) -> Any:
    api, operation = _operation(name, method, path)
    media_type, body = next((media, body) for media, body in operation.bodies.items() if is_json(media))
    return Generator(api.document, optional_rate=0.3).compile(body.schema, f"#/request/{media_type}"), body


def _streams(operation: Operation) -> bool:
    success = operation.responses.get(operation.success_status())
    return success is not None and any(media.stream is not None for media in success.media.values())


@pytest.mark.parametrize(("name", "kind", "method", "path"), CASES, ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES])
@given(draw=st.integers(0, 2**32), stream=st.booleans(), seed=st.one_of(st.none(), st.integers(0, 1000)))
def test_fast_answers_equal_slow_ones(name: str, kind: str, method: str, path: str, draw: int, stream: bool, seed: Any):
    _, operation = _operation(name, method, path)
    generator, request_body = _body_generator(name, method, path)
    body = generator.generate(random.Random(draw))
    assume(isinstance(body, dict))
    if "stream" in body or _streams(operation):
        body["stream"] = stream and _streams(operation)
        body.pop("stream_options", None) if not body["stream"] else None
    assume(not validate_body(operation, request_body, body))
    headers = {"Prefer": f"seed={seed}"} if seed is not None else {}

    slow = client(name, False).request(method, path, json=body, headers=headers)
    fast = client(name, True).request(method, path, json=body, headers=headers)

    event(f"status {slow.status_code}, {'stream' if body.get('stream') else 'plain'}")
    assert fast.status_code == slow.status_code
    assert _headers(fast) == _headers(slow)
    assert fast.content == slow.content
    assert slow.status_code < 500, slow.text[:500]


def _headers(response: Any) -> list[tuple[str, str]]:
    return [(key, value) for key, value in response.headers.items() if key not in HEADERS_THAT_DIFFER]


# ---------------------------------------------------------------- the pieces the fast path relies on


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    )
)
def test_copy_json_is_a_deep_copy(value: Any) -> None:
    copied = copy_json(value)
    assert copied == value
    assert repr(copied) == repr(value)  # -0.0 stays -0.0, integers stay integers


def test_kept_skeletons_are_bounded() -> None:
    skeletons = Skeletons(keep=True, max_kept=3)
    api = client("aimlapi", True).app.server.apis["aimlapi"]  # type: ignore[attr-defined]
    media = next(m for op in api.operations for r in op.responses.values() for m in r.media.values() if m.generator)
    for seed in range(10):
        skeletons.draw(media.generator, "role", seed, random.Random(0))
    assert len(skeletons) == 3


# ---------------------------------------------------------------- self-check sees the fast path's answers


def _broken_skeletons(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every skeleton comes out with a value its schema forbids (an ``object`` that is a number)."""
    real = Skeletons.draw

    def broken(self: Skeletons, *args: Any, **kwargs: Any) -> Any:
        value = real(self, *args, **kwargs)
        if isinstance(value, dict) and "object" in value:
            value["object"] = 12345
        return value

    monkeypatch.setattr(Skeletons, "draw", broken)


CHAT = {"model": "internlm2", "messages": [{"role": "user", "content": "Hi"}]}


def test_self_check_refuses_a_broken_fast_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    _broken_skeletons(monkeypatch)
    checked = TestClient(create_app(["lmdeploy"], self_check=True), headers=AUTH)
    answer = checked.post("/v1/chat/completions", json=CHAT)
    assert answer.status_code == 500 and "self-check" in answer.text
    unchecked = TestClient(create_app(["lmdeploy"], self_check=False), headers=AUTH)
    assert unchecked.post("/v1/chat/completions", json=CHAT).json()["object"] == 12345


def test_self_check_refuses_a_broken_fast_stream_event(monkeypatch: pytest.MonkeyPatch) -> None:
    _broken_skeletons(monkeypatch)
    checked = TestClient(create_app(["lmdeploy"], self_check=True), headers=AUTH)
    with pytest.raises(SelfCheckError, match="event payload"):
        checked.post("/v1/chat/completions", json={**CHAT, "stream": True})
