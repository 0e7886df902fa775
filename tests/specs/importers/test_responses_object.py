"""Tests for specs/importers/responses_object.py: a bare Operation ``responses`` object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apitwin.specs.errors import SpecError
from apitwin.specs.importers.responses_object import import_api
from apitwin.specs.pointer import resolve
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parents[3]
SEED = REPO / ".." / "shared" / "seeds" / "001_7f8f9858cfbc6f13.txt"
OPTIONS = {"method": "post", "path": "/v1/responses", "title": "Test"}
SMALL = '{"responses":{"200":{"description":"OK"}}}'


def _import(text: str, **options: Any) -> tuple[dict[str, Any], RepairLog]:
    log = RepairLog()
    document = import_api(Source("doc.txt", text), log, **(options or OPTIONS))
    return document, log


def _fixture() -> tuple[dict[str, Any], RepairLog]:
    log = RepairLog()
    document = import_api(Source.read(FIXTURES / "responses_object_filter.txt"), log, **OPTIONS)
    return document, log


def _response_schema(document: dict[str, Any]) -> dict[str, Any]:
    return document["paths"]["/v1/responses"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": document.get("components", {})})


def test_the_operation_is_built_at_the_catalogue_address():
    document, _ = _import(SMALL)
    operation = document["paths"]["/v1/responses"]["post"]
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Test", "version": "0.0.0"}
    assert operation["responses"] == {"200": {"description": "OK"}}
    assert operation["x-apitwin-sources"] == [{"file": "doc.txt", "line": 1, "pointer": "/responses"}]


def test_the_request_body_is_an_open_object_and_logged():
    document, log = _import(SMALL)
    body = document["paths"]["/v1/responses"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"]["type"] == "object"
    assert log.kinds() == {"request-body": 1}


def test_stray_prefix_and_identical_copies_are_dropped_and_logged():
    _, log = _fixture()
    kinds = log.kinds()
    assert kinds["stray-prefix"] == 1
    assert kinds["duplicate-line"] == 1
    duplicate = next(repair for repair in log.repairs if repair.kind == "duplicate-line")
    assert duplicate.source == "responses_object_filter.txt:2"


def test_differing_copies_are_an_error_with_the_line():
    with pytest.raises(SpecError) as error:
        _import(SMALL + "\n" + SMALL.replace("OK", "Fine"))
    assert error.value.file == "doc.txt"
    assert error.value.location == "line 2"


def test_truncated_json_is_an_error_with_the_line():
    with pytest.raises(SpecError) as error:
        _import("\n1" + SMALL[:20])
    assert error.value.location == "line 2"
    assert "not valid JSON" in error.value.message


@pytest.mark.parametrize("text", ["", "   \n", '{"paths": {}}', '{"responses": {}}', "[1, 2]"])
def test_text_that_is_not_a_responses_object_is_an_error(text):
    with pytest.raises(SpecError):
        _import(text)


def test_the_catalogue_must_give_method_and_path():
    with pytest.raises(SpecError) as error:
        import_api(Source("doc.txt", SMALL), RepairLog())
    assert "'method' and 'path'" in error.value.message


def test_the_circular_placeholder_becomes_a_recursive_ref():
    document, log = _fixture()
    schema = _response_schema(document)
    assert schema["properties"]["filters"]["oneOf"][1] == {"$ref": "#/components/schemas/Filter"}
    hoisted = document["components"]["schemas"]["Filter"]
    items = hoisted["oneOf"][1]["properties"]["filters"]["items"]
    assert items == {"$ref": "#/components/schemas/Filter", "description": "Nested filters."}
    assert log.kinds()["circular-placeholder"] == 1
    nested = {"filters": {"type": "x", "filters": [{"key": "a"}, {"filters": [{"key": "b"}]}]}}
    validator = _validator(document, schema)
    assert validator.is_valid({"id": "r", **nested})
    assert not validator.is_valid({"id": "r", "filters": {"filters": [{"nokey": 1}]}})


def test_a_placeholder_without_a_titled_ancestor_accepts_anything():
    schema = {"type": "array", "items": {"oneOf": "circular()", "title": "Nowhere"}}
    content = {"application/json": {"schema": schema}}
    text = json.dumps({"responses": {"200": {"description": "OK", "content": content}}})
    document, log = _import(text)
    assert _response_schema(document)["items"] == {}
    assert log.kinds()["circular-placeholder"] == 1


def test_the_unsatisfiable_allof_keeps_the_schema_it_decorates():
    document, log = _fixture()
    branches = _response_schema(document)["properties"]["tool_choice"]["oneOf"]
    assert branches[0]["allOf"] == [{"type": "string", "enum": ["none", "auto"], "title": "ToolChoiceOptions"}]
    assert len(branches[1]["allOf"]) == 2  # object with object: satisfiable, left alone
    assert log.kinds()["unsatisfiable-allof"] == 1
    example = document["paths"]["/v1/responses"]["post"]["responses"]["200"]["content"]["application/json"]["example"]
    assert _validator(document, _response_schema(document)).is_valid(example)


def test_output_is_deterministic():
    first, _ = _fixture()
    second, _ = _fixture()
    assert json.dumps(first) == json.dumps(second)


needs_seed = pytest.mark.skipif(not SEED.exists(), reason="vendor documents not in ../shared/seeds")


@pytest.mark.seeds
@needs_seed
def test_seed_001_imports_with_its_known_repairs():
    log = RepairLog()
    document = import_api(Source.read(SEED), log, **OPTIONS)
    assert log.kinds() == {
        "circular-placeholder": 1,
        "duplicate-line": 1,
        "request-body": 1,
        "stray-prefix": 1,
        "unsatisfiable-allof": 1,
    }
    operation = document["paths"]["/v1/responses"]["post"]
    assert sorted(operation["responses"]) == ["200", "404", "500"]
    schema = _response_schema(document)
    assert len(schema["properties"]) == 30
    assert "Filter" in document["components"]["schemas"]
    assert "circular()" not in json.dumps(document)
    example = operation["responses"]["200"]["content"]["application/json"]["example"]
    assert _validator(document, schema).is_valid(example)
    resolve(document, "#/components/schemas/Filter")
