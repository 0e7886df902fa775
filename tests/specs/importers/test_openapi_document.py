"""Tests for specs/importers/openapi_document.py: a full OpenAPI document, JSON or YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apitwin.specs.errors import SpecError
from apitwin.specs.importers.openapi_document import import_api
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source
from apitwin.specs.streams import is_framed, recognise_streams

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parents[3]
SEED = REPO / ".." / "shared" / "seeds" / "002_bf711351a78fbd44.txt"
MINIMAL = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {"/a": {"get": {"responses": {"200": {"description": "OK"}}}}},
}


def _import_text(text: str, name: str = "doc.json") -> tuple[dict[str, Any], RepairLog]:
    log = RepairLog()
    return import_api(Source(name, text), log), log


def _fixture() -> tuple[dict[str, Any], RepairLog]:
    log = RepairLog()
    return import_api(Source.read(FIXTURES / "openapi_document_events.yaml"), log), log


def _stream_schema(document: dict[str, Any]) -> dict[str, Any]:
    return document["paths"]["/things"]["post"]["responses"]["200"]["content"]["text/event-stream"]["schema"]


def test_json_is_returned_as_written_plus_provenance():
    document, log = _import_text(json.dumps(MINIMAL))
    operation = document["paths"]["/a"]["get"]
    assert operation.pop("x-apitwin-sources") == [{"file": "doc.json", "line": 1, "pointer": "/paths/~1a/get"}]
    assert document == MINIMAL
    assert len(log) == 0


def test_yaml_provenance_points_at_the_method_line():
    document, _ = _fixture()
    assert document["paths"]["/things"]["get"]["x-apitwin-sources"][0]["line"] == 7
    assert document["paths"]["/things"]["post"]["x-apitwin-sources"][0]["line"] == 11


def test_a_bare_event_schema_is_framed_with_event_names_and_logged():
    document, log = _fixture()
    schema = _stream_schema(document)
    assert schema["required"] == ["data"]
    assert schema["properties"]["event"] == {"type": "string", "enum": ["thing.started", "thing.finished"]}
    data = schema["properties"]["data"]
    assert data["type"] == "string"
    assert data["contentMediaType"] == "application/json"
    assert data["contentSchema"]["discriminator"] == {"propertyName": "type"}
    assert len(data["contentSchema"]["oneOf"]) == 2
    assert log.kinds() == {"sse-framing": 1}
    assert log.repairs[0].pointer == "/paths/~1things/post/responses/200/content/text~1event-stream/schema"


def test_events_without_fixed_types_get_no_event_names():
    document = {
        "paths": {
            "/s": {"post": {"responses": {"200": {"content": {"text/event-stream": {"schema": {"type": "object"}}}}}}}
        }
    }
    recognise_streams(document, RepairLog(), source="x")
    schema = document["paths"]["/s"]["post"]["responses"]["200"]["content"]["text/event-stream"]["schema"]
    assert "event" not in schema["properties"]
    assert schema["properties"]["data"]["contentSchema"] == {"type": "object"}


def test_an_already_framed_stream_is_left_alone():
    framed = {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}
    document = {
        "paths": {"/s": {"post": {"responses": {"200": {"content": {"text/event-stream": {"schema": framed}}}}}}}
    }
    log = RepairLog()
    recognise_streams(document, log, source="x")
    assert is_framed(framed)
    assert len(log) == 0


def test_a_request_event_stream_is_not_touched():
    body = {"content": {"text/event-stream": {"schema": {"type": "object"}}}}
    document = {"paths": {"/s": {"post": {"requestBody": body, "responses": {}}}}}
    recognise_streams(document, RepairLog(), source="x")
    assert body["content"]["text/event-stream"]["schema"] == {"type": "object"}


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        ('{"openapi": "3.1.0", "paths": {', "line 1", "not valid JSON"),
        ("openapi: 3.1.0\npaths: [\n", "line 3", "neither JSON nor valid YAML"),
        ('{"swagger": "2.0"}', "line 1", "Swagger 2.0"),
        ('{"info": {}}', "line 1", "no 'openapi' field"),
        ('{\n"openapi": "2.5"}', "line 2", "unsupported OpenAPI version"),
        ("- 1\n- 2\n", "line 1", "top level is not an object"),
        ('{"openapi": "3.1.0",\n "paths": []}', "line 2", "'paths' must be an object"),
    ],
)
def test_bad_input_is_a_spec_error_with_a_line(text, location, message):
    with pytest.raises(SpecError) as error:
        _import_text(text)
    assert error.value.file == "doc.json"
    assert error.value.location == location
    assert message in error.value.message


def test_output_is_deterministic():
    first, _ = _fixture()
    second, _ = _fixture()
    assert json.dumps(first) == json.dumps(second)


needs_seed = pytest.mark.skipif(not SEED.exists(), reason="vendor documents not in ../shared/seeds")


@pytest.mark.seeds
@needs_seed
def test_seed_002_imports_with_24_named_stream_events():
    log = RepairLog()
    document = import_api(Source.read(SEED), log)
    assert log.kinds() == {"sse-framing": 1}
    assert len(document["components"]["schemas"]) == 102
    operation = document["paths"]["/responses"]["post"]
    assert operation["operationId"] == "createResponse"
    schema = operation["responses"]["200"]["content"]["text/event-stream"]["schema"]
    names = schema["properties"]["event"]["enum"]
    assert len(names) == 24
    assert names[0] == "response.created"
    assert "error" in names
    assert schema["properties"]["data"]["contentSchema"]["discriminator"] == {"propertyName": "type"}
