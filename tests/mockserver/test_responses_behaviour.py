"""Responses behaviour, in-process, on every API whose spec has a Responses-style operation."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from apitwin import specs
from apitwin.mockserver import create_app
from apitwin.mockserver.behaviours import responses
from apitwin.mockserver.behaviours.responses import KEPT_FIELDS
from apitwin.mockserver.behaviours.text import count_tokens
from apitwin.mockserver.operations import compile_api
from tests.mockserver.test_chat_behaviour import AUTH, WEATHER, sse


@dataclass(frozen=True, slots=True)
class ResponsesApi:
    name: str
    path: str
    model: str
    streams: bool = True


APIS = [
    ResponsesApi("openresponses", "/responses", "gpt-4o"),
    ResponsesApi("aimlapi", "/v1/responses", "gpt-3.5-turbo"),
    ResponsesApi("sequrity", "/control/chat/v1/responses", "gpt-4o"),
    ResponsesApi("lmdeploy", "/v1/responses", "internlm2"),
    ResponsesApi("openai-responses", "/v1/responses", "gpt-4o"),
]
STREAMING = [api for api in APIS if api.streams]
ORDER = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


@cache
def client(name: str, seed: int = 0) -> TestClient:
    return TestClient(create_app([name], seed=seed, self_check=True), headers=AUTH)


def post(api: ResponsesApi, body: dict[str, Any], seed: int = 0, status: int = 200) -> Any:
    answer = client(api.name, seed).post(api.path, json={"model": api.model, **body})
    assert answer.status_code == status, answer.text
    return answer


def events(text: str) -> list[tuple[str | None, dict[str, Any]]]:
    return [(name, json.loads(data)) for name, data in sse(text) if data != "[DONE]"]


def final_text(value: dict[str, Any]) -> str:
    return "".join(
        part.get("text", "") for item in value["output"] if item.get("type") == "message" for part in item["content"]
    )


@cache
def stream_enum(name: str) -> set[str]:
    """Every event name the API's spec allows on its Responses streams."""
    api = compile_api(name, specs.load(name))
    return {
        event
        for operation in api.operations
        for response in operation.responses.values()
        for media in response.media.values()
        if media.stream
        for event in media.stream.event_names
    }


@pytest.mark.parametrize("api", APIS, ids=[api.name for api in APIS])
def test_plain_response(api: ResponsesApi) -> None:
    value = post(api, {"input": "Tell me about rivers."}).json()
    assert value["model"] == api.model and value["status"] == "completed" and value["object"] == "response"
    [message] = value["output"]
    assert message["type"] == "message" and message["role"] == "assistant"
    text = final_text(value)
    assert text
    usage = value["usage"]
    assert usage["output_tokens"] == count_tokens(text)
    assert usage["input_tokens"] == count_tokens("Tell me about rivers.")
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


@pytest.mark.parametrize("api", APIS, ids=[api.name for api in APIS])
def test_max_output_tokens_makes_it_incomplete(api: ResponsesApi) -> None:
    value = post(api, {"input": "Tell me about rivers.", "max_output_tokens": 16}).json()
    assert count_tokens(final_text(value)) == 16
    assert value["status"] == "incomplete"
    assert value["usage"]["output_tokens"] == 16


@pytest.mark.parametrize("api", STREAMING, ids=[api.name for api in STREAMING])
def test_stream_order_sequence_and_text(api: ResponsesApi) -> None:
    answer = post(api, {"input": "Tell me about rivers.", "stream": True})
    found = events(answer.text)
    kinds = [payload["type"] for _, payload in found]
    assert [kind for kind in dict.fromkeys(kinds)] == ORDER
    assert kinds.index("response.output_text.done") > max(
        i for i, kind in enumerate(kinds) if kind == "response.output_text.delta"
    )
    assert [payload["sequence_number"] for _, payload in found] == list(range(len(found)))
    assert set(kinds) <= stream_enum(api.name)
    assert all(name == payload["type"] for name, payload in found)
    deltas = "".join(payload["delta"] for _, payload in found if payload["type"] == "response.output_text.delta")
    done = next(payload for _, payload in found if payload["type"] == "response.output_text.done")
    completed = found[-1][1]["response"]
    assert deltas == done["text"] == final_text(completed)
    assert completed["status"] == "completed"
    assert found[0][1]["response"]["status"] == "in_progress" and found[0][1]["response"]["output"] == []
    plain = post(api, {"input": "Tell me about rivers."}).json()
    assert final_text(plain) == deltas
    assert {key: plain["usage"][key] for key in ("input_tokens", "output_tokens", "total_tokens")} == {
        key: completed["usage"][key] for key in ("input_tokens", "output_tokens", "total_tokens")
    }


