"""Server-sent event streams: the conventions vendors publish, rewritten into apitwin's.

apitwin's convention (README, "Server-sent events"): a ``text/event-stream`` schema describes
one event, an object with a required ``data`` string whose JSON payload is ``contentSchema``;
named events list their names in ``event``; a non-JSON terminator is allowed by
``if: {const: "[DONE]"}`` with the payload under ``else``.

What vendors publish instead, each recognised here and rewritten (logged as ``sse-framing``):

- the payload schema straight under ``text/event-stream`` (OpenAI and most OpenAI-style specs);
  a union of payloads that each fix a ``type`` gives the event names;
- an event object whose ``data`` is an object schema, not a string (Speakeasy's convention);
- an operation whose request has a boolean ``stream`` documented as server-sent events, or an
  ``x-fern-streaming: {format: sse}`` hint, and no ``text/event-stream`` answer: the success
  answer's JSON schema (or the hint's ``response-stream``) becomes the payload of a new one.

The terminator is what the document says: ``x-speakeasy-sse-sentinel`` on the media, a
``terminator`` in ``x-fern-streaming``, or ``data: [DONE]`` written where the operation or its
``stream`` options are described.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from apitwin.specs.pointer import follow, join
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sse_wire import DATA, DONE, EVENT, ID, RETRY
from apitwin.specs.walk import iter_operations

EVENT_STREAM = "text/event-stream"
JSON = "application/json"
EVENT_TYPE_PROPERTY = "type"
DONE_TEXT = re.compile(rf"{DATA}:\s*{re.escape(DONE)}")
SSE_TEXT = re.compile(r"server[- ]sent[- ]events?|event[- ]stream|\bSSE\b", re.IGNORECASE)
SSE_FIELDS = {ID, EVENT, DATA, RETRY}
FERN_HINT = "x-fern-streaming"
SPEAKEASY_SENTINEL = "x-speakeasy-sse-sentinel"
MAX_DEPTH = 8
"""How deep ``$ref``s and compositions are followed when looking for a request's properties."""


def recognise_streams(document: dict[str, Any], log: RepairLog, *, source: str) -> None:
    """Rewrite every SSE answer of ``document`` into apitwin's event convention, in place."""
    for path, method, operation in list(iter_operations(document)):
        pointer = join("", "paths", path, method)
        _declare_documented_stream(document, operation, pointer, log, source)
        for media, media_pointer in _stream_media(document, operation, pointer):
            _frame_media(document, operation, media, media_pointer, log, source)


# --- finding the streams -------------------------------------------------------------------


def _content(response: Any) -> dict[str, Any]:
    content = response.get("content") if isinstance(response, dict) else None
    return content if isinstance(content, dict) else {}


def _stream_media(
    document: dict[str, Any], operation: dict[str, Any], pointer: str
) -> Iterator[tuple[dict[str, Any], str]]:
    """Each ``text/event-stream`` media object of the operation's responses (shared ones too)."""
    for status, declared in (operation.get("responses") or {}).items():
        response_pointer = join(pointer, "responses", status)
        if isinstance(declared, dict) and isinstance(declared.get("$ref"), str):
            response_pointer = declared["$ref"].lstrip("#")
        for media_type, media in _content(follow(document, declared)).items():
            if media_type.split(";")[0].strip().lower() == EVENT_STREAM and isinstance(media, dict):
                yield media, join(response_pointer, "content", media_type)


# --- framing one media ---------------------------------------------------------------------


