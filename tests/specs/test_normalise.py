from __future__ import annotations

import copy

import pytest

from apitwin.specs.errors import SpecError
from apitwin.specs.normalise import normalise
from apitwin.specs.repairs import RepairLog


def document(**schemas):
    return {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "paths": {},
        "components": {"schemas": schemas},
    }


def run(doc):
    log = RepairLog()
    return normalise(doc, log, source="test.yaml"), log


def kinds(log):
    return [repair.kind for repair in log.repairs]


def test_upgrades_the_version_and_records_it():
    result, log = run(document())
    assert result["openapi"] == "3.1.0"
    assert log.repairs[0].kind == "upgrade-3.1"
    assert log.repairs[0].before == "3.0.3"


def test_nullable_with_type_becomes_a_type_array_and_null_joins_the_enum():
    result, _ = run(document(A={"type": "string", "nullable": True, "enum": ["a", "b"]}))
    assert result["components"]["schemas"]["A"] == {"type": ["string", "null"], "enum": ["a", "b", None]}


def test_bare_nullable_becomes_an_unconstrained_schema_and_says_so():
    result, log = run(document(A={"nullable": True, "description": "anything"}))
    assert result["components"]["schemas"]["A"] == {"description": "anything"}
    assert "nullable-catch-all" in kinds(log)


def test_nullable_composition_gains_a_null_branch():
    result, _ = run(document(A={"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True}))
    assert result["components"]["schemas"]["A"]["oneOf"][-1] == {"type": "null"}


def test_a_null_type_beside_a_composition_of_non_null_branches_becomes_one_more_branch():
    """vercel's ``{type: "null", oneOf: [string, number]}``: unsatisfiable as written, a hand-made 3.0 nullable."""
    branches = [{"type": "string"}, {"type": "array", "items": {"$ref": "#/components/schemas/A"}}]
    result, log = run(document(A={"oneOf": branches, "type": "null", "description": "a value"}))
    assert result["components"]["schemas"]["A"] == {"oneOf": [*branches, {"type": "null"}], "description": "a value"}
    (repair,) = [repair for repair in log.repairs if repair.kind == "null-beside-composition"]
    assert repair.pointer == "/components/schemas/A/type" and "allows no value" in repair.reason
    # A branch that may be null, or one behind a $ref, leaves the schema as published.
    for kept in ([{"type": ["string", "null"]}], [{"$ref": "#/components/schemas/B"}], [{}]):
        result, log = run(document(A={"anyOf": kept, "type": "null"}, B={"type": "string"}))
        assert result["components"]["schemas"]["A"] == {"anyOf": kept, "type": "null"}
        assert "null-beside-composition" not in kinds(log)


def test_nullable_false_is_dropped_without_changing_meaning():
    result, _ = run(document(A={"type": "string", "nullable": False}))
    assert result["components"]["schemas"]["A"] == {"type": "string"}


def test_placeholder_type_is_removed_and_logged():
    result, log = run(document(A={"type": "–", "title": "–"}))
    assert result["components"]["schemas"]["A"] == {}
    assert log.repairs[-1].kind == "placeholder-type"


def test_get_with_a_placeholder_body_loses_the_body():
    doc = document()
    doc["paths"]["/balance"] = {
        "get": {
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "–"}}}},
            "responses": {"200": {"description": "OK"}},
        }
    }
    result, log = run(doc)
    assert "requestBody" not in result["paths"]["/balance"]["get"]
    assert "bodyless-request" in kinds(log)


def test_boolean_required_moves_to_the_parent_list():
    result, _ = run(document(A={"type": "object", "properties": {"url": {"type": "string", "required": True}}}))
    assert result["components"]["schemas"]["A"] == {
        "type": "object",
        "properties": {"url": {"type": "string"}},
        "required": ["url"],
    }


def test_typeless_enum_gets_the_type_of_its_values():
    result, _ = run(document(A={"enum": ["#g1_aura-2-amalthea-en"]}))
    assert result["components"]["schemas"]["A"]["type"] == "string"


def test_string_default_on_integer_enum_is_coerced():
    result, log = run(document(A={"type": "integer", "enum": [5, 10], "default": "5"}))
    assert result["components"]["schemas"]["A"]["default"] == 5
    assert log.repairs[-1].before == "5" and log.repairs[-1].after == 5


