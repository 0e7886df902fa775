"""Echoes: every answer repeats the settings of its request (``behaviours/echo.py``).

The property runs the whole app in-process: for every operation of every shipped API whose success answer
repeats a request property, bodies drawn from the request's own schema are sent, and each setting of the
answer must be what the request said (as sent, else the request schema's default), and a number the
request schema bounds must stay inside the request's range.
"""

from __future__ import annotations

import math
import random
import re
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from apitwin import specs
from apitwin.mockserver import create_app
from apitwin.mockserver.behaviours import responses
from apitwin.mockserver.behaviours.echo import Echo, completed, echo_for, plainest, served_as
from apitwin.mockserver.behaviours.responses import SERVED_AS
from apitwin.mockserver.behaviours.structured import request_default, shapes_for
from apitwin.mockserver.operations import CompiledApi, Operation, compile_api, is_json
from tests.mockserver.test_chat_behaviour import AUTH


@cache
def compiled(name: str) -> CompiledApi:
    return compile_api(name, specs.load(name))


@cache
def app_client(name: str) -> TestClient:
    # Bearer for most operations; the Azure flow's aliases of aimlapi's chat take the key as `Api-Key`.
    return TestClient(create_app([name], self_check=True), headers={**AUTH, "Api-Key": "k"})


def echoing() -> list[tuple[str, str, str]]:
    found = []
    for name in specs.names():
        api = compiled(name)
        for operation in api.operations:
            success = operation.responses.get(operation.success_status())
            media = (success.media if success else {}).get("application/json")
            if media is not None and echo_for(api, operation, media) is not None:
                found.append((name, operation.method, operation.path))
    return found


ECHOING = echoing()


def _operation(name: str, method: str, path: str) -> tuple[Operation, Echo]:
    api = compiled(name)
    operation = next(op for op in api.operations if op.method == method.upper() and op.path == path)
    media = operation.responses[operation.success_status()].media["application/json"]
    echo = echo_for(api, operation, media)
    assert echo is not None
    return operation, echo


def _concrete(name: str, path: str) -> str:
    """A request path for ``path``'s template: each path parameter's first documented value."""
    declared = specs.load(name)["paths"][path].get("parameters") or []
    values = {item["name"]: (item.get("schema") or {}).get("enum", ["x"])[0] for item in declared}
    return re.sub(r"\{([^}]+)\}", lambda found: values.get(found.group(1), "x"), path)


def _bounds(api: CompiledApi, schema: Any, name: str) -> tuple[float, float]:
    shapes = shapes_for(api)
    low, high = math.inf, -math.inf
    for candidate in shapes.at(schema, name):
        for member in shapes.members(candidate):
            for branch in [member, *[shapes.deref(part) for part in member.get("anyOf") or []]]:
                if isinstance(branch, dict) and ("minimum" in branch or "maximum" in branch):
                    low = min(low, branch.get("minimum", -math.inf))
                    high = max(high, branch.get("maximum", math.inf))
    return (low, high) if low != math.inf else (-math.inf, math.inf)


def test_the_issue_s_settings_are_found() -> None:
    """The Responses operations repeat the settings users named (so the property below is not vacuous)."""
    named = {"model", "temperature", "top_p", "tools", "tool_choice", "text", "instructions", "max_output_tokens"}
    named |= {"metadata", "parallel_tool_calls"}
    for name, path in [("openresponses", "/responses"), ("openai-responses", "/v1/responses")]:
        _, echo = _operation(name, "post", path)
        assert named <= set(echo.names())
    assert ("lmdeploy", "POST", "/v1/completions") in ECHOING
    assert len(ECHOING) >= 12


def test_an_ocr_request_s_pages_are_not_the_answer_s_pages() -> None:
    """Same name, other meaning: page numbers asked for are not page results (no request value fits)."""
    api = compiled("aimlapi")
    operation = next(op for op in api.operations if op.path == "/v1/ocr")
    shapes = shapes_for(api)
    request = next(body for media_type, body in operation.bodies.items() if is_json(media_type))
    answer = operation.responses[operation.success_status()].media["application/json"]
    assert shapes.has(request.schema, "pages") and shapes.has(answer.schema, "pages")
    echo = echo_for(api, operation, answer)
    assert "pages" not in (echo.names() if echo is not None else [])


