"""specs diff: breaking and non-breaking changes between two versions of a spec, per direction."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from apitwin import specs
from apitwin.contracts.cli import main
from apitwin.specs.diff import diff, render_text

FIXTURES = Path(__file__).parent / "fixtures" / "diff"
BODY = "/requestBody/content/application~1json/schema"
OK = "/responses/200/content/application~1json/schema"


def document(
    request: Any = None,
    response: Any = None,
    *,
    parameters: list | None = None,
    responses: dict | None = None,
    components: dict | None = None,
) -> dict:
    """One POST /items operation: ``request`` is its JSON body schema, ``response`` its 200 schema."""
    operation: dict[str, Any] = {"operationId": "createItem", "parameters": parameters or []}
    if request is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
    operation["responses"] = {
        "200": {"description": "ok", "content": {"application/json": {"schema": response or {"type": "object"}}}},
        **(responses or {}),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/items": {"post": operation}},
        "components": {"schemas": components or {}},
    }


def obj(properties: dict, required: tuple = (), **extra: Any) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), **extra}


def only(old: dict, new: dict) -> tuple[bool, str, str]:
    """The one change between the documents: (breaking, kind, pointer)."""
    changes = diff(old, new)
    assert len(changes) == 1, changes
    return changes[0].breaking, changes[0].kind, changes[0].pointer


NAME = {"name": {"type": "string"}}
ERROR = obj({"error": obj({"message": {"type": "string"}}, ("message",))}, ("error",))
ERROR_400 = {"400": {"description": "bad", "content": {"application/json": {"schema": ERROR}}}}

RULES = [
    # request side: narrowing breaks, widening does not
    (
        "request type narrowed",
        document(obj({"n": {"type": ["integer", "string"]}})),
        document(obj({"n": {"type": "integer"}})),
        True,
        "type-narrowed",
        BODY + "/properties/n",
    ),
    (
        "request type widened",
        document(obj({"n": {"type": "integer"}})),
        document(obj({"n": {"type": ["integer", "null"]}})),
        False,
        "type-widened",
        BODY + "/properties/n",
    ),
    (
        "request integer → number",
        document(obj({"n": {"type": "integer"}})),
        document(obj({"n": {"type": "number"}})),
        False,
        "type-widened",
        BODY + "/properties/n",
    ),
    (
        "request number → integer",
        document(obj({"n": {"type": "number"}})),
        document(obj({"n": {"type": "integer"}})),
        True,
        "type-narrowed",
        BODY + "/properties/n",
    ),
    (
        "request enum value removed",
        document(obj({"k": {"enum": ["a", "b"]}})),
        document(obj({"k": {"enum": ["a"]}})),
        True,
        "enum-value-removed",
        BODY + "/properties/k",
    ),
    (
        "request enum value added",
        document(obj({"k": {"enum": ["a"]}})),
        document(obj({"k": {"enum": ["a", "b"]}})),
        False,
        "enum-value-added",
        BODY + "/properties/k",
    ),
    (
        "new required request field",
        document(obj(NAME)),
        document(obj({**NAME, "age": {"type": "integer"}}, ("age",))),
        True,
        "required-added",
        BODY + "/properties/age",
    ),
    (
        "new optional request field",
        document(obj(NAME)),
        document(obj({**NAME, "age": {"type": "integer"}})),
        False,
        "property-added",
        BODY + "/properties/age",
    ),
    (
        "request field no longer required",
        document(obj(NAME, ("name",))),
        document(obj(NAME)),
        False,
        "required-removed",
        BODY + "/properties/name",
    ),
    (
        "request field removed",
        document(obj({**NAME, "age": {"type": "integer"}})),
        document(obj(NAME)),
        True,
        "property-removed",
        BODY + "/properties/age",
    ),
    (
        "request bound tightened",
        document(obj({"s": {"type": "string", "maxLength": 100}})),
        document(obj({"s": {"type": "string", "maxLength": 10}})),
        True,
        "bound-tightened",
        BODY + "/properties/s/maxLength",
    ),
    (
        "request bound loosened",
        document(obj({"s": {"type": "string", "minLength": 5}})),
        document(obj({"s": {"type": "string", "minLength": 1}})),
        False,
        "bound-loosened",
        BODY + "/properties/s/minLength",
    ),
    (
        "request bound added",
        document(obj({"n": {"type": "integer"}})),
        document(obj({"n": {"type": "integer", "minimum": 0}})),
        True,
        "bound-tightened",
        BODY + "/properties/n/minimum",
    ),
    (
        "request pattern added",
        document(obj({"s": {"type": "string"}})),
        document(obj({"s": {"type": "string", "pattern": "^a"}})),
        True,
        "pattern-added",
        BODY + "/properties/s/pattern",
    ),
    (
        "request closed to unknown fields",
        document(obj(NAME)),
        document(obj(NAME, additionalProperties=False)),
        True,
        "additional-properties-changed",
        BODY,
    ),
    (
        "request alternative added",
        document({"anyOf": [{"type": "string"}]}),
        document({"anyOf": [{"type": "string"}, obj(NAME)]}),
        False,
        "alternative-added",
        BODY + "/anyOf/1",
    ),
    (
        "request alternative removed",
        document({"anyOf": [{"type": "string"}, obj(NAME)]}),
        document({"anyOf": [{"type": "string"}]}),
        True,
        "alternative-removed",
        BODY,
    ),
    # response side: widening breaks clients, narrowing does not
    (
        "response type widened to null",
        document(response=obj({"n": {"type": "integer"}})),
        document(response=obj({"n": {"type": ["integer", "null"]}})),
        True,
        "type-widened",
        OK + "/properties/n",
    ),
    (
        "response type narrowed",
        document(response=obj({"n": {"type": ["integer", "null"]}})),
        document(response=obj({"n": {"type": "integer"}})),
        False,
        "type-narrowed",
        OK + "/properties/n",
    ),
    (
        "response enum value added",
        document(response=obj({"k": {"enum": ["a"]}})),
        document(response=obj({"k": {"enum": ["a", "b"]}})),
        True,
        "enum-value-added",
        OK + "/properties/k",
    ),
    (
        "response enum value removed",
        document(response=obj({"k": {"enum": ["a", "b"]}})),
        document(response=obj({"k": {"enum": ["a"]}})),
        False,
        "enum-value-removed",
        OK + "/properties/k",
    ),
    (
        "response field no longer required",
        document(response=obj(NAME, ("name",))),
        document(response=obj(NAME)),
        True,
        "required-removed",
        OK + "/properties/name",
    ),
    (
        "response field newly required",
        document(response=obj(NAME)),
        document(response=obj(NAME, ("name",))),
        False,
        "required-added",
        OK + "/properties/name",
    ),
    (
        "response field removed",
        document(response=obj({**NAME, "age": {"type": "integer"}})),
        document(response=obj(NAME)),
        True,
        "property-removed",
        OK + "/properties/age",
    ),
    (
        "response field added",
        document(response=obj(NAME)),
        document(response=obj({**NAME, "age": {"type": "integer"}})),
        False,
        "property-added",
        OK + "/properties/age",
    ),
    (
        "response bound loosened",
        document(response=obj({"s": {"type": "string", "maxLength": 10}})),
        document(response=obj({"s": {"type": "string", "maxLength": 100}})),
        True,
        "bound-loosened",
        OK + "/properties/s/maxLength",
    ),
    (
        "response bound tightened",
        document(response=obj({"s": {"type": "string", "maxLength": 100}})),
        document(response=obj({"s": {"type": "string", "maxLength": 10}})),
        False,
        "bound-tightened",
        OK + "/properties/s/maxLength",
    ),
    (
        "response alternative added",
        document(response={"anyOf": [{"type": "string"}]}),
        document(response={"anyOf": [{"type": "string"}, obj(NAME)]}),
        True,
        "alternative-added",
        OK + "/anyOf/1",
    ),
    (
        "response media type removed",
        document(response=obj(NAME)),
        _no_json := None,
        True,
        "response-media-type-removed",
        "/responses/200/content/application~1json",
    ),
    # parameters
    (
        "parameter removed",
        document(parameters=[{"name": "q", "in": "query", "schema": {"type": "string"}}]),
        document(),
        True,
        "parameter-removed",
        "/parameters/query:q",
    ),
    (
        "required parameter added",
        document(),
        document(parameters=[{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}]),
        True,
        "required-parameter-added",
        "/parameters/query:q",
    ),
    (
        "optional parameter added",
        document(),
        document(parameters=[{"name": "q", "in": "query", "schema": {"type": "string"}}]),
        False,
        "parameter-added",
        "/parameters/query:q",
    ),
    (
        "parameter now required",
        document(parameters=[{"name": "X-Id", "in": "header", "schema": {"type": "string"}}]),
        document(parameters=[{"name": "x-id", "in": "header", "required": True, "schema": {"type": "string"}}]),
        True,
        "parameter-now-required",
        "/parameters/header:x-id",
    ),
    (
        "parameter enum value removed",
        document(parameters=[{"name": "q", "in": "query", "schema": {"enum": ["a", "b"]}}]),
        document(parameters=[{"name": "q", "in": "query", "schema": {"enum": ["a"]}}]),
        True,
        "enum-value-removed",
        "/parameters/query:q/schema",
    ),
    # request bodies
    ("request body added as required", document(), document(obj(NAME)), True, "request-body-added", "/requestBody"),
    # error shapes
    (
        "error shape changed",
        document(responses=ERROR_400),
        document(
            responses={
                "400": {
                    "description": "bad",
                    "content": {
                        "application/json": {
                            "schema": obj(
                                {"error": obj({"message": {"type": ["string", "null"]}}, ("message",))}, ("error",)
                            )
                        }
                    },
                }
            }
        ),
        True,
        "error-shape-changed",
        "/responses/400/content/application~1json/schema/properties/error/properties/message",
    ),
    (
        "error field removed",
        document(responses=ERROR_400),
        document(responses={"400": {"description": "bad", "content": {"application/json": {"schema": obj({}, ())}}}}),
        True,
        "error-shape-changed",
        "/responses/400/content/application~1json/schema/properties/error",
    ),
    (
        "error status removed",
        document(responses=ERROR_400),
        document(),
        True,
        "error-response-removed",
        "/responses/400",
    ),
    (
        "error status added, new shape",
        document(responses=ERROR_400),
        document(
            responses={
                **ERROR_400,
                "429": {"description": "slow", "content": {"text/plain": {"schema": {"type": "string"}}}},
            }
        ),
        True,
        "error-shape-added",
        "/responses/429",
    ),
    (
        "error status added, known shape",
        document(responses=ERROR_400),
        document(
            responses={**ERROR_400, "429": {"description": "slow", "content": {"application/json": {"schema": ERROR}}}}
        ),
        False,
        "response-added",
        "/responses/429",
    ),
    (
        "error shape narrowed only",
        document(responses=ERROR_400),
        document(
            responses={
                "400": {
                    "description": "bad",
                    "content": {
                        "application/json": {
                            "schema": {
                                **ERROR,
                                "required": ["error", "code"],
                                "properties": {**ERROR["properties"], "code": {"type": "string"}},
                            }
                        }
                    },
                }
            }
        ),
        False,
        "required-added",
        "/responses/400/content/application~1json/schema/properties/code",
    ),
    # documentation
    (
        "description changed",
        document(obj({"n": {"type": "integer", "description": "a"}})),
        document(obj({"n": {"type": "integer", "description": "b"}})),
        False,
        "description-changed",
        BODY + "/properties/n",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "breaking", "kind", "pointer"), [rule[1:] for rule in RULES], ids=[rule[0] for rule in RULES]
)
def test_each_rule_in_each_direction(old, new, breaking, kind, pointer):
    if new is None:  # the response media type removed: same document without the JSON answer
        new = copy.deepcopy(old)
        new["paths"]["/items"]["post"]["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
        changes = diff(old, new)
        assert [(c.breaking, c.kind, c.pointer) for c in changes] == [
            (True, kind, pointer),
            (False, "response-media-type-added", "/responses/200/content/text~1plain"),
        ]
        return
    assert only(old, new) == (breaking, kind, pointer)


def test_operations_added_and_removed():
    old = document()
    new = copy.deepcopy(old)
    new["paths"]["/other"] = new["paths"].pop("/items")
    changes = [(c.breaking, c.kind, c.operation) for c in diff(old, new)]
    assert changes == [(True, "operation-removed", "POST /items"), (False, "operation-added", "POST /other")]


def test_renamed_components_and_path_parameters_are_no_change():
    old = document(obj({"pet": {"$ref": "#/components/schemas/Pet"}}), components={"Pet": obj(NAME, ("name",))})
    new = document(obj({"pet": {"$ref": "#/components/schemas/Animal"}}), components={"Animal": obj(NAME, ("name",))})
    assert diff(old, new) == []
    old_path = {
        **document(),
        "paths": {
            "/items/{id}": {
                "get": {
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"204": {"description": "x"}},
                }
            }
        },
    }
    new_path = json.loads(json.dumps(old_path).replace("{id}", "{item_id}").replace('"id"', '"item_id"'))
    assert diff(old_path, new_path) == []
    new_path["paths"]["/items/{item_id}"]["get"]["parameters"][0]["schema"] = {"type": "string", "maxLength": 8}
    assert [(c.breaking, c.pointer) for c in diff(old_path, new_path)] == [
        (True, "/parameters/path:{0}/schema/maxLength")
    ]


def test_recursive_schemas_terminate_and_report_deep_changes():
    node = obj(
        {"value": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}
    )
    old = document(response={"$ref": "#/components/schemas/Node"}, components={"Node": node})
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Node"]["properties"]["value"]["type"] = ["string", "null"]
    changes = diff(old, new)
    assert [(c.breaking, c.kind, c.pointer) for c in changes] == [(True, "type-widened", OK + "/properties/value")]
    mutual = document(
        response={"$ref": "#/components/schemas/A"},
        components={
            "A": obj({"b": {"$ref": "#/components/schemas/B"}}),
            "B": obj({"a": {"$ref": "#/components/schemas/A"}}),
        },
    )
    assert diff(mutual, copy.deepcopy(mutual)) == []


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["specs", "diff", *args])
    return result.exit_code, result.output


def test_cli_table_and_exit_code_on_yaml_files():
    code, output = run(str(FIXTURES / "old.yaml"), str(FIXTURES / "new.yaml"))
    assert code == 1
    assert "operation-removed" in output and "DELETE /pets/{id}" in output
    assert "5 breaking, 1 non-breaking changes" in output


def test_cli_json_lists_every_change_with_location():
    code, output = run(str(FIXTURES / "old.yaml"), str(FIXTURES / "new.yaml"), "--json")
    report = json.loads(output)
    assert code == 1
    found = {(c["breaking"], c["kind"], c["operation"], c["pointer"]) for c in report["changes"]}
    assert found == {
        (True, "operation-removed", "DELETE /pets/{id}", ""),
        (True, "required-parameter-added", "GET /pets", "/parameters/query:owner"),
        (
            True,
            "enum-value-added",
            "GET /pets",
            "/responses/200/content/application~1json/schema/items/properties/kind",
        ),
        (True, "enum-value-added", "POST /pets", "/responses/201/content/application~1json/schema/properties/kind"),
        (True, "enum-value-removed", "POST /pets", BODY + "/properties/kind"),
        (False, "operation-added", "GET /owners", ""),
    }
    assert report["breaking"] == 5 and report["non_breaking"] == 1


def test_identity_is_no_change_exit_0():
    code, output = run("lmdeploy", "lmdeploy")
    assert (code, output.strip()) == (0, "0 breaking, 0 non-breaking changes")
    shipped = specs.load("aimlapi")
    assert diff(shipped, copy.deepcopy(shipped)) == []


def test_shipped_lmdeploy_against_a_copy_with_a_removed_enum_value_and_a_new_required_field(tmp_path):
    changed = copy.deepcopy(specs.load("lmdeploy"))
    body = changed["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    body["properties"]["reasoning_effort"]["anyOf"][0]["enum"].remove("high")
    body["required"].append("user")
    path = tmp_path / "lmdeploy-next.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    code, output = run("lmdeploy", str(path), "--json")
    report = json.loads(output)
    assert code == 1
    assert [(c["breaking"], c["kind"], c["operation"], c["pointer"]) for c in report["changes"]] == [
        (True, "required-added", "POST /v1/chat/completions", BODY + "/properties/user"),
        (True, "enum-value-removed", "POST /v1/chat/completions", BODY + "/properties/reasoning_effort"),
    ]
    assert '"high"' in report["changes"][1]["message"]
    identical = tmp_path / "lmdeploy-copy.json"
    identical.write_text(json.dumps(specs.load("lmdeploy")), encoding="utf-8")
    assert run("lmdeploy", str(identical)) == (0, "0 breaking, 0 non-breaking changes\n")


@pytest.mark.parametrize(("content", "reason"), [(None, "not a shipped API"), ("{oops: [", "neither JSON nor YAML")])
def test_unreadable_input_exits_2(tmp_path, content, reason):
    path = tmp_path / "broken.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, output = run("lmdeploy", str(path))
    assert code == 2 and reason in output and str(path) in output


# -- the same meaning spelled differently is no change -------------------------------------------------------------

PET = obj({"name": {"type": "string"}, "kind": {"type": "string", "enum": ["cat", "dog"]}}, ("name",))
PET_REF = {"$ref": "#/components/schemas/Pet"}


def pets(request: Any, **components: Any) -> dict:
    """A document whose request body and 200 answer are both ``request``, with ``Pet`` among its components."""
    return document(request, request, components={"Pet": PET, **components})


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(PET_REF, {"allOf": [PET_REF, {"description": "a pet"}]}, id="allOf-wrapped ref"),
        pytest.param(PET, {"allOf": [PET_REF]}, id="inline schema moved behind allOf ref"),
        pytest.param(
            obj({**PET["properties"], "age": {"type": "integer"}}, ("name",)),
            {"allOf": [PET_REF, obj({"age": {"type": "integer"}})]},
            id="schema split into allOf ref plus sibling",
        ),
        pytest.param(
            {"$ref": "#/components/schemas/Pet", "nullable": True},
            {"allOf": [PET_REF, {"nullable": True}]},
            id="ref+nullable as allOf",
        ),
        pytest.param(
            {"allOf": [PET_REF, {"nullable": True}]},
            {"anyOf": [PET_REF, {"type": "null"}]},
            id="allOf nullable as anyOf null",
        ),
        pytest.param(
            {"$ref": "#/components/schemas/Pet", "nullable": True},
            {"anyOf": [PET_REF, {"type": "null"}]},
            id="ref+nullable as anyOf null",
        ),
        pytest.param({"type": ["string", "null"]}, {"anyOf": [{"type": "string"}, {"type": "null"}]}, id="type list"),
        pytest.param(
            {"oneOf": [PET_REF, {"type": "string"}]},
            {"$ref": "#/components/schemas/PetOrName"},
            id="inline oneOf moved behind a ref",
        ),
        pytest.param(
            {"oneOf": [PET_REF, {"type": "string"}, {"type": "null"}]},
            {"anyOf": [{"$ref": "#/components/schemas/PetOrName"}, {"type": "null"}]},
            id="nullable oneOf behind a ref",
        ),
    ],
)
def test_rewrites_that_keep_the_meaning_are_no_change(old, new):
    components = {"PetOrName": {"oneOf": [PET_REF, {"type": "string"}]}}
    assert diff(pets(old, **components), pets(new, **components)) == []


def tagged(tag: str, **properties: Any) -> dict:
    return obj({"type": {"type": "string", "enum": [tag]}, **properties}, ("type",))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            {"oneOf": [tagged("a", x={"type": "string"}), tagged("b", y={"type": "integer"})]},
            {"oneOf": [tagged("b", y={"type": "integer"}), tagged("a", x={"type": "string"})]},
            id="inline, told apart by their tag",
        ),
        pytest.param(
            {"anyOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]},
            {"anyOf": [{"$ref": "#/components/schemas/B"}, {"$ref": "#/components/schemas/A"}]},
            id="by component",
        ),
        pytest.param(
            {"oneOf": [tagged("a", x={"type": "string"}), tagged("b", y={"type": "integer"})]},
            {"oneOf": [tagged("b", y={"type": "integer"}, z={"type": "string"}), tagged("a", x={"type": "string"})]},
            id="by tag even when the shape changed",
        ),
    ],
)
def test_alternatives_are_paired_by_identity_not_position(old, new):
    components = {"A": tagged("a", x={"type": "string"}), "B": obj({"y": {"type": "integer"}}, ("y",))}
    changes = diff(pets(old, **components), pets(new, **components))
    assert [change.kind for change in changes] == ["property-added"] * len(changes)


def test_a_new_value_in_an_open_enum_is_no_break():
    """``anyOf: [string, {enum}]`` accepted any string before: a new listed value widens nothing."""
    old = document(response={"anyOf": [{"type": "string"}, {"type": "string", "enum": ["gpt-1"]}]})
    new = document(response={"anyOf": [{"type": "string"}, {"type": "string", "enum": ["gpt-1", "gpt-2"]}]})
    changes = diff(old, new)
    assert [(change.breaking, change.kind) for change in changes] == [(False, "enum-value-added")]


def test_a_plain_object_that_became_a_union_of_objects_adds_no_alternative():
    """``{type: object}`` already allowed every object alternative; only the new null is a widening."""
    old = document(response=obj({"annotation": {"type": "object"}}))
    new = document(
        response=obj({"annotation": {"anyOf": [{"oneOf": [tagged("a"), tagged("b"), tagged("c")]}, {"type": "null"}]}})
    )
    changes = [change for change in diff(old, new) if change.breaking]
    assert [(change.kind, change.message) for change in changes] == [
        ("type-widened", "response: the value may now be null")
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ({"type": "string"}, {"type": "number"}, "request: the type was string, now number"),
        ({"type": "string"}, {"type": ["string", "number"]}, "request: the type now also allows number (was string)"),
        ({"type": ["string", "number"]}, {"type": "number"}, "request: the type no longer allows string (now number)"),
        (
            {"anyOf": [{"type": "string"}, {"type": "null"}]},
            {"anyOf": [obj(NAME), {"type": "null"}]},
            "request: the type was string, now object (null allowed before and after)",
        ),
        (
            {"type": "string"},
            {"oneOf": [tagged("a"), tagged("b")]},
            "request: the type was string, now object",
        ),
    ],
)
def test_type_changes_are_worded_exactly_in_their_direction(old, new, message):
    changes = diff(document(obj({"v": old})), document(obj({"v": new})))
    assert [change.message for change in changes] == [message]


def test_a_first_documented_error_is_no_break_but_a_new_error_shape_is():
    assert only(document(), document(responses=ERROR_400)) == (False, "response-added", "/responses/400")
    other = {"429": {"description": "slow", "content": {"application/json": {"schema": obj({"detail": NAME})}}}}
    assert only(document(responses=ERROR_400), document(responses={**ERROR_400, **other}))[:2] == (
        True,
        "error-shape-added",
    )


def test_text_output_is_grouped_by_operation_breaking_first():
    old = document(obj(NAME), parameters=[{"name": "q", "in": "query", "schema": {"type": "string"}}])
    old["paths"]["/other"] = {"get": {"responses": {"200": {"description": "ok"}}}}
    new = document(obj(NAME, ("name",)))
    text = render_text(diff(old, new))
    assert text.splitlines() == [
        "GET /other: 1 breaking, 0 non-breaking",
        "  breaking operation-removed  /",
        "           the operation is gone: clients calling it get an error",
        "POST /items: 2 breaking, 0 non-breaking",
        "  breaking parameter-removed  /parameters/query:q",
        "           query parameter 'q' was removed: clients sending it rely on what is no longer documented",
        "  breaking required-added  " + BODY + "/properties/name",
        "           request: property 'name' is now required",
    ]
