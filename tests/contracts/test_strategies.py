"""apitwin.contracts.strategies: every drawn response is valid, and the edge shapes are really drawn."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from apitwin import specs
from apitwin.contracts import strategies
from apitwin.contracts.strategies import DrawnResponse, StrategyError, bodies, responses
from apitwin.mockserver.operations import compile_api
from apitwin.specs.validation import SchemaChecker

SEARCH = settings(max_examples=300, database=None, phases=[Phase.generate])
"""For ``find``: how hard to look for an edge shape before calling it unreachable."""

OPERATIONS = [
    ("lmdeploy", "post_v1_chat_completions"),
    ("aimlapi", "_v1_chat_completions"),
    ("aimlapi", "EmbeddingsController_createEmbeddings_v1"),
    ("sequrity", "post_control_by_endpoint_type_v1_responses"),
]


def _declared_schema(api: str, operation: str, answer: DrawnResponse) -> Any:
    """The schema the spec gives for the drawn status and media type (looked up independently)."""
    document = specs.load(api)
    for raw in _operations(document):
        if raw.get("operationId") != operation:
            continue
        responses_ = raw["responses"]
        key = (
            str(answer.status)
            if str(answer.status) in responses_
            else ("default" if "default" in responses_ else f"{str(answer.status)[0]}XX")
        )
        response = responses_[key]
        if "$ref" in response:
            response = _resolve(document, response["$ref"])
        if answer.media_type is None:
            assert not response.get("content"), f"{answer.status} declares content but none was drawn"
            return None
        return response["content"][answer.media_type]["schema"]
    raise AssertionError(f"{operation} not found")


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "responses" in operation
    ]


def _resolve(document: dict[str, Any], reference: str) -> Any:
    node: Any = document
    for token in reference[2:].split("/"):
        node = node[token]
    return node


@pytest.mark.parametrize(("api", "operation"), OPERATIONS)
def test_every_drawn_response_is_valid_against_its_declared_schema(api: str, operation: str) -> None:
    checker = SchemaChecker(specs.load(api))

    @given(responses(api, operation))
    def check(answer: DrawnResponse) -> None:
        schema = _declared_schema(api, operation, answer)
        if schema is not None:
            assert checker.error(schema, answer.body) is None

    check()


@pytest.mark.parametrize(("api", "operation"), OPERATIONS[:2])
def test_edge_variants_only_narrow_the_schema(api: str, operation: str) -> None:
    """The variants are restrictions: their values are valid even without the safety filter."""
    compiled = strategies._compiled(api)
    media = strategies.find_operation(compiled, operation).responses["200"].media["application/json"]
    bundled = strategies.bundle(compiled.document, media.schema)
    variants = [
        strategies._from_schema(strategies.transform(bundled, edit, closed=True))
        for edit in (strategies._nulls, strategies._lean, strategies._full)
    ]
    assert all(variant is not None for variant in variants)
    checker = SchemaChecker(compiled.document)

    @given(st.one_of(variants))  # type: ignore[arg-type]
    def check(body: Any) -> None:
        assert checker.error(media.schema, body) is None

    check()


CHAT = responses("lmdeploy", "post_v1_chat_completions")


def _message(answer: DrawnResponse) -> dict[str, Any] | None:
    if answer.status != 200 or not answer.body.get("choices"):
        return None
    return answer.body["choices"][0]["message"]


def test_null_content_is_drawn() -> None:
    found = find(CHAT, lambda answer: (_message(answer) or {}).get("content", "absent") is None, settings=SEARCH)
    assert found.body["choices"][0]["message"]["content"] is None


def test_optional_fields_are_drawn_absent() -> None:
    found = find(
        CHAT, lambda answer: _message(answer) is not None and "content" not in _message(answer), settings=SEARCH
    )  # type: ignore[operator]
    assert set(found.body["choices"][0]["message"]) >= {"role"}


def test_empty_arrays_are_drawn() -> None:
    found = find(CHAT, lambda answer: answer.status == 200 and answer.body["choices"] == [], settings=SEARCH)
    assert found.body["choices"] == []


def test_every_declared_error_status_is_drawn_with_a_valid_body() -> None:
    strategy = responses("aimlapi", "_v1_chat_completions")
    checker = SchemaChecker(specs.load("aimlapi"))
    error_schema = {"$ref": "#/components/schemas/Error"}
    for status in (400, 401, 403, 404, 429, 500, 502, 503, 504):
        found = find(strategy, lambda answer, status=status: answer.status == status, settings=SEARCH)
        assert found.media_type == "application/json"
        assert checker.error(error_schema, found.body) is None


def test_numbers_sizes_and_lengths_reach_both_bounds() -> None:
    api = compile_api("inline", {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}})
    number = bodies(api, {"type": "integer", "minimum": 3, "maximum": 7})
    assert find(number, lambda value: value == 3, settings=SEARCH) == 3
    assert find(number, lambda value: value == 7, settings=SEARCH) == 7
    array = bodies(
        api,
        {"type": "array", "minItems": 2, "maxItems": 4, "items": {"type": "string", "minLength": 1, "maxLength": 5}},
    )
    assert len(find(array, lambda value: len(value) == 2, settings=SEARCH)) == 2
    assert find(array, lambda value: any(len(item) == 1 for item in value), settings=SEARCH)


def test_statuses_keeps_only_the_asked_ones() -> None:
    @given(responses("lmdeploy", "post_v1_chat_completions", statuses=[422]))
    def check(answer: DrawnResponse) -> None:
        assert answer.status == 422
        assert answer.media_type == "application/json"

    check()


def test_a_bodiless_response_is_drawn_without_media() -> None:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/items/{id}": {
                "delete": {
                    "operationId": "deleteItem",
                    "responses": {
                        "204": {"description": "gone"},
                        "404": {
                            "description": "unknown",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["error"],
                                        "properties": {"error": {"type": "string"}},
                                    }
                                }
                            },
                        },
                    },
                }
            }
        },
    }
    api = compile_api("items", document)
    assert find(
        responses(api, "DELETE /items/{id}"), lambda answer: answer.status == 204, settings=SEARCH
    ) == DrawnResponse(204, None, None)
    error = find(responses(api, "deleteItem"), lambda answer: answer.status == 404, settings=SEARCH)
    assert isinstance(error.body["error"], str)


def test_recursive_schemas_are_bundled_and_drawn() -> None:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/tree": {
                "get": {
                    "operationId": "getTree",
                    "responses": {
                        "200": {
                            "description": "a tree",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}},
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    },
                }
            }
        },
    }
    api = compile_api("trees", document)
    deep = find(
        responses(api, "getTree"),
        lambda answer: any(child.get("children") for child in answer.body.get("children", [])),
        settings=SEARCH,
    )
    assert api.checker.error({"$ref": "#/components/schemas/Node"}, deep.body) is None


def test_unknown_operation_names_the_known_ones() -> None:
    with pytest.raises(StrategyError, match="post_v1_chat_completions"):
        responses("lmdeploy", "no_such_operation")


def test_unknown_status_says_what_is_declared() -> None:
    with pytest.raises(StrategyError, match="declares 200, 422"):
        responses("lmdeploy", "post_v1_chat_completions", statuses=[418])
