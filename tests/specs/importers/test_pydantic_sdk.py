"""Tests for specs/importers/pydantic_sdk.py: pydantic JSON Schemas in an SDK reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apitwin.specs.errors import SpecError
from apitwin.specs.importers.pydantic_sdk import import_api, parse_models, rewrite_defs_refs
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parents[3]
SEED = REPO / ".." / "shared" / "seeds" / "004_fe8d8c04ab290f2c.txt"
REFERENCE = FIXTURES / "pydantic_sdk_reference.txt"


def _fixture(**options: Any) -> tuple[dict[str, Any], RepairLog]:
    log = RepairLog()
    return import_api(Source.read(REFERENCE), log, **options), log


def _validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    schemas = document["components"]["schemas"]
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": {"schemas": schemas}})


def test_models_blocks_and_documented_fields_are_parsed():
    models = parse_models(Source.read(REFERENCE))
    assert [model.name for model in models] == ["WidgetRequest", "TextPart", "WidgetResponse"]
    assert models[0].schema["title"] == "WidgetRequest"  # the '{' in the docstring is not the block
    assert models[0].fields == ["model", "parts"]
    assert models[1].schema is None and models[1].has_block
    assert models[1].fields == ["type", "text"]


def test_defs_are_hoisted_and_refs_and_mappings_rewritten():
    document, log = _fixture()
    schemas = document["components"]["schemas"]
    assert sorted(schemas) == ["ImagePart", "TextPart", "WidgetRequest", "WidgetResponse"]
    items = schemas["WidgetRequest"]["properties"]["parts"]["anyOf"][0]["items"]
    assert items["oneOf"] == [{"$ref": "#/components/schemas/TextPart"}, {"$ref": "#/components/schemas/ImagePart"}]
    assert items["discriminator"]["mapping"] == {
        "image": "#/components/schemas/ImagePart",
        "text": "#/components/schemas/TextPart",
    }
    assert "$defs" not in json.dumps(document)
    hoist = next(repair for repair in log.repairs if repair.kind == "hoist-defs")
    assert hoist.source == "pydantic_sdk_reference.txt:5"
    assert hoist.before == "2 $defs, 4 references to #/$defs/"
    validator = _validator(document, "WidgetRequest")
    assert validator.is_valid({"model": "m", "parts": [{"type": "image", "url": "u"}]})
    assert not validator.is_valid({"model": "m", "parts": [{"type": "image", "text": "t"}]})


def test_an_empty_block_takes_the_schema_defined_elsewhere_and_is_logged():
    document, log = _fixture()
    assert document["components"]["schemas"]["TextPart"]["required"] == ["type", "text"]
    empty = [repair for repair in log.repairs if repair.kind == "empty-schema"]
    assert len(empty) == 1
    assert empty[0].pointer == "/components/schemas/TextPart"
    assert empty[0].before == {"documented fields": ["type", "text"]}


def test_an_empty_block_defined_nowhere_gets_its_documented_fields():
    text = "Thing\npydantic-model\nShow JSON schema:\nFields:\n-\nname(str)\n"
    log = RepairLog()
    document = import_api(Source("ref.txt", text), log)
    assert document["components"]["schemas"]["Thing"] == {
        "type": "object",
        "title": "Thing",
        "properties": {"name": {}},
    }
    assert log.kinds() == {"empty-schema": 1}


def test_no_operation_without_an_address():
    document, _ = _fixture()
    assert document["paths"] == {}
    assert document["info"]["title"] == "Widgets API"


def test_an_address_builds_the_operation_from_the_request_and_response_sections():
    document, _ = _fixture(path="/widgets", method="POST")
    operation = document["paths"]["/widgets"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/WidgetRequest"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/WidgetResponse"}
    assert [entry["line"] for entry in operation["x-apitwin-sources"]] == [5, 100]


def test_rewrite_leaves_other_refs_alone():
    node = {"$ref": "#/components/schemas/A", "items": [{"$ref": "#/$defs/B"}]}
    assert rewrite_defs_refs(node) == 1
    assert node == {"$ref": "#/components/schemas/A", "items": [{"$ref": "#/components/schemas/B"}]}


def test_a_truncated_block_is_an_error_with_its_line():
    text = REFERENCE.read_text(encoding="utf-8")
    cut = text.index('"required": [\n"model"')
    with pytest.raises(SpecError) as error:
        import_api(Source("ref.txt", text[:cut]), RepairLog())
    assert error.value.file == "ref.txt"
    assert error.value.location.startswith("line ")
    assert "WidgetRequest is not valid JSON" in error.value.message


def test_two_different_definitions_of_one_name_are_an_error():
    block = '{"$defs": {"Part": {"type": "%s"}}, "type": "object", "title": "%s"}'
    text = (
        f"A\npydantic-model\nShow JSON schema:\n{block % ('string', 'A')}\nB\npydantic-model\nShow JSON "
        f"schema:\n{block % ('integer', 'B')}\n"
    )
    with pytest.raises(SpecError) as error:
        import_api(Source("ref.txt", text), RepairLog())
    assert error.value.location == "line 5"
    assert "Part is defined differently" in error.value.message


def test_documented_fields_missing_from_the_schema_are_an_error():
    text = (
        'A\npydantic-model\nShow JSON schema:\n{"$defs": {"B": {"type": "object", "properties": {"x": {}}}}, "title": '
        '"A"}\nB\npydantic-model\nShow JSON schema:\nFields:\n-\ny(int)\n'
    )
    with pytest.raises(SpecError) as error:
        import_api(Source("ref.txt", text), RepairLog())
    assert "documents fields ['y']" in error.value.message


def test_text_without_models_is_an_error():
    with pytest.raises(SpecError):
        import_api(Source("ref.txt", "just prose\n"), RepairLog())


def test_output_is_deterministic():
    first, _ = _fixture(path="/widgets")
    second, _ = _fixture(path="/widgets")
    assert json.dumps(first) == json.dumps(second)


needs_seed = pytest.mark.skipif(not SEED.exists(), reason="vendor documents not in ../shared/seeds")


@pytest.mark.seeds
@needs_seed
def test_seed_004_hoists_every_schema_and_fills_the_three_empty_models():
    log = RepairLog()
    document = import_api(Source.read(SEED), log)
    schemas = document["components"]["schemas"]
    assert len(schemas) == 117
    assert log.kinds() == {"empty-schema": 3, "hoist-defs": 13}
    filled = sorted(repair.pointer.rsplit("/", 1)[1] for repair in log.repairs if repair.kind == "empty-schema")
    assert filled == ["InputTextParam", "ResponseError", "StreamOptionsParam"]
    assert "#/$defs/" not in json.dumps(document)
    assert len(schemas["ResponsesRequest"]["properties"]) == 29
    assert schemas["ResponsesResponse"]["required"] == [
        "id",
        "object",
        "created_at",
        "model",
        "output",
        "parallel_tool_calls",
        "tool_choice",
        "tools",
    ]
