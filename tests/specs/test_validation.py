"""``specs/validation.py``: the fast (native) and the detailed (Python) validators judge alike."""

from __future__ import annotations

import pytest

from apitwin.specs.validation import SchemaChecker

DOCUMENT = {
    "openapi": "3.1.0",
    "components": {
        "schemas": {
            "Tool": {"type": "object", "properties": {"partial_images": {"type": "integer", "format": "int32"}}},
            "Big": {"type": "integer", "format": "int64", "minimum": 5},
        }
    },
}


@pytest.mark.parametrize(
    ("schema", "value", "valid"),
    [
        ({"$ref": "#/components/schemas/Tool"}, {"partial_images": 2**31 - 1}, True),
        ({"$ref": "#/components/schemas/Tool"}, {"partial_images": 2**31}, False),
        ({"type": "integer", "format": "int32"}, -(2**31) - 1, False),
        ({"$ref": "#/components/schemas/Big"}, 4, False),
        ({"$ref": "#/components/schemas/Big"}, 2**63, False),
        ({"$ref": "#/components/schemas/Big"}, 2**40, True),
        ({"type": "object", "properties": {"format": {"type": "string"}}}, {"format": "int32"}, True),
    ],
)
def test_openapi_integer_formats_are_bounds_on_both_paths(schema, value, valid):
    checker = SchemaChecker(DOCUMENT)
    assert checker.fast(schema).is_valid(value) is valid
    assert (checker.error(schema, value) is None) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [("héllo_1", True), ("日本", True), ("a b", False), ("", False), (5, True)],
)
def test_an_ecma_262_pattern_is_judged_alike_on_both_paths(value, valid):
    """Python's re refuses ``\\p{L}``; published specs (AWS's) are full of it."""
    checker = SchemaChecker(DOCUMENT)
    schema = {"type": ["string", "integer"], "pattern": "^[\\p{L}\\p{N}_-]+$"}
    assert checker.fast(schema).is_valid(value) is valid
    assert (checker.error(schema, value) is None) is valid


def test_a_schema_jsonschema_rs_refuses_is_judged_in_python_with_the_same_interface():
    """jsonschema-rs will not compile ``^.{1,2097152}$`` (past its regex size limit); Python can."""
    checker = SchemaChecker(DOCUMENT)
    schema = {"type": "object", "properties": {"body": {"type": "string", "pattern": "^.{1,2097152}$"}}}
    fast = checker.fast(schema)
    assert fast.is_valid({"body": "x" * 1000})
    assert not fast.is_valid({"body": ""})
    [problem] = fast.problems({"body": ""})
    assert problem.path == ("body",)
    assert problem.keyword == "pattern"
    assert "does not match" in problem.message
    assert list(fast.iter_errors({"body": "fine"})) == []


@pytest.mark.parametrize(
    ("fmt", "value", "valid"),
    [
        ("time", "12:00:00Z", True),
        ("time", "12:00:00+01:00", True),
        ("time", "12:00:00", False),  # RFC 3339 needs the zone; the OpenAPI checker had draft 3's rule
        ("regex", "^[\\p{L}]+$", True),
        ("regex", "^[a-z", False),
    ],
)
def test_time_and_regex_formats_are_judged_alike_on_both_paths(fmt, value, valid):
    checker = SchemaChecker(DOCUMENT)
    schema = {"type": "string", "format": fmt}
    assert checker.fast(schema).is_valid(value) is valid
    assert (checker.error(schema, value) is None) is valid


def test_a_discriminator_without_a_mapping_judges_by_the_component_its_value_names():
    """OpenAPI's implicit mapping: the value is a component's name. The judge built ``#/components/schemas/V2``
    relative to a schema that is not the document, and every such value was 'could not be resolved'."""
    document = {
        "openapi": "3.1.0",
        "components": {
            "schemas": {
                "V1": {"type": "object"},
                "V2": {"type": "object", "properties": {"size": {"type": "integer"}}},
            }
        },
    }
    schema = {
        "discriminator": {"propertyName": "format"},
        "oneOf": [{"$ref": "#/components/schemas/V2"}, {"$ref": "#/components/schemas/V1"}],
    }
    checker = SchemaChecker(document)
    assert checker.error(schema, {"format": "V2", "size": 3}) is None
    assert checker.error(schema, {"format": "V1", "size": "three"}) is None  # V1 is open
    assert "is not of type 'integer' (at /size)" in (checker.error(schema, {"format": "V2", "size": "three"}) or "")