@pytest.mark.parametrize("api", STREAMING, ids=[api.name for api in STREAMING])
@given(
    prompt=st.text(min_size=1, max_size=30),
    limit=st.one_of(st.none(), st.integers(min_value=16, max_value=40)),
    seed=st.integers(0, 3),
)
def test_stream_deltas_add_up_for_any_request(api: ResponsesApi, prompt: str, limit: int | None, seed: int) -> None:
    body: dict[str, Any] = {"input": prompt}
    if limit is not None:
        body["max_output_tokens"] = limit
    found = events(post(api, {**body, "stream": True}, seed).text)
    deltas = "".join(payload["delta"] for _, payload in found if payload["type"] == "response.output_text.delta")
    final = found[-1][1]
    assert final["type"] in ("response.completed", "response.incomplete")
    assert deltas == final_text(final["response"]) == final_text(post(api, body, seed).json())
    usage = final["response"]["usage"]
    assert (
        usage["output_tokens"] == count_tokens(deltas)
        and usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    )
    if limit is not None:
        assert usage["output_tokens"] <= limit


FUNCTION_TOOLS = [{"type": "function", "name": "get_weather", "parameters": WEATHER, "strict": True}]


@pytest.mark.parametrize("api", APIS, ids=[api.name for api in APIS])
def test_function_calls(api: ResponsesApi) -> None:
    body = {"input": "weather in Paris", "tools": FUNCTION_TOOLS, "tool_choice": "required"}
    value = post(api, body).json()
    calls = [item for item in value["output"] if item["type"] == "function_call"]
    assert calls and all(call["name"] == "get_weather" for call in calls)
    for call in calls:
        jsonschema.validate(json.loads(call["arguments"]), WEATHER)
    if not api.streams:
        return
    found = events(post(api, {**body, "stream": True}).text)
    kinds = [payload["type"] for _, payload in found]
    assert "response.function_call_arguments.delta" in kinds and "response.output_text.delta" not in kinds
    deltas = "".join(
        payload["delta"] for _, payload in found if payload["type"] == "response.function_call_arguments.delta"
    )
    done = [payload for _, payload in found if payload["type"] == "response.function_call_arguments.done"]
    assert deltas == "".join(payload["arguments"] for payload in done) == "".join(call["arguments"] for call in calls)


def test_reasoning_summary_streams_with_its_own_events() -> None:
    api = APIS[0]
    body = {"input": "think first", "reasoning": {"effort": "low", "summary": "auto"}}
    value = post(api, body).json()
    kinds = [item["type"] for item in value["output"]]
    assert kinds == ["reasoning", "message"]
    assert value["usage"]["output_tokens_details"]["reasoning_tokens"] > 0
    assert value["usage"]["output_tokens"] == value["usage"]["output_tokens_details"][
        "reasoning_tokens"
    ] + count_tokens(final_text(value))
    found = events(post(api, {**body, "stream": True}).text)
    types = [payload["type"] for _, payload in found]
    assert "response.reasoning_summary_text.delta" in types
    summary = "".join(
        payload["delta"] for _, payload in found if payload["type"] == "response.reasoning_summary_text.delta"
    )
    assert summary == value["output"][0]["summary"][0]["text"]
    assert types.index("response.reasoning_summary_part.added") < types.index("response.content_part.added")


DELTA_SERIES = {
    "text": {"input": "Tell me about rivers."},
    "arguments": {"input": "weather in Paris", "tools": FUNCTION_TOOLS, "tool_choice": "required"},
    "summary": {"input": "think first", "reasoning": {"effort": "low", "summary": "auto"}},
}