def _frame_media(
    document: dict[str, Any],
    operation: dict[str, Any],
    media: dict[str, Any],
    pointer: str,
    log: RepairLog,
    source: str,
) -> None:
    schema = media.get("schema")
    if not isinstance(schema, dict):
        return
    terminator = documented_terminator(document, operation, media)
    event = follow(document, schema)
    data = follow(document, (event.get("properties") or {}).get("data")) if is_framed(event) else None
    if data is not None and not _is_json_data(data):
        return  # apitwin's own convention already, or plain-text events
    if data is not None and _sse_fields_only(event):
        framed = copy.deepcopy(event)
        framed["properties"]["data"] = _data_schema(copy.deepcopy(event["properties"]["data"]), terminator)
        media["schema"] = framed
        reason = (
            "the event's 'data' is given as an object schema (JSON events); in apitwin's convention 'data' is "
            "the string on the wire and the object is its contentSchema"
        )
        _log_framing(log, source, join(pointer, "schema"), schema, framed, terminator, reason)
        return
    # A payload that merely has a JSON ``data`` property is framed like any bare payload below.
    union = _event_object_union(document, event)
    if union is not None:
        media["schema"] = _framed_union(*union, terminator)
        reason = (
            "the stream schema is a union of event objects, each naming its event and giving its 'data' as an "
            "object schema; the event names become the 'event' enum and the data schemas the JSON payload"
        )
        _log_framing(log, source, join(pointer, "schema"), schema, media["schema"], terminator, reason)
        return
    media["schema"] = framed_event_schema(document, schema, terminator)
    _log_framing(log, source, join(pointer, "schema"), schema, media["schema"], terminator)


def _event_object_union(document: dict[str, Any], schema: Any) -> tuple[list[str], list[Any]] | None:
    """(event names, data schemas) when ``schema`` is a union of framed event objects with JSON data
    (Speakeasy's multi-event convention), else ``None``."""
    branches = _union_branches(schema) if isinstance(schema, dict) else []
    if not branches:
        return None
    names: list[str] = []
    payloads: list[Any] = []
    for branch in branches:
        event = follow(document, branch)
        if not is_framed(event) or not _sse_fields_only(event):
            return None
        properties = event.get("properties") or {}
        data = properties["data"]
        if not _is_json_data(follow(document, data)):
            return None
        name = follow(document, properties.get("event"))
        fixed = _fixed_string(name) if isinstance(name, dict) else None
        if fixed is not None and fixed not in names:
            names.append(fixed)
        payloads.append(copy.deepcopy(data))
    return names, payloads


def _sse_fields_only(event: dict[str, Any]) -> bool:
    """An SSE event object has no properties but the fields of the wire format; a payload that merely has
    a ``data`` property (``{"object": "list", "data": [...]}``) is not one."""
    return set(event.get("properties") or {}) <= SSE_FIELDS


def _fixed_string(schema: dict[str, Any]) -> str | None:
    if isinstance(schema.get("const"), str):
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
        return enum[0]
    return None


