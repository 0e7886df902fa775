from __future__ import annotations

from apitwin.specs.lint import lint


def valid():
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "post": {
                    "operationId": "a",
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/A"}, "example": {"n": 1}},
                                "text/event-stream": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["data"],
                                        "properties": {
                                            "data": {
                                                "type": "string",
                                                "if": {"const": "[DONE]"},
                                                "else": {
                                                    "contentMediaType": "application/json",
                                                    "contentSchema": {"$ref": "#/components/schemas/A"},
                                                },
                                            }
                                        },
                                    }
                                },
                            },
                        }
                    },
                }
            }
        },
        "components": {"schemas": {"A": {"type": "object", "properties": {"n": {"type": "integer", "default": 0}}}}},
    }


def checks(document):
    return sorted({problem.check for problem in lint(document)})


def test_a_valid_document_has_no_problems():
    assert lint(valid()) == []


def test_dangling_ref_is_reported():
    doc = valid()
    doc["components"]["schemas"]["A"]["properties"]["m"] = {"$ref": "#/components/schemas/Missing"}
    assert "ref" in checks(doc)


def test_invalid_example_and_default_are_reported():
    doc = valid()
    doc["paths"]["/a"]["post"]["responses"]["200"]["content"]["application/json"]["example"] = {"n": "one"}
    doc["components"]["schemas"]["A"]["properties"]["n"]["default"] = "zero"
    assert {"default", "example"} <= set(checks(doc))


def test_duplicate_operation_id_is_reported():
    doc = valid()
    doc["paths"]["/b"] = {"get": {"operationId": "a", "responses": {"200": {"description": "OK"}}}}
    assert "operation-id" in checks(doc)


def test_missing_response_description_fails_the_spec_validator():
    doc = valid()
    del doc["paths"]["/a"]["post"]["responses"]["200"]["description"]
    assert "openapi-spec-validator" in checks(doc)


def test_event_stream_without_the_convention_is_reported():
    doc = valid()
    doc["paths"]["/a"]["post"]["responses"]["200"]["content"]["text/event-stream"]["schema"] = {
        "$ref": "#/components/schemas/A"
    }
    assert "event-stream" in checks(doc)


def test_a_pattern_that_is_not_a_regular_expression_is_reported():
    doc = valid()
    doc["components"]["schemas"]["A"]["properties"]["s"] = {"type": "string", "pattern": "([a-z"}
    assert "schema" in checks(doc)


def test_an_ecma_262_pattern_python_cannot_read_is_not_reported():
    doc = valid()
    doc["components"]["schemas"]["A"]["properties"]["s"] = {"type": "string", "pattern": "^\\p{L}+$"}
    assert "schema" not in checks(doc)


def test_paths_that_differ_only_in_parameter_names_are_reported():
    doc = valid()
    item = next(iter(doc["paths"].values()))
    doc["paths"] = {"/items/{id}": item, "/items/{name}": item, "/items/{id}/parts": item, "/items?beta=true": item}
    found = [problem for problem in lint(doc) if problem.check == "path-template"]
    assert [problem.pointer for problem in found] == ["/paths/~1items~1{name}"]
    assert "/items/{id}" in found[0].message