@pytest.mark.parametrize("api", STREAMING, ids=[api.name for api in STREAMING])
@pytest.mark.parametrize("series", list(DELTA_SERIES))
def test_a_series_of_deltas_is_the_slow_paths_byte_for_byte(api: ResponsesApi, series: str) -> None:
    """The fast path makes a delta from the one before it; the slow path draws and settles each: same bytes, for
    a text's, a call's arguments' and a summary's deltas, under several seeds."""
    body = {"model": api.model, **DELTA_SERIES[series], "stream": True}
    for seed in range(3):
        answers = []
        for fast in (True, False):
            app = create_app([api.name], seed=seed, self_check=True, answer_templates=fast)
            with TestClient(app, headers=AUTH) as fresh:
                answers.append(fresh.post(api.path, json=body))
        assert answers[0].status_code == answers[1].status_code == 200
        assert answers[0].content == answers[1].content
        assert answers[0].text.count("delta") > 2


@pytest.mark.parametrize("api", APIS, ids=[api.name for api in APIS])
def test_text_format_json_schema(api: ResponsesApi) -> None:
    body = {
        "input": "json please",
        "text": {"format": {"type": "json_schema", "name": "weather", "schema": WEATHER, "strict": True}},
    }
    jsonschema.validate(json.loads(final_text(post(api, body).json())), WEATHER)


def test_previous_response_id_chains_and_unknown_is_refused() -> None:
    api = APIS[0]
    app = create_app([api.name], self_check=True)
    with TestClient(app, headers=AUTH) as fresh:
        first = fresh.post(api.path, json={"model": api.model, "input": "first"}).json()
        chained = fresh.post(
            api.path, json={"model": api.model, "input": "second", "previous_response_id": first["id"]}
        )
        assert chained.status_code == 200, chained.text
        assert chained.json()["previous_response_id"] == first["id"]
        assert chained.json()["usage"]["input_tokens"] == 1 + first["usage"]["total_tokens"]
        missing = fresh.post(api.path, json={"model": api.model, "input": "x", "previous_response_id": "resp_unknown"})
        assert missing.status_code == 404
        assert "previous_response_id" in missing.text
        unstored = fresh.post(api.path, json={"model": api.model, "input": "private", "store": False}).json()
        refused = fresh.post(api.path, json={"model": api.model, "input": "x", "previous_response_id": unstored["id"]})
        assert refused.status_code == 404


def test_a_stored_response_keeps_what_a_continuation_and_the_dashboard_need() -> None:
    """Issue 16, point 5: the output was sent; the store keeps the id, the token count and what it is listed by."""
    api = APIS[0]
    app = create_app([api.name])
    with TestClient(app, headers=AUTH) as fresh:
        first = fresh.post(api.path, json={"model": api.model, "input": "remember me"}).json()
        stored = fresh.get("/_apitwin/state").json()["responses"]
    assert [item["id"] for item in stored] == [first["id"]]
    kept = stored[0]["value"]
    assert set(kept) <= {*KEPT_FIELDS, "usage"} and kept["usage"] == {"total_tokens": first["usage"]["total_tokens"]}
    assert kept["id"] == first["id"] and kept["status"] == first["status"] and kept["model"] == first["model"]
    assert len(json.dumps(kept)) * 4 < len(json.dumps(first))


@pytest.mark.parametrize("api", [APIS[1], APIS[2]], ids=["aimlapi", "sequrity"])
def test_unknown_previous_response_id_is_the_declared_404(api: ResponsesApi) -> None:
    answer = post(api, {"input": "x", "previous_response_id": "resp_missing"}, status=404)
    assert "previous_response_id" in answer.text


def test_unknown_previous_response_id_starts_afresh_where_no_404_is_documented() -> None:
    """lmdeploy documents only 422 (schema errors): a schema-valid id cannot be refused by its contract."""
    api = APIS[3]
    assert api.name == "lmdeploy"
    answer = post(api, {"input": "x", "previous_response_id": "resp_missing"}).json()
    assert answer["status"] in ("completed", "incomplete")


@pytest.mark.parametrize("api", STREAMING, ids=[api.name for api in STREAMING])
def test_stream_is_deterministic(api: ResponsesApi) -> None:
    body = {"input": "same", "stream": True}
    assert post(api, body).content == post(api, body).content


@pytest.mark.parametrize("api", STREAMING, ids=[api.name for api in STREAMING])
@pytest.mark.parametrize("body", [{"input": "Tell me about rivers."}, {"input": "Weather?", "tools": FUNCTION_TOOLS}])
def test_the_streamed_answer_names_its_response_and_items_as_the_plain_one(
    api: ResponsesApi, body: dict[str, Any]
) -> None:
    """Ids are drawn from the answer's random source after its plan: asking for a stream changes neither."""
    plain = post(api, body).json()
    streamed = events(post(api, {**body, "stream": True}).text)[-1][1]["response"]

    def ids(value: dict[str, Any]) -> list[Any]:
        return [value["id"]] + [(item.get("id"), item.get("call_id")) for item in value["output"]]

    assert ids(streamed) == ids(plain)
    assert plain["id"].startswith("resp_") and len(set(ids(plain))) == len(ids(plain))