@pytest.mark.parametrize(("name", "method", "path"), ECHOING, ids=[f"{n}:{m}:{p}" for n, m, p in ECHOING])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_answers_repeat_the_request(name: str, method: str, path: str, seed: int) -> None:
    api = compiled(name)
    operation, echo = _operation(name, method, path)
    request = next(body for media_type, body in operation.bodies.items() if is_json(media_type))
    shapes = shapes_for(api)
    rng = random.Random(seed)
    body = shapes.shape(request.schema).generate(rng)
    body = {key: value for key, value in body.items() if key not in ("stream", "previous_response_id", "background")}
    answer = app_client(name).request(method.upper(), _concrete(name, path), json=body)
    assert answer.status_code == 200, answer.text  # bodies drawn from the request schema are valid
    value = answer.json()
    # The Responses behaviour answers the tier that served a request, not the "auto" it asked for.
    served = SERVED_AS if responses.match(api, operation) is not None else {}
    for setting in echo.settings:
        key = setting.name
        if key in body:
            sent = served_as(served, key, body[key])
            if setting.fits.is_valid(sent):
                assert value.get(key) == sent, key
            elif setting.fits.is_valid(completed(shapes, setting.answer, sent)):
                assert value.get(key) == completed(shapes, setting.answer, sent), key
        else:
            default = served_as(served, key, request_default(shapes, request.schema, body, key))
            if default is not None and setting.fits.is_valid(default) and key not in ("tool_choice",):
                assert value.get(key) == default, key
        number = value.get(key)
        if isinstance(number, (int, float)) and not isinstance(number, bool):
            low, high = _bounds(api, request.schema, key)
            assert low <= number <= high, (key, number, low, high)


def test_absent_settings_take_the_request_s_default_or_the_plainest_value() -> None:
    """openai-responses declares OpenAI's defaults; openresponses declares none for `text`, whose plainest
    answer is the first format variant with only its required members."""
    answer = app_client("openai-responses").post("/v1/responses", json={"model": "gpt-4o", "input": "hi"}).json()
    assert answer["temperature"] == 1 and answer["top_p"] == 1 and answer["truncation"] == "disabled"
    assert answer["tools"] in (None, []) and answer["parallel_tool_calls"] is True
    other = app_client("openresponses").post("/responses", json={"model": "gpt-4o", "input": "hi"}).json()
    assert other["text"] == {"format": {"type": "text"}} and other["tools"] == [] and other["tool_choice"] == "auto"


@pytest.mark.parametrize(("name", "method", "path"), ECHOING, ids=[f"{n}:{m}:{p}" for n, m, p in ECHOING])
def test_an_absent_setting_s_first_plain_value_is_one_the_answer_allows(name: str, method: str, path: str) -> None:
    """Where the request allows ``null`` and the answer forbids it (openresponses' ``temperature``, sequrity's
    ``tools``), the value the answer allows comes first, so the echo's edits fit at the first try."""
    _, echo = _operation(name, method, path)
    for setting in echo.settings:
        fitting = [value for value in setting.plain if setting.fits.is_valid(value)]
        assert list(setting.plain[: len(fitting)]) == fitting, setting.name


def test_null_the_answer_forbids_comes_after_the_value_it_allows() -> None:
    settings_of = {setting.name: setting for setting in _operation("openresponses", "post", "/responses")[1].settings}
    assert settings_of["temperature"].plain == (0, None) and settings_of["parallel_tool_calls"].plain == (False, None)
    sequrity = _operation("sequrity", "post", "/control/{endpoint_type}/v1/responses")[1]
    assert next(setting for setting in sequrity.settings if setting.name == "tools").plain == ([], None)


def test_a_request_tool_is_listed_with_the_members_the_answer_requires() -> None:
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    answer = app_client("openresponses").post("/responses", json={"model": "m", "input": "x", "tools": [tool]}).json()
    assert answer["tools"] == [{**tool, "description": None, "strict": None}]


def test_plainest_values() -> None:
    shapes = shapes_for(compiled("openresponses"))
    assert plainest(shapes, {"type": "integer", "minimum": 3, "maximum": 9}) == 3
    assert plainest(shapes, {"anyOf": [{"type": "number"}, {"type": "null"}]}) is None
    assert plainest(shapes, {"type": "array", "items": {"type": "string"}}) == []
    assert plainest(shapes, {"type": "object", "required": ["a"], "properties": {"a": {"const": "x"}}}) == {"a": "x"}
