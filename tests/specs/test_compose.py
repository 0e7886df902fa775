from __future__ import annotations

from apitwin.specs.compose import compose, derive_operation_id
from apitwin.specs.dedupe import MIN_SIZE
from apitwin.specs.repairs import RepairLog


def big_schema(tag: str = "x") -> dict:
    return {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": {"type": "string", "enum": ["system", "user", "assistant", "tool"]},
            "content": {"type": "string", "description": f"The contents of the message ({tag})."},
        },
    }


def body(schema):
    return {"content": {"application/json": {"schema": schema}}}


def doc_with_two_copies():
    response = {"200": {"description": "OK"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "post": {
                    "requestBody": body(
                        {"type": "object", "properties": {"messages": {"type": "array", "items": big_schema()}}}
                    ),
                    "responses": response,
                }
            },
            "/b": {
                "post": {
                    "requestBody": body(
                        {"type": "object", "properties": {"messages": {"type": "array", "items": big_schema()}}}
                    ),
                    "responses": response,
                }
            },
        },
    }


def test_identical_subschemas_are_hoisted_once():
    log = RepairLog()
    result = compose(doc_with_two_copies(), log, source="t")
    schemas = result["components"]["schemas"]
    assert list(schemas) == ["MessagesItem"] or len(schemas) == 1
    name = next(iter(schemas))
    for path in ("/a", "/b"):
        items = result["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert items == {"$ref": f"#/components/schemas/{name}"} or items["properties"]["messages"]["items"] == {
            "$ref": f"#/components/schemas/{name}"
        }
    assert [r.kind for r in log.repairs].count("dedupe") == 1


def test_small_or_unique_schemas_stay_inline():
    doc = doc_with_two_copies()
    doc["paths"]["/b"]["post"]["requestBody"] = body(
        {"type": "object", "properties": {"messages": {"type": "array", "items": big_schema("other")}}}
    )
    result = compose(doc, RepairLog(), source="t")
    assert not result.get("components", {}).get("schemas")
    assert len('{"type":"string"}') < MIN_SIZE


def test_existing_component_is_reused():
    doc = doc_with_two_copies()
    doc["paths"]["/b"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["n"] = {
        "type": "integer"
    }
    doc["components"] = {"schemas": {"Message": big_schema()}}
    result = compose(doc, RepairLog(), source="t")
    schemas = result["components"]["schemas"]
    assert schemas["Message"] == big_schema()
    assert '"role"' not in str({name: body for name, body in schemas.items() if name != "Message"}).replace("'", '"')
    assert "#/components/schemas/Message" in str(result["paths"]) + str(schemas)


def test_path_alias_is_written_out_with_its_own_operation_id():
    doc = doc_with_two_copies()
    doc["paths"]["/a"]["post"]["operationId"] = "createA"
    doc["paths"]["/alias"] = {"$ref": "#/paths/~1a"}
    log = RepairLog()
    result = compose(doc, log, source="t")
    alias = result["paths"]["/alias"]["post"]
    assert alias["x-apitwin-alias-of"] == "/a"
    assert alias["operationId"] == "post_alias"
    assert result["paths"]["/a"]["post"]["operationId"] == "createA"


def test_an_alias_may_replace_keys_of_its_operations_and_its_path_parameters():
    """The Azure flow's chat URL authenticates and takes its body differently: the alias says so beside its $ref."""
    doc = doc_with_two_copies()
    parameter = {"name": "deployment", "in": "path", "required": True, "schema": {"type": "string"}}
    doc["paths"]["/deployments/{deployment}/a"] = {
        "$ref": "#/paths/~1a",
        "parameters": [parameter],
        "post": {"security": [{"api-key": []}], "requestBody": body({"type": "object"})},
    }
    log = RepairLog()
    result = compose(doc, log, source="t")
    alias = result["paths"]["/deployments/{deployment}/a"]
    assert alias["parameters"] == [parameter]
    assert alias["post"]["security"] == [{"api-key": []}]
    assert alias["post"]["requestBody"] == body({"type": "object"})
    assert alias["post"]["responses"] == result["paths"]["/a"]["post"]["responses"]
    assert alias["post"]["x-apitwin-alias-of"] == "/a"
    assert "security" not in result["paths"]["/a"]["post"]
    assert result["paths"]["/a"]["post"]["requestBody"] != alias["post"]["requestBody"]


def test_duplicate_operation_ids_are_replaced_by_derived_ones():
    doc = doc_with_two_copies()
    doc["paths"]["/a"]["post"]["operationId"] = "same"
    doc["paths"]["/b"]["post"]["operationId"] = "same"
    result = compose(doc, RepairLog(), source="t")
    assert result["paths"]["/a"]["post"]["operationId"] == "post_a"
    assert result["paths"]["/b"]["post"]["operationId"] == "post_b"


def test_derived_operation_ids_read_like_the_path():
    assert derive_operation_id("get", "/v1/stt/{generation_id}") == "get_v1_stt_by_generation_id"
    assert (
        derive_operation_id("post", "/v2/generate/audio/minimax/generate") == "post_v2_generate_audio_minimax_generate"
    )


def test_compose_is_deterministic():
    assert compose(doc_with_two_copies(), RepairLog(), source="t") == compose(
        doc_with_two_copies(), RepairLog(), source="t"
    )