@pytest.mark.parametrize(
    ("api", "usage"),
    [(APIS[0], "null"), (APIS[1], "absent")],  # openresponses' usage takes null; aimlapi's does not
    ids=[APIS[0].name, APIS[1].name],
)
def test_the_opening_response_has_no_usage_yet_as_the_schema_allows(api: ResponsesApi, usage: str) -> None:
    found = events(post(api, {"input": "Tell me about rivers.", "stream": True}).text)
    for _, payload in found[:2]:
        assert payload["type"] in ("response.created", "response.in_progress")
        opening = payload["response"]
        assert ("usage" not in opening) if usage == "absent" else (opening["usage"] is None)
    assert found[-1][1]["response"]["usage"]["total_tokens"] > 0


def test_event_names_behind_a_ref_still_name_the_events() -> None:
    """OpenAI's published spec, once normalised, keeps the stream's ``event`` enum as a shared component
    (``$ref: #/components/schemas/Event``); the names behind the ref must still be sent as ``event:``."""
    document = copy.deepcopy(specs.load("openresponses"))
    for path_item in document["paths"].values():
        for operation in path_item.values():
            for response in (operation.get("responses") or {}).values() if isinstance(operation, dict) else ():
                stream = (response.get("content") or {}).get("text/event-stream")
                if stream and "enum" in stream["schema"]["properties"].get("event", {}):
                    document["components"]["schemas"]["StreamEventName"] = stream["schema"]["properties"]["event"]
                    stream["schema"]["properties"]["event"] = {"$ref": "#/components/schemas/StreamEventName"}
    assert "StreamEventName" in document["components"]["schemas"]
    app = TestClient(create_app({"hoisted": document}, self_check=True), headers=AUTH)
    answer = app.post("/responses", json={"model": "gpt-4o", "input": "Hi", "stream": True})
    assert answer.status_code == 200, answer.text
    found = events(answer.text)
    assert found and all(name == payload["type"] for name, payload in found)


OPENAI_DEFAULTS = {"temperature": 1, "top_p": 1, "parallel_tool_calls": True}


@pytest.mark.parametrize("api", APIS, ids=[api.name for api in APIS])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_unsent_sampling_settings_are_answered_as_openai_does(api: ResponsesApi, stream: bool) -> None:
    """A request that sets no temperature, top_p or parallel_tool_calls is answered 1 / 1 / true, as OpenAI's API
    answers it (openresponses' spec declares no defaults: its plainest values, 0 / 0 / false, were echoed; aimlapi's
    request does not declare them: its answer drew them, a top_p of 48.27); what a request sends is echoed."""
    if stream and not api.streams:
        pytest.skip("no stream")
    sent = {"temperature": 0.25, "top_p": 0.5, "parallel_tool_calls": False}
    for body, expected in (({}, OPENAI_DEFAULTS), (sent, sent)):
        answer = post(api, {"input": "Tell me about rivers.", "stream": stream, **body})
        value = events(answer.text)[-1][1]["response"] if stream else answer.json()
        assert {name: value[name] for name in expected} == expected


UNSET_AS_OPENAI_ANSWERS = {
    "max_output_tokens": None,
    "truncation": "disabled",
    "service_tier": "default",
    "reasoning": {"effort": None, "summary": None},
}


@pytest.mark.parametrize("api", APIS, ids=[api.name for api in APIS])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_unset_limits_tiers_and_reasoning_are_answered_as_openai_does(api: ResponsesApi, stream: bool) -> None:
    """A request without a limit, a tier or reasoning is answered ``max_output_tokens: null``, ``truncation:
    "disabled"``, ``service_tier: "default"`` and ``reasoning: {effort: null, summary: null}``, as OpenAI answers
    gpt-4o. Before: aimlapi said a limit of 0, the tier "priority" and effort "high"; openresponses, lmdeploy and the
    published OpenAI spec said the tier "auto" (the request's choice, not the tier that served it)."""
    if stream and not api.streams:
        pytest.skip("no stream")

    def answered(body: dict[str, Any]) -> dict[str, Any]:
        answer = post(api, {"input": "Tell me about rivers.", "stream": stream, **body})
        value: dict[str, Any] = events(answer.text)[-1][1]["response"] if stream else answer.json()
        return value

    value = answered({})
    assert {name: value[name] for name in UNSET_AS_OPENAI_ANSWERS} == UNSET_AS_OPENAI_ANSWERS
    if "max_tool_calls" in value:
        assert value["max_tool_calls"] is None
    assert answered({"service_tier": "auto"})["service_tier"] == "default"  # the tier that served an "auto" request
    assert answered({"service_tier": "flex"})["service_tier"] == "flex"
    assert answered({"max_output_tokens": 300})["max_output_tokens"] == 300


