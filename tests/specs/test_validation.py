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
