"""One test per schemathesis internal apitwin relies on (see ``contracts/schemathesis_adapter.py``).

When a schemathesis release moves one of them, the test named after it fails here, not somewhere
deep in a fuzz run; ``pyproject.toml`` pins schemathesis to the minor range these tests pass on.
"""

from __future__ import annotations

import io
import json
from typing import Any

import hypothesis
import jsonschema
import requests
from hypothesis import settings
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

from apitwin.contracts import schemathesis_adapter as adapter
from apitwin.contracts.fuzz.plan import draw

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "adapter", "version": "1"},
    "paths": {
        "/items": {
            "post": {
                "operationId": "createItem",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name", "max_tokens"],
                                "properties": {
                                    "name": {"type": "string", "minLength": 1, "maxLength": 5},
                                    "max_tokens": {"type": "integer", "minimum": 1, "maximum": 10},
                                },
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id"],
                                    "properties": {"id": {"type": "string"}},
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}
BODY_SCHEMA = DOCUMENT["paths"]["/items"]["post"]["requestBody"]["content"]["application/json"]["schema"]


class CannedAdapter(HTTPAdapter):
    """Answers every request with one fixed JSON body and counts what it was sent."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self.body = body
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        content = json.dumps(self.body).encode()
        raw = HTTPResponse(
            body=io.BytesIO(content),
            headers={"Content-Type": "application/json", "Content-Length": str(len(content))},
            status=200,
            reason="OK",
            preload_content=False,
        )
        return self.build_response(request, raw)


def canned_session(body: Any) -> tuple[requests.Session, CannedAdapter]:
    session = requests.Session()
    canned = CannedAdapter(body)
    session.mount("http://", canned)
    return session, canned


def operation() -> Any:
    schema = adapter.load_openapi(DOCUMENT, max_stream_events=7)
    return schema.get_all_operations().__next__().ok()


def positive_case() -> adapter.Case:
    return operation().Case(body={"name": "ab", "max_tokens": 3}, media_type="application/json")


def test_load_openapi_reads_whole_streams_and_masks_nothing() -> None:
    schema = adapter.load_openapi(DOCUMENT, max_stream_events=7)
    assert schema.config.max_stream_events == 7
    assert schema.config.output.sanitization.enabled is False


def test_standard_checks_are_the_eight_named_checks_in_order() -> None:
    assert [check.__name__ for check in adapter.standard_checks()] == [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "ignored_auth",
    ]


def judge(answer: Any, check_name: str) -> list[tuple[str, Any]]:
    case = positive_case()
    session, _ = canned_session(answer)
    response = case.call(base_url="http://gateway.test", session=session)
    transport = {"session": session, "base_url": "http://gateway.test", "headers": {}, "timeout": 5}
    context = adapter.check_context(case, "fuzzing", {}, transport, None)
    [check] = [check for check in adapter.standard_checks() if check.__name__ == check_name]
    return adapter.run_check(case, response, context, check)


def test_check_context_and_run_check_judge_an_answer_sent_outside_schemathesis() -> None:
    assert judge({"id": "item_1"}, "response_schema_conformance") == []
    [(name, failure)] = judge({"name": "no id"}, "response_schema_conformance")
    assert name == "response_schema_conformance"
    assert failure.message.startswith('"id" is a required property')


def test_fuzzing_strategy_draws_cases_in_the_mode_asked() -> None:
    positive = draw(adapter.fuzzing_strategy(operation(), adapter.GenerationMode.POSITIVE), 10, seed=1)
    negative = draw(adapter.fuzzing_strategy(operation(), adapter.GenerationMode.NEGATIVE), 10, seed=1)
    assert positive and negative
    assert {adapter.generation_mode(case) for case in positive} == {"positive"}
    assert all(jsonschema.Draft202012Validator(BODY_SCHEMA).is_valid(case.body) for case in positive)
    assert {adapter.generation_mode(case) for case in negative} == {"negative"}


def test_coverage_cases_give_boundaries_and_negatives() -> None:
    cases = list(adapter.coverage_cases(operation()))
    modes = {adapter.generation_mode(case) for case in cases}
    assert modes == {"positive", "negative"}
    bodies = [case.body for case in cases if adapter.generation_mode(case) == "positive"]
    assert {body["max_tokens"] for body in bodies if isinstance(body, dict) and "max_tokens" in body} >= {1, 10}
    validator = jsonschema.Draft202012Validator(BODY_SCHEMA)
    assert any(not validator.is_valid(case.body) for case in cases if adapter.generation_mode(case) == "negative")


def test_json_schema_strategy_builds_valid_values_and_none_for_the_empty_schema() -> None:
    strategy = adapter.json_schema_strategy(BODY_SCHEMA, draft=20)
    assert strategy is not None

    @settings(max_examples=20, database=None, deadline=None)
    @hypothesis.given(strategy)
    def valid(value: Any) -> None:
        jsonschema.validate(value, BODY_SCHEMA)

    valid()
    assert adapter.json_schema_strategy({"not": {}}, draft=20) is None


def test_route_transport_sends_sessionless_requests_through_the_given_session() -> None:
    schema = adapter.load_openapi(DOCUMENT, max_stream_events=1)
    first, first_adapter = canned_session({"id": "a"})
    adapter.route_transport(schema, lambda: first)
    case = schema.get_all_operations().__next__().ok().Case(body={"name": "ab", "max_tokens": 3})
    assert case.call(base_url="http://gateway.test").status_code == 200
    assert len(first_adapter.sent) == 1
    second, second_adapter = canned_session({"id": "b"})
    adapter.route_transport(schema, lambda: second)  # a second run re-wraps instead of stacking classes
    case.call(base_url="http://gateway.test")
    assert (len(first_adapter.sent), len(second_adapter.sent)) == (1, 1)
    assert type(schema).__name__.count("Routed") == 1


def test_is_event_stream_recognises_the_media_type_with_parameters() -> None:
    assert adapter.is_event_stream("text/event-stream; charset=utf-8")
    assert not adapter.is_event_stream("application/json")