def test_openai_responses_answers_its_own_billing_and_no_conversation() -> None:
    """Fields no request sets: OpenAI bills the developer, and a response outside a conversation is in none."""
    value = post(APIS[4], {"input": "Tell me about rivers."}).json()
    assert (value["billing"], value["conversation"]) == ({"payer": "developer"}, None)


def test_an_item_laid_out_from_an_earlier_one_is_still_the_slow_path_s_when_its_text_does_not_fit() -> None:
    """The fast path makes an output item from the one an earlier answer settled (only its ids and text change);
    where the schema refuses this answer's text (here longer than a ``maxLength``), it settles the item as the slow
    path does, keeping the drawn text: the same bytes either way."""
    document = copy.deepcopy(specs.load("openresponses"))
    document["components"]["schemas"]["OutputTextContent"]["properties"]["text"]["maxLength"] = 120
    bodies = [
        {"model": "gpt-4o", "input": f"Tell me about rivers {number}.", "stream": stream, "max_output_tokens": limit}
        for number in range(6)
        for limit in (16, None)
        for stream in (False, True)
    ]
    answers = {}
    for fast in (True, False):
        app = create_app({"capped": document}, self_check=True, answer_templates=fast)
        with TestClient(app, headers=AUTH) as fresh:
            answers[fast] = [fresh.post("/responses", json=body) for body in bodies]
    assert [answer.content for answer in answers[True]] == [answer.content for answer in answers[False]]
    plain = [answer for answer, body in zip(answers[True], bodies, strict=True) if not body["stream"]]
    texts = [final_text(answer.json()) for answer in plain]
    assert all(len(text) <= 120 for text in texts)
    assert len(set(texts)) > 2 and len(texts) > len(set(texts))  # planned texts, and the drawn one kept where too long


@pytest.mark.parametrize("api", STREAMING, ids=[api.name for api in STREAMING])
def test_every_kind_of_item_laid_out_from_an_earlier_one_is_the_slow_path_s(
    api: ResponsesApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages, function calls and reasoning items made on the fast path from an item an earlier answer settled
    are byte for byte the slow path's, plain and streamed."""
    laid_out: list[str] = []
    make = responses._laid_out_item

    def counted(*arguments: Any) -> Any:
        made = make(*arguments)
        laid_out.extend([made["type"]] if made is not None else [])
        return made

    monkeypatch.setattr(responses, "_laid_out_item", counted)
    bodies = [
        {"model": api.model, **DELTA_SERIES[series], "input": f"{DELTA_SERIES[series]['input']} {number}", **stream}
        for number in range(3)
        for series in DELTA_SERIES
        for stream in ({}, {"stream": True})
    ]
    answers = {}
    for fast in (True, False):
        app = create_app([api.name], self_check=True, answer_templates=fast)
        with TestClient(app, headers=AUTH) as fresh:
            answers[fast] = [fresh.post(api.path, json=body).content for body in bodies]
    assert answers[True] == answers[False]
    assert {"message", "function_call"} <= set(laid_out)


def test_a_default_the_spec_declares_wins_over_openai_s() -> None:
    """OpenAI's defaults stand in only where the request's schema declares none: a spec's own default is echoed."""
    document = copy.deepcopy(specs.load("openresponses"))
    document["components"]["schemas"]["CreateResponseBody"]["properties"]["temperature"]["default"] = 0.7
    app = TestClient(create_app({"tempered": document}, self_check=True), headers=AUTH)
    answer = app.post("/responses", json={"model": "gpt-4o", "input": "Hi"}).json()
    assert (answer["temperature"], answer["top_p"], answer["parallel_tool_calls"]) == (0.7, 1, True)