def test_default_that_cannot_be_coerced_is_dropped_with_the_reason():
    result, log = run(document(A={"type": "integer", "enum": [5, 10], "default": "seven"}))
    assert "default" not in result["components"]["schemas"]["A"]
    assert "not valid against its own schema" in log.repairs[-1].reason


def test_contradicting_examples_are_dropped_and_valid_ones_kept():
    result, log = run(
        document(A={"type": "string", "enum": ["a"], "example": "b"}, B={"type": "integer", "example": 3})
    )
    assert "examples" not in result["components"]["schemas"]["A"]
    assert result["components"]["schemas"]["B"]["examples"] == [3]
    assert "invalid-example" in kinds(log)


def test_media_type_example_is_checked_against_refs_in_the_document():
    doc = document(Pet={"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}})
    media = {"schema": {"$ref": "#/components/schemas/Pet"}, "example": {"id": "x"}}
    doc["paths"]["/p"] = {"get": {"responses": {"200": {"description": "OK", "content": {"application/json": media}}}}}
    result, log = run(doc)
    assert "example" not in result["paths"]["/p"]["get"]["responses"]["200"]["content"]["application/json"]
    assert "'x' is not of type 'integer'" in log.repairs[-1].reason


def test_missing_response_description_comes_from_the_reason_phrase():
    doc = document()
    doc["paths"]["/p"] = {"get": {"responses": {"201": {}, "default": {"description": ""}}}}
    result, _ = run(doc)
    responses = result["paths"]["/p"]["get"]["responses"]
    assert responses["201"]["description"] == "Created"
    assert responses["default"]["description"] == "Unexpected error"


def test_http_scheme_loses_empty_bearer_format_and_stray_in():
    doc = document()
    doc["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "", "in": "header"}
    }
    result, _ = run(doc)
    assert result["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_ref_relative_to_its_schema_root_is_inlined():
    result, log = run(
        document(A={"type": "object", "properties": {"id": {"type": "integer"}, "same": {"$ref": "#/properties/id"}}})
    )
    assert result["components"]["schemas"]["A"]["properties"]["same"] == {"type": "integer"}
    assert log.repairs[-1].kind == "dangling-ref"


def test_ref_that_resolves_nowhere_is_an_error_naming_the_pointer():
    with pytest.raises(SpecError, match="dangling reference #/nowhere") as caught:
        run(document(A={"type": "object", "properties": {"x": {"$ref": "#/nowhere"}}}))
    assert caught.value.file == "test.yaml"
    assert caught.value.location == "/components/schemas/A/properties/x/$ref"


def test_discriminator_gets_a_mapping_from_branch_consts():
    doc = document(
        Item={"oneOf": [{"$ref": "#/components/schemas/Message"}], "discriminator": {"propertyName": "type"}},
        Message={
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"type": "string", "enum": ["message"]}},
        },
    )
    doc["openapi"] = "3.1.0"
    result, _ = run(doc)
    assert result["components"]["schemas"]["Item"]["discriminator"]["mapping"] == {
        "message": "#/components/schemas/Message"
    }


def test_discriminator_that_cannot_be_mapped_is_removed():
    doc = document(
        Item={"oneOf": [{"$ref": "#/components/schemas/Ref"}], "discriminator": {"propertyName": "type"}},
        Ref={"type": "object", "properties": {"type": {"type": "string"}}},
    )
    result, log = run(doc)
    assert "discriminator" not in result["components"]["schemas"]["Item"]
    assert log.repairs[-1].kind == "discriminator"


def test_input_document_is_not_mutated():
    doc = document(A={"type": "string", "nullable": True})
    before = copy.deepcopy(doc)
    run(doc)
    assert doc == before


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "top level is a list"),
        ({"swagger": "2.0"}, "Swagger 2.0 is not supported"),
        ({"info": {}}, "no 'openapi' field"),
        ({"openapi": "4.0.0"}, "unsupported OpenAPI version"),
    ],
)
def test_non_openapi_input_is_a_spec_error(doc, message):
    with pytest.raises(SpecError, match=message) as caught:
        run(doc)
    assert caught.value.file == "test.yaml"


