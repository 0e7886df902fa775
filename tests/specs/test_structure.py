"""Tests for specs/structure.py: a container of the wrong type is one SpecError naming it, never a crash
inside a later stage (issue 10, point 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from apitwin.specs.build import finish
from apitwin.specs.errors import SpecError
from apitwin.specs.repairs import RepairLog

BASE = """
openapi: 3.1.0
info: {title: T, version: '1'}
paths:
  /pets/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    get:
      operationId: getPet
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {type: object}}}
components:
  schemas: {Pet: {type: object}}
  responses: {Gone: {description: gone}}
"""


def document(**changes: Any) -> dict[str, Any]:
    """BASE with values replaced at places written ``paths|/pets/{id}|get|responses``."""
    loaded = yaml.safe_load(BASE)
    for dotted, value in changes.items():
        *parents, last = dotted.split("|")
        node = loaded
        for key in parents:
            node = node[key]
        node[last] = value
    return loaded


@pytest.mark.parametrize(
    ("place", "value", "pointer", "message"),
    [
        ("components", True, "/components", "must be an object, not the boolean true"),
        ("components|schemas", "2024-10-01", "/components/schemas", "must be an object, not the string '2024-10-01'"),
        ("components|responses|Gone", 3, "/components/responses/Gone", "must be an object, not the number 3"),
        ("paths|/pets/{id}", [], "/paths/~1pets~1{id}", "must be an object, not an array"),
        ("paths|/pets/{id}|get", "x", "/paths/~1pets~1{id}/get", "must be an object"),
        ("paths|/pets/{id}|get|responses", "2024-10-01", "/paths/~1pets~1{id}/get/responses", "must be an object"),
        ("paths|/pets/{id}|get|responses|200", True, "/paths/~1pets~1{id}/get/responses/200", "must be an object"),
        ("paths|/pets/{id}|parameters", {}, "/paths/~1pets~1{id}/parameters", "must be an array"),
        ("paths|/pets/{id}|get|operationId", ["a"], "/paths/~1pets~1{id}/get/operationId", "must be a string"),
        ("servers", {"url": "x"}, "/servers", "must be an array"),
    ],
)
def test_a_container_of_the_wrong_type_is_one_spec_error(place, value, pointer, message):
    with pytest.raises(SpecError) as error:
        finish(document(**{place: value}), RepairLog(), source="spec.yaml")
    assert error.value.location == pointer
    assert message in error.value.message


def test_a_numeric_operation_id_is_its_text_and_logged():
    log = RepairLog()
    result = finish(document(**{"paths|/pets/{id}|get|operationId": 12}), log, source="spec.yaml")
    assert result["paths"]["/pets/{id}"]["get"]["operationId"] == "12"
    assert "operation-id" in log.kinds()


def test_an_empty_field_is_dropped_and_logged():
    log = RepairLog()
    result = finish(document(**{"paths|/pets/{id}|get|parameters": None}), log, source="spec.yaml")
    assert "parameters" not in result["paths"]["/pets/{id}"]["get"]
    assert [r.pointer for r in log.repairs if r.kind == "empty-field"] == ["/paths/~1pets~1{id}/get/parameters"]


def test_the_command_line_says_it_in_one_line_with_exit_2(tmp_path: Path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(document(**{"paths|/pets/{id}|get|responses": True})))
    run = subprocess.run(
        [sys.executable, "-m", "apitwin", "specs", "normalise", str(spec), "-o", str(tmp_path / "out.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"error: {spec}: /paths/~1pets~1{{id}}/get/responses: must be an object, not the boolean true"
    ]
    assert not (tmp_path / "out.json").exists()