def _framed_union(names: list[str], payloads: list[Any], terminator: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if names:
        properties["event"] = {"type": "string", "enum": names}
    payload = payloads[0] if len(payloads) == 1 else {"anyOf": payloads}
    properties["data"] = _data_schema(payload, terminator)
    return {"type": "object", "required": ["data"], "properties": properties}


def _is_json_data(data: Any) -> bool:
    """True for a ``data`` schema that describes a JSON value rather than the string on the wire."""
    if not isinstance(data, dict) or "contentSchema" in data or "contentSchema" in (data.get("else") or {}):
        return False
    declared = data.get("type")
    types = declared if isinstance(declared, list) else [declared]
    if "string" in types:
        return False
    return bool({"object", "array"} & set(types)) or any(key in data for key in ("properties", "oneOf", "anyOf"))


def _log_framing(
    log: RepairLog,
    source: str,
    pointer: str,
    before: Any,
    after: Any,
    terminator: str | None,
    reason: str | None = None,
) -> None:
    reason = reason or (
        "the document gives the event payload as the text/event-stream schema; each SSE event "
        "is an object whose 'data' string carries that payload as JSON"
    )
    if terminator is not None:
        reason += f"; the stream ends with data: {terminator}, as the document says"
    log.record("sse-framing", pointer, source=source, before=before, after=after, reason=reason)


def is_framed(schema: Any) -> bool:
    """True when the schema already describes the SSE event object (a required ``data`` property)."""
    if not isinstance(schema, dict):
        return False
    data = (schema.get("properties") or {}).get("data")
    return isinstance(data, dict) and "data" in (schema.get("required") or [])


def framed_event_schema(
    document: dict[str, Any], payload: dict[str, Any], terminator: str | None = None
) -> dict[str, Any]:
    """The event object for a payload schema; event names come from the branches' ``type`` values."""
    payload = copy.deepcopy(payload)
    names = event_names(document, payload)
    properties: dict[str, Any] = {}
    if names:
        properties["event"] = {"type": "string", "enum": names}
        _add_discriminator(payload)
    properties["data"] = _data_schema(payload, terminator)
    return {"type": "object", "required": ["data"], "properties": properties}


def _data_schema(payload: dict[str, Any], terminator: str | None) -> dict[str, Any]:
    carried = {"contentMediaType": JSON, "contentSchema": payload}
    if terminator is None:
        return {"type": "string", **carried}
    return {"type": "string", "if": {"const": terminator}, "else": carried}


def event_names(document: dict[str, Any], payload: dict[str, Any]) -> list[str]:
    """Each branch's fixed ``type`` value, in branch order; empty unless every branch fixes one."""
    branches = _union_branches(follow(document, payload) or {})
    if not branches:
        return []
    names: list[str] = []
    for branch in branches:
        value = _fixed_type_value(document, branch)
        if value is None:
            return []
        if value not in names:
            names.append(value)
    return names


def _union_branches(payload: dict[str, Any]) -> list[Any]:
    for keyword in ("oneOf", "anyOf"):
        if isinstance(payload.get(keyword), list):
            return payload[keyword]
    return []


def _fixed_type_value(document: dict[str, Any], branch: Any) -> str | None:
    schema = follow(document, branch)
    prop = follow(document, ((schema or {}).get("properties") or {}).get(EVENT_TYPE_PROPERTY))
    return _fixed_string(prop) if isinstance(prop, dict) else None


def _add_discriminator(payload: dict[str, Any]) -> None:
    """Name the discriminating property; the generic normalise stage computes the mapping."""
    if "oneOf" in payload and "discriminator" not in payload:
        payload["discriminator"] = {"propertyName": EVENT_TYPE_PROPERTY}


# --- the terminator ------------------------------------------------------------------------


def documented_terminator(document: dict[str, Any], operation: dict[str, Any], media: dict[str, Any]) -> str | None:
    """The non-JSON last event the document promises, or ``None`` when it promises none."""
    sentinel = media.get(SPEAKEASY_SENTINEL)
    if isinstance(sentinel, str) and sentinel:
        return sentinel
    hint = operation.get(FERN_HINT)
    if isinstance(hint, dict) and isinstance(hint.get("terminator"), str) and hint["terminator"]:
        return hint["terminator"]
    if any(DONE_TEXT.search(text) for text in _stream_texts(document, operation, media)):
        return DONE
    return None


def _stream_texts(document: dict[str, Any], operation: dict[str, Any], media: dict[str, Any]) -> Iterator[str]:
    """Where a document describes its stream: the operation (with its examples), the SSE media and
    the request's ``stream*`` properties (``stream_options`` says what ends the stream)."""
    without_responses = {key: value for key, value in operation.items() if key != "responses"}
    yield from _strings(without_responses)
    yield from _strings({key: value for key, value in media.items() if key != "schema"})
    payload = follow(document, media.get("schema"))
    if isinstance(payload, dict) and isinstance(payload.get("description"), str):
        yield payload["description"]
    for name, prop in request_properties(document, operation).items():
        if name.startswith("stream"):
            yield from _strings(_closure(document, prop))


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _closure(document: dict[str, Any], schema: Any) -> list[Any]:
    """``schema`` and every schema its ``$ref``s reach (each once)."""
    found: list[Any] = []
    seen: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#") and ref not in seen:
                seen.add(ref)
                stack.append(follow(document, {"$ref": ref}))
            stack.extend(value for value in node.values() if isinstance(value, (dict, list)))
        elif isinstance(node, list):
            stack.extend(node)
    return found


# --- streams the document describes in words or hints --------------------------------------


def request_properties(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The top-level properties of the operation's JSON request body, over compositions and refs."""
    body = follow(document, operation.get("requestBody"))
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return {}
    for media_type, media in content.items():
        if media_type.split(";")[0].strip().endswith("json") and isinstance(media, dict):
            return _properties(document, media.get("schema"), 0)
    return {}


def _properties(document: dict[str, Any], schema: Any, depth: int) -> dict[str, Any]:
    schema = follow(document, schema)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return {}
    found: dict[str, Any] = {}
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword) or []:
            for name, prop in _properties(document, branch, depth + 1).items():
                found.setdefault(name, prop)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        found.update(properties)
    return found


def _declare_documented_stream(
    document: dict[str, Any], operation: dict[str, Any], pointer: str, log: RepairLog, source: str
) -> None:
    """An operation that streams by the document's words or hints, but declares no SSE answer."""
    status, response = _success_response(document, operation)
    if response is None or any(media.split(";")[0].strip() == EVENT_STREAM for media in _content(response)):
        return
    found = _documented_payload(document, operation, response)
    if found is None:
        return
    payload, why = found
    media: dict[str, Any] = {}
    terminator = documented_terminator(document, operation, media)
    media["schema"] = framed_event_schema(document, payload, terminator)
    content = {EVENT_STREAM: media} if _only_streams(operation) else {**_content(response), EVENT_STREAM: media}
    # A shared (``$ref``'d) response is copied: the stream belongs to this operation only.
    operation["responses"][status] = {**response, "content": content}
    target = join(pointer, "responses", status, "content", EVENT_STREAM)
    reason = f"{why}; its events carry the success answer's JSON as data"
    if terminator is not None:
        reason += f" and the stream ends with data: {terminator}, as the document says"
    log.record("sse-declared", target, source=source, before="<absent>", after=media, reason=reason)


def _success_response(document: dict[str, Any], operation: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    responses = operation.get("responses")
    if not isinstance(responses, dict):
        return "", None
    for status in sorted(key for key in responses if isinstance(key, str)):
        if status.startswith("2"):
            response = follow(document, responses[status])
            return status, response if isinstance(response, dict) else None
    return "", None


def _documented_payload(
    document: dict[str, Any], operation: dict[str, Any], response: dict[str, Any]
) -> tuple[dict[str, Any], str] | None:
    """(payload schema, why) when the operation is documented to stream SSE, else ``None``."""
    hint = operation.get(FERN_HINT)
    if isinstance(hint, dict) and str(hint.get("format", "")).lower() == "sse":
        stream = hint.get("response-stream")
        payload = stream if isinstance(stream, dict) else _json_schema(response)
        if isinstance(payload, dict):
            return copy.deepcopy(payload), f"{FERN_HINT} says the operation answers server-sent events"
        return None
    prop = follow(document, request_properties(document, operation).get("stream"))
    if not _is_boolean(document, prop):
        return None
    texts = [*_strings(_closure(document, prop)), *_strings([operation.get("description"), operation.get("summary")])]
    if not any(SSE_TEXT.search(text) for text in texts):
        return None
    payload = _json_schema(response)
    if payload is None:
        return None
    return copy.deepcopy(payload), "the request's 'stream' flag is documented to answer server-sent events"


def _only_streams(operation: dict[str, Any]) -> bool:
    """``x-fern-streaming`` without a ``stream-condition``: every answer is a stream."""
    hint = operation.get(FERN_HINT)
    return isinstance(hint, dict) and "stream-condition" not in hint and "response" not in hint


def _json_schema(response: dict[str, Any]) -> dict[str, Any] | None:
    for media_type, media in _content(response).items():
        if media_type.split(";")[0].strip().endswith("json") and isinstance(media, dict):
            schema = media.get("schema")
            if isinstance(schema, dict) and schema:
                return schema
    return None


def _is_boolean(document: dict[str, Any], schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    declared = schema.get("type")
    if declared == "boolean" or (isinstance(declared, list) and "boolean" in declared):
        return True
    branches = [*(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    return any(_is_boolean(document, follow(document, branch)) for branch in branches)
