"""Real published OpenAPI files load: YAML oddities and 3.0 keywords in 3.1 documents are repaired and logged;
what cannot be repaired is one clean SpecError (one line and exit 2 on the CLI), never another exception."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apitwin import specs
from apitwin.specs.build import finish, normalise_file
from apitwin.specs.errors import SpecError
from apitwin.specs.lint import lint
from apitwin.specs.repairs import RepairLog

FOREIGN = Path(__file__).resolve().parents[2] / ".." / "shared" / "foreign-specs"

HEADER = "openapi: 3.1.0\ninfo: {title: T, version: '1'}\n"


def load(tmp_path: Path, text: str) -> tuple[dict, list[dict]]:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    built = normalise_file(path)
    json.dumps(built.document)  # JSON-clean all the way down
    return built.document, built.repairs.as_list()


def query_schema(schema: str) -> str:
    return (
        HEADER
        + "paths:\n  /a:\n    get:\n      parameters:\n"
        + f"        - {{name: q, in: query, schema: {schema}}}\n"
        + "      responses: {'200': {description: ok}}\n"
    )


def the_schema(document: dict) -> dict:
    return document["paths"]["/a"]["get"]["parameters"][0]["schema"]


def kinds(repairs: list[dict]) -> set[str]:
    return {repair["kind"] for repair in repairs}


def test_boolean_exclusive_minimum_in_a_31_document_becomes_the_numeric_form(tmp_path):
    document, repairs = load(tmp_path, query_schema("{type: number, minimum: 0, exclusiveMinimum: true}"))
    assert the_schema(document) == {"type": "number", "exclusiveMinimum": 0}
    assert "exclusive-bound" in kinds(repairs)


def test_false_exclusive_maximum_in_a_31_document_is_dropped(tmp_path):
    document, _ = load(tmp_path, query_schema("{type: number, maximum: 5, exclusiveMaximum: false}"))
    assert the_schema(document) == {"type": "number", "maximum": 5}


def test_nullable_and_example_in_a_31_document_are_upgraded_and_logged(tmp_path):
    document, repairs = load(tmp_path, query_schema("{type: integer, nullable: true, example: 3}"))
    assert the_schema(document) == {"type": ["integer", "null"], "examples": [3]}
    assert {"nullable", "schema-example"} <= kinds(repairs)


def test_unquoted_yaml_date_becomes_its_text(tmp_path):
    document, repairs = load(tmp_path, query_schema("{type: string, format: date, default: 2024-10-01}"))
    assert the_schema(document)["default"] == "2024-10-01"
    assert "yaml-date" in kinds(repairs)


def test_number_yaml_reads_as_a_string_becomes_a_number_where_the_keyword_needs_one(tmp_path):
    document, repairs = load(tmp_path, query_schema("{type: number, minimum: 1e-08, default: 0.5}"))
    assert the_schema(document)["minimum"] == 1e-08
    assert the_schema(document)["default"] == 0.5
    assert "numeric-keyword" in kinds(repairs)


def test_a_non_number_in_a_numeric_keyword_is_dropped_and_logged(tmp_path):
    document, repairs = load(tmp_path, query_schema("{type: string, maxLength: lots}"))
    assert the_schema(document) == {"type": "string"}
    assert "numeric-keyword" in kinds(repairs)


def test_non_string_mapping_keys_become_strings(tmp_path):
    text = HEADER + "paths:\n  /a:\n    get:\n      responses:\n        200: {description: ok}\n"
    document, repairs = load(tmp_path, text)
    assert list(document["paths"]["/a"]["get"]["responses"]) == ["200"]
    assert "yaml-key" in kinds(repairs)


def test_unquoted_version_numbers_are_read_as_text(tmp_path):
    text = "openapi: 3.1\ninfo: {title: T, version: 1.0}\npaths: {}\n"
    document, _ = load(tmp_path, text)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == "1.0"


def test_a_31_operation_without_responses_is_accepted(tmp_path):
    document, repairs = load(tmp_path, HEADER + "paths:\n  /a:\n    get: {summary: nothing declared}\n")
    assert "default" in document["paths"]["/a"]["get"]["responses"]
    assert "missing-responses" in kinds(repairs)


def test_a_30_operation_without_responses_is_still_an_error(tmp_path):
    with pytest.raises(SpecError, match="at least one response"):
        load(tmp_path, "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get: {}\n")


def test_specs_load_reads_such_a_file(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text(query_schema("{type: number, minimum: 1e-08, exclusiveMinimum: true, default: 2024-10-01}"))
    document = specs.load(path)
    assert the_schema(document)["exclusiveMinimum"] == 1e-08


def apitwin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apitwin", *args], capture_output=True, text=True, timeout=120, check=False
    )


BROKEN = (
    HEADER
    + "paths:\n  /a:\n    get:\n      responses:\n"
    + "        '200': {description: ok, content: {application/json: {schema: {$ref: '#/nope'}}}}\n"
)


@pytest.mark.parametrize("command", [("specs", "normalise"), ("specs", "lint"), ("serve", "--port", "1")])
def test_a_broken_file_is_one_line_on_stderr_and_exit_2(tmp_path, command):
    source = tmp_path / "broken.yaml"
    source.write_text(BROKEN, encoding="utf-8")
    extra = ("-o", str(tmp_path / "out.json")) if command[-1] == "normalise" else ()
    arguments = (*command, str(source), *extra) if command[0] == "specs" else (*command, str(source))
    result = apitwin(*arguments)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.yaml" in lines[0] and "dangling reference #/nope" in lines[0]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.yaml"]


def test_report_of_an_unknown_api_is_one_line_and_exit_2():
    result = apitwin("specs", "report", "no-such-api")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


# --- property: mutated real specs normalise or fail cleanly ------------------------------------

SEED = FOREIGN / "oai-v3.0_petstore-expanded.yaml"
ODD_VALUES = st.sampled_from(
    [
        *(None, True, 3, 1.5, "1e-08", "", "x", [], {}),
        *({"$ref": "#/components/schemas/Gone"}, {"type": "nope"}, yaml.safe_load("2024-10-01")),
        *({"nullable": True}, {"exclusiveMinimum": True}),
    ]
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


def _mutate(document: dict, path: tuple, action: str, value) -> None:
    if not path:
        return
    parent = document
    for token in path[:-1]:
        parent = parent[token]
    key = path[-1]
    if action == "drop":
        del parent[key]
    elif action == "retype":
        parent[key] = value
    elif action == "rekey" and isinstance(parent, dict):
        parent[yaml.safe_load("2024-10-01") if isinstance(value, (list, dict)) else 7] = parent.pop(key)


@pytest.mark.skipif(not SEED.exists(), reason="needs ../shared/foreign-specs")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_real_spec_normalises_or_raises_a_spec_error(data):
    original = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    document = copy.deepcopy(original)
    paths = list(_paths(document))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(document))
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["drop", "retype", "rekey"]))
        _mutate(document, path, action, data.draw(ODD_VALUES))
    try:
        result = finish(document, RepairLog(), source="mutated.yaml")
    except SpecError:
        return
    json.dumps(result)
    lint(result)


def test_a_name_required_twice_is_listed_once(tmp_path):
    text = query_schema("{type: object, required: [a, b, a], properties: {a: {type: string}, b: {type: string}}}")
    document, repairs = load(tmp_path, text)
    assert the_schema(document)["required"] == ["a", "b"]
    assert "duplicate-required" in kinds(repairs)


def test_a_2019_recursive_ref_becomes_a_ref_to_its_enclosing_schema(tmp_path):
    text = (
        HEADER
        + "paths: {}\ncomponents:\n  schemas:\n    Filter:\n      $recursiveAnchor: true\n      type: object\n"
        + "      properties:\n        filters:\n          type: array\n"
        + "          items: {oneOf: [{type: string}, {$recursiveRef: '#'}]}\n"
    )
    document, repairs = load(tmp_path, text)
    schema = document["components"]["schemas"]["Filter"]
    assert "$recursiveAnchor" not in schema
    assert schema["properties"]["filters"]["items"]["oneOf"][1] == {"$ref": "#/components/schemas/Filter"}
    assert "recursive-ref" in kinds(repairs)
