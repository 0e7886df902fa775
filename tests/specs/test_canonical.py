"""specs.canonical: spellings of one schema meaning give one form."""

from __future__ import annotations

from apitwin.specs.canonical import canonical, memoised, reference

PET = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
DOCUMENT = {
    "components": {
        "schemas": {
            "Pet": PET,
            "Shapes": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "Loop": {"allOf": [{"$ref": "#/components/schemas/Loop"}]},
        }
    }
}
REF = {"$ref": "#/components/schemas/Pet"}


def form(node):
    return canonical(DOCUMENT, node)[0]


def test_nullable_spellings_give_one_form():
    nullable_pet = {**PET, "nullable": True}
    assert form({**REF, "nullable": True}) == nullable_pet
    assert form({"allOf": [REF, {"nullable": True}]}) == nullable_pet
    assert form({"anyOf": [REF, {"type": "null"}]}) == nullable_pet
    assert form({"type": ["string", "null"]}) == {"type": "string", "nullable": True}
    assert form({"enum": ["a", None]}) == {"enum": ["a", None], "nullable": True}


def test_all_of_parts_merge_and_a_clashing_part_stays():
    merged = form({"allOf": [REF, {"properties": {"age": {"type": "integer"}}, "required": ["age"]}]})
    assert merged["properties"] == {"name": {"type": "string"}, "age": {"type": "integer"}}
    assert merged["required"] == ["name", "age"]
    clash = form({"allOf": [{"type": "string"}, {"type": "integer"}]})
    assert clash == {"type": "string", "allOf": [{"type": "integer"}]}


def test_a_property_in_two_parts_holds_both():
    merged = form({"allOf": [REF, {"properties": {"name": {"maxLength": 3}}}]})
    assert merged["properties"]["name"] == {"allOf": [{"type": "string"}, {"maxLength": 3}]}
    assert form(merged["properties"]["name"]) == {"type": "string", "maxLength": 3}


def test_unions_behind_refs_flatten_and_a_single_branch_is_the_schema():
    shapes = {"$ref": "#/components/schemas/Shapes"}
    assert form({"oneOf": [shapes, {"type": "boolean"}]})["oneOf"] == [
        {"type": "string"},
        {"type": "integer"},
        {"type": "boolean"},
    ]
    assert form({"anyOf": [shapes, {"type": "null"}]}) == {
        **DOCUMENT["components"]["schemas"]["Shapes"],
        "nullable": True,
    }
    assert form({"oneOf": [REF]}) == PET


def test_identity_names_the_ref_with_its_siblings():
    assert canonical(DOCUMENT, REF)[1] == "#/components/schemas/Pet"
    assert canonical(DOCUMENT, {**REF, "description": "x"})[1] == "#/components/schemas/Pet"
    assert canonical(DOCUMENT, {**REF, "nullable": True})[1] == '#/components/schemas/Pet{"nullable": true}'
    assert reference(DOCUMENT, {"allOf": [REF, {"nullable": True}]}) == "#/components/schemas/Pet"


def test_a_self_wrapping_all_of_terminates():
    assert isinstance(form({"$ref": "#/components/schemas/Loop"}), dict)


def test_memoised_forms_are_the_same_objects_and_are_dropped_after():
    node = {"allOf": [REF]}
    with memoised(DOCUMENT):
        assert canonical(DOCUMENT, node) is canonical(DOCUMENT, node)
    assert canonical(DOCUMENT, node) is not canonical(DOCUMENT, node)
