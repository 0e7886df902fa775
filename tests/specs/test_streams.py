"""Tests for specs/streams.py: the SSE conventions vendors publish, rewritten into apitwin's."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apitwin.specs.normalise import normalise
from apitwin.specs.repairs import RepairLog
from apitwin.specs.streams import documented_terminator, recognise_streams

SSE = "text/event-stream"
CHUNK = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}


def document(
    *,
    responses: dict[str, Any] | None = None,
    request: dict[str, Any] | None = None,
    operation: dict[str, Any] | None = None,
    schemas: dict[str, Any] | None = None,
) -> dict[str, Any]:
    post: dict[str, Any] = {
        "responses": responses or {"200": {"description": "OK", "content": {SSE: {"schema": CHUNK}}}},
        **(operation or {}),
    }
    if request is not None:
        post["requestBody"] = {"content": {"application/json": {"schema": request}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/run": {"post": post}},
        "components": {"schemas": schemas or {}},
    }


def stream_schema(doc: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return doc["paths"]["/run"]["post"]["responses"][status]["content"][SSE]["schema"]


def stream_flag(description: str) -> dict[str, Any]:
    return {"type": "object", "properties": {"stream": {"type": "boolean", "description": description}}}


def test_a_bare_chunk_schema_becomes_the_json_payload_of_each_event():
    doc = document()
    log = RepairLog()
    recognise_streams(doc, log, source="f")
    assert stream_schema(doc) == {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "string", "contentMediaType": "application/json", "contentSchema": CHUNK}},
    }
    assert [(r.kind, r.pointer) for r in log.repairs] == [
        ("sse-framing", "/paths/~1run/post/responses/200/content/text~1event-stream/schema")
    ]


def test_done_written_in_the_stream_options_makes_it_the_terminator():
    options = {"type": "object", "description": "An extra chunk comes before the `data:\n[DONE]` message."}
    request = {
        "allOf": [
            {"$ref": "#/components/schemas/Base"},
            {"properties": {"stream_options": {"$ref": "#/components/schemas/Options"}}},
        ]
    }
    doc = document(request=request, schemas={"Base": {"type": "object"}, "Options": options})
    log = RepairLog()
    recognise_streams(doc, log, source="f")
    data = stream_schema(doc)["properties"]["data"]
    assert data["if"] == {"const": "[DONE]"}
    assert data["else"] == {"contentMediaType": "application/json", "contentSchema": CHUNK}
    assert "data: [DONE]" in log.repairs[0].reason


def test_no_terminator_where_the_document_mentions_none():
    doc = document(request=stream_flag("Stream the answer as server-sent events."))
    recognise_streams(doc, RepairLog(), source="f")
    assert "if" not in stream_schema(doc)["properties"]["data"]


def test_a_union_of_typed_events_gives_the_event_names():
    events = {"anyOf": [{"$ref": "#/components/schemas/Started"}, {"$ref": "#/components/schemas/Done"}]}
    schemas = {
        "Started": {"type": "object", "properties": {"type": {"type": "string", "enum": ["run.started"]}}},
        "Done": {"type": "object", "properties": {"type": {"const": "run.done"}}},
        "Event": events,
    }
    doc = document(
        responses={"200": {"description": "OK", "content": {SSE: {"schema": {"$ref": "#/components/schemas/Event"}}}}},
        schemas=schemas,
    )
    recognise_streams(doc, RepairLog(), source="f")
    schema = stream_schema(doc)
    assert schema["properties"]["event"] == {"type": "string", "enum": ["run.started", "run.done"]}
    assert schema["properties"]["data"]["contentSchema"] == {"$ref": "#/components/schemas/Event"}


def test_an_event_object_whose_data_is_an_object_schema_carries_it_as_json():
    event = {
        "type": "object",
        "required": ["data"],
        "properties": {"event": {"type": "string"}, "data": {"$ref": "#/components/schemas/Chunk"}},
    }
    media = {"schema": event, "x-speakeasy-sse-sentinel": "[END]"}
    doc = document(responses={"200": {"description": "OK", "content": {SSE: media}}}, schemas={"Chunk": CHUNK})
    log = RepairLog()
    recognise_streams(doc, log, source="f")
    data = stream_schema(doc)["properties"]["data"]
    assert data == {
        "type": "string",
        "if": {"const": "[END]"},
        "else": {"contentMediaType": "application/json", "contentSchema": {"$ref": "#/components/schemas/Chunk"}},
    }
    assert stream_schema(doc)["properties"]["event"] == {"type": "string"}
    assert log.kinds() == {"sse-framing": 1}


def test_a_plain_text_event_stream_is_left_alone():
    event = {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}
    doc = document(responses={"200": {"description": "OK", "content": {SSE: {"schema": copy.deepcopy(event)}}}})
    log = RepairLog()
    recognise_streams(doc, log, source="f")
    assert stream_schema(doc) == event
    assert len(log) == 0


def test_a_documented_stream_flag_declares_the_missing_event_stream():
    request = stream_flag("If set, tokens are sent as data-only server-sent events, then `data: [DONE]`.")
    plain = {"description": "OK", "content": {"application/json": {"schema": CHUNK}}}
    doc = document(responses={"200": plain}, request=request)
    log = RepairLog()
    recognise_streams(doc, log, source="f")
    content = doc["paths"]["/run"]["post"]["responses"]["200"]["content"]
    assert list(content) == ["application/json", SSE]
    assert content[SSE]["schema"]["properties"]["data"]["else"]["contentSchema"] == CHUNK
    assert content[SSE]["schema"]["properties"]["data"]["if"] == {"const": "[DONE]"}
    assert [(r.kind, r.pointer) for r in log.repairs] == [
        ("sse-declared", "/paths/~1run/post/responses/200/content/text~1event-stream")
    ]


def test_a_stream_flag_that_does_not_say_sse_declares_nothing():
    plain = {"description": "OK", "content": {"application/json": {"schema": CHUNK}}}
    doc = document(responses={"200": plain}, request=stream_flag("Stream the logs to the bucket."))
    log = RepairLog()
    recognise_streams(doc, log, source="f")
    assert list(doc["paths"]["/run"]["post"]["responses"]["200"]["content"]) == ["application/json"]
    assert len(log) == 0


def test_a_shared_response_gets_the_stream_for_this_operation_only():
    request = stream_flag("Answers server-sent events when true.")
    doc = document(responses={"200": {"$ref": "#/components/responses/Plain"}}, request=request)
    doc["components"]["responses"] = {
        "Plain": {"description": "OK", "content": {"application/json": {"schema": CHUNK}}}
    }
    recognise_streams(doc, RepairLog(), source="f")
    assert SSE in doc["paths"]["/run"]["post"]["responses"]["200"]["content"]
    assert list(doc["components"]["responses"]["Plain"]["content"]) == ["application/json"]


@pytest.mark.parametrize(
    ("hint", "media_types", "terminator"),
    [
        ({"format": "sse", "terminator": "[DONE]"}, [SSE], "[DONE]"),
        ({"format": "sse", "stream-condition": "$request.stream"}, ["application/json", SSE], None),
    ],
)
def test_x_fern_streaming_declares_the_stream(hint, media_types, terminator):
    plain = {"description": "OK", "content": {"application/json": {"schema": CHUNK}}}
    doc = document(responses={"200": plain}, operation={"x-fern-streaming": hint})
    recognise_streams(doc, RepairLog(), source="f")
    content = doc["paths"]["/run"]["post"]["responses"]["200"]["content"]
    assert list(content) == media_types
    data = content[SSE]["schema"]["properties"]["data"]
    assert (data.get("if") or {}).get("const") == terminator


def test_recognising_twice_changes_nothing_more():
    request = stream_flag("server-sent events, ended by data: [DONE]")
    plain = {"description": "OK", "content": {"application/json": {"schema": CHUNK}}}
    doc = document(responses={"200": plain}, request=request)
    recognise_streams(doc, RepairLog(), source="f")
    once = copy.deepcopy(doc)
    log = RepairLog()
    recognise_streams(doc, log, source="f")
    assert doc == once
    assert len(log) == 0


def test_the_sentinel_on_the_media_wins_over_words():
    assert documented_terminator({}, {"description": "data: [DONE]"}, {"x-speakeasy-sse-sentinel": "END"}) == "END"
    assert documented_terminator({}, {"description": "ends with data: [DONE]"}, {}) == "[DONE]"
    assert documented_terminator({}, {"description": "ends when done"}, {}) is None


def test_normalise_frames_a_foreign_stream_and_computes_the_event_mapping():
    """The whole stage order: framing adds a discriminator, the later stage maps it."""
    schemas = {
        "A": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string", "enum": ["a.x"]}}},
        "B": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string", "enum": ["b.y"]}}},
    }
    events = {"oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]}
    raw = document(responses={"200": {"description": "OK", "content": {SSE: {"schema": events}}}}, schemas=schemas)
    raw["openapi"] = "3.0.3"
    log = RepairLog()
    result = normalise(raw, log, source="f")
    payload = stream_schema(result)["properties"]["data"]["contentSchema"]
    assert payload["discriminator"]["mapping"] == {"a.x": "#/components/schemas/A", "b.y": "#/components/schemas/B"}
    assert "sse-framing" in log.kinds()


def test_a_union_of_event_objects_names_the_events_and_unions_their_data():
    def event(name: str, payload: str) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["event", "data"],
            "properties": {"event": {"const": name}, "data": {"$ref": f"#/components/schemas/{payload}"}},
        }

    schemas = {"Message": event("message", "Chunk"), "Usage": event("usage", "Chunk"), "Chunk": CHUNK}
    union = {"oneOf": [{"$ref": "#/components/schemas/Message"}, {"$ref": "#/components/schemas/Usage"}]}
    doc = document(responses={"200": {"description": "OK", "content": {SSE: {"schema": union}}}}, schemas=schemas)
    recognise_streams(doc, RepairLog(), source="f")
    schema = stream_schema(doc)
    assert schema["properties"]["event"] == {"type": "string", "enum": ["message", "usage"]}
    assert schema["properties"]["data"]["contentSchema"] == {
        "anyOf": [{"$ref": "#/components/schemas/Chunk"}, {"$ref": "#/components/schemas/Chunk"}]
    }


def test_a_payload_that_merely_has_a_data_property_is_framed_as_a_payload():
    listing = {
        "type": "object",
        "required": ["object", "data"],
        "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": {"type": "string"}}},
    }
    doc = document(responses={"200": {"description": "OK", "content": {SSE: {"schema": listing}}}})
    recognise_streams(doc, RepairLog(), source="f")
    assert stream_schema(doc)["properties"]["data"]["contentSchema"] == listing
