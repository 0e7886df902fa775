"""specs/spec_validator.py: openapi-spec-validator with the meta-schema check asked of jsonschema-rs first gives
exactly the errors the original gives, and leaves the Python check to the schemas that fail."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator.validation import keywords

from apitwin.specs.spec_validator import SpecValidator

SCHEMAS: list[Any] = [
    {"type": "string"},
    {"type": "strin"},
    {"type": ["string", "null"], "maxLength": 3},
    {"required": "a"},
    {"minimum": "x"},
    {"type": "object", "properties": {"a": {"type": 3}}},
    {"type": "string", "pattern": "("},
    {"type": "string", "pattern": "^[a-z]+$"},
    {"anyOf": [{"type": "string"}, {"$ref": 5}]},
    {"allOf": [{"$ref": "#/components/schemas/Pet"}], "required": ["name", "ghost"]},
    {"discriminator": {"propertyName": "kind"}, "oneOf": [{"$ref": "#/components/schemas/Pet"}]},
    {"items": {"enum": "not a list"}},
    {"$schema": 3},
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "strin"},
    True,
    {"type": "integer", "default": "seven"},
]


def document(schema: Any, dialect: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}
                }
            }
        },
        "components": {
            "schemas": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}, "Other": schema}
        },
    }
    if dialect is not None:
        found["jsonSchemaDialect"] = dialect
    return found


def errors(validator: type[OpenAPIV31SpecValidator], spec: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    return [(error.message, list(error.absolute_path)) for error in validator(spec).iter_errors()]


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
@pytest.mark.parametrize("dialect", [None, "https://json-schema.org/draft/2020-12/schema"])
def test_the_same_errors_as_openapi_spec_validator(schema: Any, dialect: str | None):
    spec = document(schema, dialect)
    assert errors(SpecValidator, spec) == errors(OpenAPIV31SpecValidator, spec)


def test_only_schemas_the_native_check_refuses_reach_the_python_check(monkeypatch: pytest.MonkeyPatch):
    checked: list[Any] = []
    original = keywords.OpenAPIV31SchemaValidator._validate_schema_meta

    def counted(self: Any, schema: Any, value: Any) -> Any:
        checked.append(value)
        return original(self, schema, value)

    monkeypatch.setattr(keywords.OpenAPIV31SchemaValidator, "_validate_schema_meta", counted)
    assert errors(SpecValidator, document({"type": "string", "maxLength": 2})) == []
    assert checked == []
    found = errors(SpecValidator, document({"type": "strin"}))
    assert found and all("strin" in message for message, _ in found)
    assert checked and all(value == {"type": "strin"} for value in checked)