def test_operation_without_responses_is_a_spec_error_naming_it():
    doc = document()
    doc["paths"]["/p"] = {"get": {}}
    with pytest.raises(SpecError) as caught:
        run(doc)
    assert caught.value.location == "/paths/~1p/get/responses"


def test_ids_of_the_x_oaimeta_examples_become_examples_of_the_string_schemas_they_fill():
    """Issue 12, point 3: OpenAI keeps its examples as JSON text in x-oaiMeta (a schema's `example`, an operation's
    `examples[].response`, a stream's events one after another); their ids reach the schemas, logged."""
    file_schema = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "object": {"type": "string"}},
        # The published text has a trailing comma; JSON5 reads it.
        "x-oaiMeta": {"example": '{\n  "id": "file-abc123",\n  "object": "file",\n}\n'},
    }
    chunk = {"type": "object", "properties": {"id": {"type": "string"}, "object": {"const": "chat.completion.chunk"}}}
    completion = {"type": "object", "properties": {"id": {"type": "string"}, "object": {"const": "chat.completion"}}}
    doc = document(OpenAIFile=file_schema, Chunk=chunk, Completion=completion)
    stream = '{"id":"chatcmpl-123","object":"chat.completion.chunk"}\n\n' * 2
    doc["paths"]["/chat/completions"] = {
        "post": {
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Completion"}},
                        "text/event-stream": {"schema": {"$ref": "#/components/schemas/Chunk"}},
                    },
                }
            },
            "x-oaiMeta": {
                "examples": [
                    {"title": "Default", "response": '{"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"}'},
                    {"title": "Streaming", "response": stream},
                    {"title": "Broken", "response": "not json"},
                ]
            },
        }
    }
    result, log = run(doc)
    schemas = result["components"]["schemas"]
    assert schemas["OpenAIFile"]["properties"]["id"]["examples"] == ["file-abc123"]
    assert schemas["Completion"]["properties"]["id"]["examples"] == ["chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"]
    assert schemas["Chunk"]["properties"]["id"]["examples"] == ["chatcmpl-123"]  # the stream's events, one by one
    given = [repair for repair in log.repairs if repair.kind == "examples-from-x-oaiMeta"]
    assert [repair.pointer for repair in given] == [
        "/components/schemas/OpenAIFile/properties/id/examples",
        "/components/schemas/Completion/properties/id/examples",
        "/components/schemas/Chunk/properties/id/examples",
    ]
    assert given[0].source == "test.yaml#/components/schemas/OpenAIFile/x-oaiMeta/example"
    assert given[2].source == "test.yaml#/paths/~1chat~1completions/post/x-oaiMeta/examples/1/response"
    assert given[2].reason.startswith("2 of the 2 ids the vendor's x-oaiMeta examples give here start with 'chatcmpl-'")


def test_examples_of_an_ecma_262_pattern_are_judged_not_a_crash():
    """``\\p{L}`` is ECMA-262; Python's re refused it and the whole spec failed to normalise."""
    pattern = "^[\\p{L}\\p{Z}]+$"
    result, log = run(document(Name={"type": "string", "pattern": pattern, "example": "Zoë Smith"}))
    assert result["components"]["schemas"]["Name"]["examples"] == ["Zoë Smith"]
    result, log = run(document(Name={"type": "string", "pattern": pattern, "example": "R2-D2"}))
    assert "examples" not in result["components"]["schemas"]["Name"]
    assert "invalid-example" in kinds(log)


def test_an_empty_media_type_is_read_as_any():
    """APIs.guru's conversions key some content maps ``""``; schemathesis refused those operations."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    doc = document()
    doc["paths"] = {
        "/things": {
            "post": {
                "requestBody": {"content": {"": {"schema": schema}}},
                "responses": {"200": {"description": "ok", "content": {"": {"schema": schema}, "*/*": {}}}},
            }
        }
    }
    result, log = run(doc)
    operation = result["paths"]["/things"]["post"]
    assert operation["requestBody"]["content"] == {"*/*": {"schema": schema}}
    assert operation["responses"]["200"]["content"] == {"*/*": {}}  # the declared */* is kept
    assert kinds(log).count("empty-media-type") == 2
