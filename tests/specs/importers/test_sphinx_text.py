"""Tests for specs/importers/sphinx_text.py: an OpenAPI rendered to text by Sphinx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apitwin.specs.errors import SpecError
from apitwin.specs.importers.sphinx_text import import_api
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parents[3]
SEEDS = REPO / ".." / "shared" / "seeds"
SEED = SEEDS / "003_0bfc53774b3c3c0a.txt"

ENDPOINT = """\
Server A#
- POST /v1/echo#
Echo
Request body:
{ "text":{ "type":"string" } }
Example request:
POST /v1/echo HTTP/1.1 Host: example.com Content-Type: application/json { "text": "string" }
- Status Codes:
200 OK –
Successful Response
Example response:
HTTP/1.1 200 OK Content-Type: application/json {}
"""


def _fixture(section: str = "Server A") -> tuple[dict[str, Any], RepairLog]:
    log = RepairLog()
    document = import_api(Source.read(FIXTURES / "sphinx_two_sections.txt"), log, section=section)
    return document, log


def _import_text(text: str, section: str = "Server A") -> dict[str, Any]:
    return import_api(Source("page.txt", text), RepairLog(), section=section)


def _kinds(log: RepairLog, pointer_part: str) -> list[str]:
    return [repair.kind for repair in log.repairs if pointer_part in repair.pointer]


# --- the layout ------------------------------------------------------------------------------


def test_a_section_holds_only_its_own_endpoints() -> None:
    first, _ = _fixture("Server A")
    second, _ = _fixture("Server B")
    assert list(first["paths"]) == ["/v1/echo", "/v1/pick", "/metrics"]
    assert list(second["paths"]) == ["/v1/echo"]
    assert first["openapi"] == "3.1.0"
    assert first["info"]["title"] == "Server A"


def test_title_and_prose_become_summary_and_description() -> None:
    document, _ = _fixture()
    operation = document["paths"]["/v1/echo"]["post"]
    assert operation["summary"] == "Echo"
    assert operation["description"] == "Echo the text back.\ntext (str): what to echo."


def test_properties_map_is_wrapped_and_required_inferred() -> None:
    document, log = _fixture()
    body = document["paths"]["/v1/echo"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] is True
    assert schema["type"] == "object"
    assert list(schema["properties"]) == ["text", "times", "note"]
    # `times` has a default; `note` admits null (the rendering drops `default: null`)
    assert schema["required"] == ["text"]
    assert _kinds(log, "/~1v1~1echo/post/requestBody") == ["wrap-properties", "infer-required"]


def test_valid_example_request_is_attached() -> None:
    document, _ = _fixture()
    media = document["paths"]["/v1/echo"]["post"]["requestBody"]["content"]["application/json"]
    assert media["example"] == {"text": "string", "times": 1, "note": "string"}


def test_placeholder_example_that_breaks_a_const_is_dropped_and_logged() -> None:
    document, log = _fixture()
    media = document["paths"]["/v1/pick"]["post"]["requestBody"]["content"]["application/json"]
    assert "example" not in media
    [repair] = [repair for repair in log.repairs if repair.kind == "invalid-example"]
    assert repair.source == "sphinx_two_sections.txt:24"
    assert "choice/type" in repair.reason and "placeholder 'string'" in repair.reason
    assert repair.before == {"choice": {"type": "string"}}


def test_lost_422_status_line_is_restored_from_its_example() -> None:
    document, log = _fixture()
    response = document["paths"]["/v1/echo"]["post"]["responses"]["422"]
    assert response["description"] == "Validation Error"
    media = response["content"]["application/json"]
    assert media["schema"] == {"$ref": "#/components/schemas/HTTPValidationError"}
    assert media["example"]["detail"][0]["loc"] == ["string", 1]
    [lost] = [repair for repair in log.repairs if repair.kind == "lost-status-line"]
    assert lost.pointer == "/paths/~1v1~1echo/post/responses/422"
    assert lost.source == "sphinx_two_sections.txt:16"
    assert set(document["components"]["schemas"]) == {"HTTPValidationError", "ValidationError"}


def test_listed_422_without_example_gets_the_validation_error_schema() -> None:
    document, _ = _fixture()
    response = document["paths"]["/v1/pick"]["post"]["responses"]["422"]
    assert response["description"] == "Validation Error"
    assert response["content"]["application/json"]["schema"]["$ref"].endswith("/HTTPValidationError")


def test_empty_object_example_gives_an_object_schema() -> None:
    document, log = _fixture()
    response = document["paths"]["/v1/echo"]["post"]["responses"]["200"]
    assert response == {
        "description": "Successful Response",
        "content": {"application/json": {"schema": {"type": "object"}, "example": {}}},
    }
    assert "response-schema-from-example" in _kinds(log, "/~1v1~1echo/post/responses/200")


def test_status_text_after_the_dash_is_the_description() -> None:
    document, _ = _fixture()
    responses = document["paths"]["/metrics"]["get"]["responses"]
    assert responses == {
        "200": {"description": "Prometheus metrics data"},
        "404": {"description": "Metrics Endpoint not enabled"},
    }
    assert "requestBody" not in document["paths"]["/metrics"]["get"]


def test_every_operation_has_provenance() -> None:
    document, _ = _fixture()
    assert document["paths"]["/v1/echo"]["post"]["x-apitwin-sources"] == [
        {"file": "sphinx_two_sections.txt", "line": 3},
        {"file": "sphinx_two_sections.txt", "line": 8, "pointer": "/requestBody"},
        {"file": "sphinx_two_sections.txt", "line": 10, "pointer": "/requestBody/content/application~1json/example"},
    ]
    # the dropped example is not claimed as a source
    assert len(document["paths"]["/v1/pick"]["post"]["x-apitwin-sources"]) == 2


def test_unterminated_last_line_is_read() -> None:
    document, _ = _fixture("Server B")
    assert document["paths"]["/v1/echo"]["post"]["responses"]["200"]["content"]["application/json"]["example"] == {}


def test_output_is_deterministic() -> None:
    first, _ = _fixture()
    second, _ = _fixture()
    assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)


def test_section_key_maps_to_its_heading() -> None:
    text = ENDPOINT.replace("Server A#", "Proxy 服务器接口#")
    document = _import_text(text, section="proxy")
    assert list(document["paths"]) == ["/v1/echo"]


# --- bad input ---------------------------------------------------------------------------------


def _error(text: str, section: str = "Server A") -> SpecError:
    with pytest.raises(SpecError) as caught:
        _import_text(text, section)
    assert caught.value.file == "page.txt"
    return caught.value


def test_missing_section_is_an_error() -> None:
    error = _error(ENDPOINT, section="proxy")
    assert "Proxy 服务器接口#" in error.message
    assert error.location.startswith("line ")


def test_request_body_that_is_not_json_names_its_line() -> None:
    error = _error(ENDPOINT.replace('{ "text":{ "type":"string" } }', '{ "text":{ "type":"string" }'))
    assert error.location == "line 5"
    assert "request body is not JSON" in error.message


def test_request_body_label_without_content_is_an_error() -> None:
    text = "Server A#\n- POST /v1/echo#\nEcho\nRequest body:\n- Status Codes:\n200 OK – fine\n"
    error = _error(text)
    assert error.location == "line 4"


def test_truncated_endpoint_without_status_codes_is_an_error() -> None:
    text = ENDPOINT.split("- Status Codes:")[0]
    error = _error(text)
    assert error.location == "line 2"
    assert "truncated" in error.message


def test_example_response_at_the_end_of_the_text_is_an_error() -> None:
    text = ENDPOINT.rsplit("\n", 2)[0] + "\n"
    error = _error(text)
    assert error.location == "line 11"


def test_example_request_for_another_path_is_an_error() -> None:
    error = _error(ENDPOINT.replace("POST /v1/echo HTTP/1.1", "POST /v1/other HTTP/1.1"))
    assert error.location == "line 7"


def test_unknown_label_is_an_error() -> None:
    error = _error(ENDPOINT.replace("Example request:", "- Query Parameters:"))
    assert error.location == "line 6"


def test_unparseable_endpoint_heading_is_an_error() -> None:
    error = _error(ENDPOINT.replace("- POST /v1/echo#", "- FETCH /v1/echo#"))
    assert error.location == "line 2"


def test_endpoint_listed_twice_in_a_section_is_an_error() -> None:
    text = ENDPOINT + ENDPOINT.split("\n", 1)[1]
    error = _error(text)
    assert "twice" in error.message


def test_example_response_with_a_broken_body_is_an_error() -> None:
    error = _error(ENDPOINT.replace("application/json {}", "application/json {"))
    assert error.location == "line 12"


# --- the vendor document -----------------------------------------------------------------------

needs_seeds = pytest.mark.skipif(not SEED.exists(), reason="vendor documents not in ../shared/seeds")


def _seed(section: str) -> tuple[dict[str, Any], RepairLog]:
    log = RepairLog()
    return import_api(Source.read(SEED), log, section=section), log


def _operations(document: dict[str, Any]) -> list[str]:
    return [f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item]


@pytest.mark.seeds
@needs_seeds
def test_seed_api_server_section() -> None:
    document, log = _seed("api_server")
    assert len(_operations(document)) == 25
    assert log.kinds() == {
        "infer-required": 15,
        "invalid-example": 1,
        "lost-status-line": 16,
        "response-schema-from-example": 23,
        "validation-error-components": 1,
        "validation-error-schema": 17,
        "wrap-properties": 17,
    }
    chat = document["paths"]["/v1/chat/completions"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"]["required"] == ["messages", "model"]
    assert "example" not in chat["requestBody"]["content"]["application/json"]
    assert set(document["paths"]["/v1/responses"]["post"]["responses"]) == {"200", "422"}
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["x-apitwin-sources"][0]["file"] == SEED.name


@pytest.mark.seeds
@needs_seeds
def test_seed_proxy_section_forwards_the_openai_endpoints() -> None:
    proxy, log = _seed("proxy")
    server, _ = _seed("api_server")
    assert len(_operations(proxy)) == 9
    assert log.kinds()["lost-status-line"] == 5
    for path in ("/v1/chat/completions", "/v1/completions"):
        proxy_body = proxy["paths"][path]["post"]["requestBody"]
        assert proxy_body == server["paths"][path]["post"]["requestBody"]


@pytest.mark.seeds
@needs_seeds
def test_seed_proxy_builds_lint_clean_with_its_overlay() -> None:
    from apitwin.specs.build import finish
    from apitwin.specs.catalogue import shipped
    from apitwin.specs.lint import lint
    from apitwin.specs.overlay import read_overlay

    api = shipped("lmdeploy-proxy")
    assert api is not None
    raw, log = _seed("proxy")
    document = finish(raw, log, source=SEED.name, overlay=read_overlay(api.overlay_path), overlay_name="proxy")
    assert lint(document) == []
    _assert_chat_stream_frames(document)


@pytest.mark.seeds
@needs_seeds
def test_seed_api_server_overlay_gives_real_answers() -> None:
    from apitwin.specs.build import finish
    from apitwin.specs.catalogue import shipped
    from apitwin.specs.overlay import read_overlay

    api = shipped("lmdeploy")
    assert api is not None
    raw, log = _seed("api_server")
    document = finish(raw, log, source=SEED.name, overlay=read_overlay(api.overlay_path), overlay_name="api")
    _assert_chat_stream_frames(document)
    chat_body = document["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]
    body_validator = _validator(document, chat_body["schema"])
    assert not body_validator.is_valid({"model": "m", "messages": []})
    assert body_validator.is_valid({"model": "m", "messages": [], "input_ids": [1, 2]})
    metrics = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]
    responses = document["paths"]["/v1/responses"]["post"]
    assert "required" not in responses["requestBody"]["content"]["application/json"]["schema"]
    event = responses["responses"]["200"]["content"]["text/event-stream"]["schema"]
    delta = {
        "type": "response.output_text.delta",
        "sequence_number": 3,
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "Hi",
        "logprobs": [],  # required by the overlay: the openai SDK's strict models require it
    }
    data_schema = event["properties"]["data"]["contentSchema"]
    assert _validator(document, data_schema).is_valid(delta)
    assert not _validator(document, data_schema).is_valid({**delta, "type": "response.nope"})


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    root = dict(schema)
    root["components"] = document["components"]
    return Draft202012Validator(root)


def _assert_chat_stream_frames(document: dict[str, Any]) -> None:
    """Each SSE event: `[DONE]`, or a JSON chunk valid against the chunk schema."""
    content = document["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert list(content) == ["application/json", "text/event-stream"]
    event = _validator(document, content["text/event-stream"]["schema"])
    assert event.is_valid({"data": "[DONE]"})
    chunk = {
        "id": "1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
    }
    data = content["text/event-stream"]["schema"]["properties"]["data"]
    chunk_schema = _validator(document, data["else"]["contentSchema"])
    assert chunk_schema.is_valid(chunk)
    assert not chunk_schema.is_valid({**chunk, "object": "chat.completion"})
