"""Lifecycle discovery and runtime expressions (the fuzz run's lifecycles phase is tested end to end in
``test_fuzz_defects.py``: a gateway that loses a job, never finishes one or forgets a stored response)."""

from __future__ import annotations

from apitwin import specs
from apitwin.contracts.fuzz.lifecycles import MISSING, Binding, Created, contains_missing, discover, evaluate
from tests.contracts.conftest import fuzz

CREATED = Created(
    request_body={"model": "gpt-4o", "tags": ["a"]},
    query={"page": "2"},
    path_values={"project": "p1"},
    response_body={"id": "resp_123", "items": [{"id": "it_1"}]},
    response_headers={"X-Request-Id": "req-9"},
)


def test_runtime_expressions_read_the_create_exchange() -> None:
    assert evaluate("$response.body#/id", CREATED) == "resp_123"
    assert evaluate("$response.body#/items/0/id", CREATED) == "it_1"
    assert evaluate("$request.body#/model", CREATED) == "gpt-4o"
    assert evaluate("$request.query.page", CREATED) == "2"
    assert evaluate("$request.path.project", CREATED) == "p1"
    assert evaluate("$response.header.x-request-id", CREATED) == "req-9"
    assert evaluate("/v1/items/{$response.body#/id}/content", CREATED) == "/v1/items/resp_123/content"
    assert evaluate({"continue": "$response.body#/id", "n": 3, "text": "hi"}, CREATED) == {
        "continue": "resp_123",
        "n": 3,
        "text": "hi",
    }


def test_an_expression_that_points_at_nothing_is_missing() -> None:
    assert evaluate("$response.body#/nope", CREATED) is MISSING
    assert evaluate("$request.query.absent", CREATED) is MISSING
    assert evaluate("$unknown.thing", CREATED) is MISSING
    assert contains_missing({"a": [1, evaluate("$response.body#/items/5/id", CREATED)]})
    assert not contains_missing({"a": [1, "x"]})


def test_links_by_operation_id_and_ref_with_qualified_parameters() -> None:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "post": {
                    "operationId": "createThing",
                    "responses": {
                        "201": {
                            "description": "made",
                            "links": {
                                "get": {"operationId": "getThing", "parameters": {"thing_id": "$response.body#/id"}},
                                "content": {
                                    "operationRef": "#/paths/~1things~1{thing_id}~1content/get",
                                    "parameters": {"path.thing_id": "$response.body#/id", "query.full": True},
                                },
                            },
                        },
                        "400": {"description": "bad", "links": {"ignored": {"operationId": "getThing"}}},
                    },
                }
            },
            "/things/{thing_id}": {
                "get": {
                    "operationId": "getThing",
                    "parameters": [{"name": "thing_id", "in": "path", "required": True}],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/things/{thing_id}/content": {"get": {"responses": {"200": {"description": "ok"}}}},
        },
    }
    found = {lifecycle.name: lifecycle for lifecycle in discover(document)}
    assert set(found) == {"createThing.get", "createThing.content"}
    assert found["createThing.get"].follow == ("GET", "/things/{thing_id}")
    assert found["createThing.get"].bindings == [Binding("thing_id", "path", "$response.body#/id")]
    assert found["createThing.content"].follow == ("GET", "/things/{thing_id}/content")
    assert found["createThing.content"].bindings == [
        Binding("thing_id", "path", "$response.body#/id"),
        Binding("full", "query", True),
    ]
    assert not found["createThing.get"].polls


def test_shipped_specs_declare_job_polls_and_response_continuations() -> None:
    aimlapi = {lifecycle.name: lifecycle for lifecycle in discover(specs.load("aimlapi"))}
    video = aimlapi["post_v2_video_generations.poll"]
    assert video.follow == ("GET", "/v2/video/generations") and video.polls
    assert {"completed", "error"} <= set(video.final)
    cancel = aimlapi["ChatBatchesController_createBatch_v1.cancel"]
    assert cancel.follow == ("POST", "/v1/batches/cancel/{batch_id}") and not cancel.polls
    assert cancel.expected == ("canceling", "ended")  # what a cancel sets, or the batch had already ended
    [responses] = discover(specs.load("openresponses"))
    assert responses.follow == ("POST", "/responses") and responses.create_fields == {"store": True}
    assert responses.body["previous_response_id"] == "$response.body#/id"


def test_the_dry_run_lists_the_lifecycles_it_would_follow() -> None:
    result = fuzz("aimlapi", "--dry-run", "--include", "/v1/batches", "--base-url", "http://127.0.0.1:9")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "ChatBatchesController_createBatch_v1.poll: POST /v1/batches → GET /v1/batches (polled until ended)" in text
    assert "ChatBatchesController_createBatch_v1.cancel: POST /v1/batches → POST /v1/batches/cancel/{batch_id}" in text
    without = fuzz("aimlapi", "--dry-run", "--include", "/v1/batches", "--phases", "examples", "--base-url", "x")
    assert "lifecycles" not in without.output
