"""Recorded traffic is routed as the mock routes live requests: a path the spec publishes with a fixed query
(``/responses?beta=true``) is its own operation, for check-traffic, drift and the proxy's judge alike."""

from __future__ import annotations

import json
from typing import Any

from apitwin.contracts.proxy.judge import Judge
from apitwin.contracts.traffic.check import TrafficChecker
from apitwin.contracts.traffic.drift import DriftFinder
from apitwin.mockserver.operations import compile_api
from apitwin.recordings.records import RecordedExchange, RecordedRequest, RecordedResponse


def _answer(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}


def _object(name: str, kind: str) -> dict[str, Any]:
    return {"type": "object", "properties": {name: {"type": kind}}, "required": [name]}


BETA, PLAIN = {"label": "beta"}, {"count": 7}
DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/responses": {"post": {"operationId": "plain", "responses": _answer(_object("count", "integer"))}},
        "/responses?beta=true": {"post": {"operationId": "beta", "responses": _answer(_object("label", "string"))}},
    },
}
API = compile_api("api", DOCUMENT)


def _exchange(url: str, answer: Any) -> RecordedExchange:
    request = RecordedRequest("POST", url, {}, None)
    response = RecordedResponse(200, {"content-type": "application/json"}, json.dumps(answer).encode())
    return RecordedExchange(1, "entry 1", request, response)


def test_check_traffic_routes_a_query_qualified_path_to_its_own_operation() -> None:
    checker = TrafficChecker(API)
    beta = checker.check(_exchange("http://gw/responses?beta=true", BETA))
    assert (beta.operation, beta.violations) == ("beta", [])
    plain = checker.check(_exchange("http://gw/responses", PLAIN))
    assert (plain.operation, plain.violations) == ("plain", [])
    # The beta answer to the plain operation breaks its schema: routing decides what an answer is judged by.
    wrong = checker.check(_exchange("http://gw/responses", BETA))
    assert wrong.operation == "plain"
    assert [(violation.keyword, "count" in violation.message) for violation in wrong.violations] == [("required", True)]


def test_the_proxy_judge_routes_by_the_query_too() -> None:
    judge = Judge(API, base_path="")
    beta = judge.route("POST", "http://gw/responses?beta=true")
    plain = judge.route("POST", "http://gw/responses")
    assert beta is not None and plain is not None
    assert (beta.operation_id, plain.operation_id) == ("beta", "plain")


def test_drift_reads_an_answer_against_the_operation_its_query_picks() -> None:
    beta = DriftFinder(API).run([_exchange("http://gw/responses?beta=true", BETA)])
    assert beta.observations == []
    # The same answer read against the plain operation: a field it does not document, one it requires missing.
    plain = DriftFinder(API).run([_exchange("http://gw/responses", BETA)])
    assert sorted((observation.kind, observation.value) for observation in plain.observations) == [
        ("required_missing", "count"),
        ("undocumented_field", "label"),
    ]


def test_check_traffic_routes_a_fragment_path_by_the_header_it_names() -> None:
    """AWS's ``/#X-Amz-Target=…`` operations all arrive as ``POST /``; the header says which."""
    header = {"name": "X-Amz-Target", "in": "header", "required": True}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            f"/#X-Amz-Target=Svc.{name}": {
                "post": {
                    "operationId": name,
                    "parameters": [{**header, "schema": {"const": f"Svc.{name}"}}],
                    "responses": _answer(_object(field, kind)),
                }
            }
            for name, field, kind in [("Count", "count", "integer"), ("Label", "label", "string")]
        },
    }
    api = compile_api("aws", document)
    checker = TrafficChecker(api)
    judge = Judge(api, base_path="")
    for target, answer in [("Svc.Label", BETA), ("Svc.Count", PLAIN)]:
        routed = judge.route("POST", "http://gw/", {"x-amz-target": target})
        assert routed is not None and routed.operation_id == target.split(".")[1]
        request = RecordedRequest("POST", "http://gw/", {"x-amz-target": target}, None)
        response = RecordedResponse(200, {"content-type": "application/json"}, json.dumps(answer).encode())
        verdict = checker.check(RecordedExchange(1, "entry 1", request, response))
        assert (verdict.operation, verdict.violations) == (target.split(".")[1], [])


def test_recorded_paths_keep_a_slash_encoded_inside_a_segment_and_route_as_the_mock_does() -> None:
    """shutterstock's ids carry a slash, sent as ``%2F``: check-traffic decoded it first and called the request
    undocumented. The proxy's judge routes it too, and a pattern on the id is checked against the decoded id."""
    identifier = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z]+/"}}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/images/{id}": {
                "post": {
                    "operationId": "image",
                    "parameters": [identifier],
                    "responses": _answer(_object("count", "integer")),
                }
            }
        },
    }
    api = compile_api("api", document)
    checker = TrafficChecker(api)
    found = checker.check(_exchange("http://gw/images/editorial%2F123", PLAIN))
    assert (found.operation, found.violations) == ("image", [])
    refused = checker.check(_exchange("http://gw/images/Editorial%2F123", PLAIN))
    assert [violation.location for violation in refused.violations] == ["path"]
    undocumented = checker.check(_exchange("http://gw/images/editorial/123", PLAIN))
    assert undocumented.operation is None and "undocumented operation" in undocumented.violations[0].message
    judged = Judge(api, base_path="").route("POST", "http://gw/images/editorial%2F123")
    assert judged is not None and judged.operation_id == "image"
