"""Importer for a complete OpenAPI 3.0/3.1 document, JSON or YAML.

This is also the path for user-supplied files, so it knows nothing about any vendor:
it parses, checks that the text is an OpenAPI document, records where each operation
came from, and rewrites ``text/event-stream`` answers that give the event schema
directly into apitwin's SSE convention (an event object whose ``data`` string carries
the JSON event). API-specific facts belong in the API's overlay.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from apitwin.specs.pointer import join, resolve
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source
from apitwin.specs.walk import iter_operations, schema_holders

EVENT_STREAM = "text/event-stream"
EVENT_TYPE_PROPERTY = "type"


def import_api(source: Source, log: RepairLog, **options: Any) -> dict[str, Any]:
    """The vendor's document as written, plus provenance and SSE framing."""
    document = parse_document(source)
    _check_document(document, source)
    _record_provenance(document, source)
    frame_event_streams(document, log, source=source.name)
    return document


# --- parsing -------------------------------------------------------------------------------


def parse_document(source: Source) -> dict[str, Any]:
    """JSON first (the common case, and exact error positions), then YAML."""
    stripped = source.text.lstrip()
    if stripped.startswith("{"):
        return _parse_json(source)
    return _parse_yaml(source)


def _parse_json(source: Source) -> dict[str, Any]:
    try:
        document = json.loads(source.text)
    except json.JSONDecodeError as error:
        raise source.error(error.pos, f"not valid JSON: {error.msg}") from None
    if not isinstance(document, dict):
        raise source.error(0, "not an OpenAPI document: the top level is not an object")
    return document


def _parse_yaml(source: Source) -> dict[str, Any]:
    try:
        document = yaml.safe_load(source.text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        offset = mark.index if mark is not None else 0
        problem = getattr(error, "problem", None) or "syntax error"
        raise source.error(offset, f"neither JSON nor valid YAML: {problem}") from None
    if not isinstance(document, dict):
        raise source.error(0, "not an OpenAPI document: the top level is not an object")
    return document


def _check_document(document: dict[str, Any], source: Source) -> None:
    """Fail early, with a line, on text that is not an OpenAPI 3 document at all."""
    if "swagger" in document:
        raise source.error(
            _offset_of_key(source.text, "swagger"), "Swagger 2.0 is not supported: convert it to OpenAPI 3 first"
        )
    version = document.get("openapi")
    if version is None:
        raise source.error(0, "not an OpenAPI document: it has no 'openapi' field")
    if not str(version).startswith(("3.0", "3.1")):
        raise source.error(
            _offset_of_key(source.text, "openapi"), f"unsupported OpenAPI version {version!r}: expected 3.0.x or 3.1.x"
        )
    if not isinstance(document.get("paths", {}), dict):
        raise source.error(_offset_of_key(source.text, "paths"), "'paths' must be an object")


def _offset_of_key(text: str, key: str, start: int = 0) -> int:
    """Where ``key`` is written as a JSON or YAML mapping key, or ``start`` when it cannot be found."""
    for spelling in (f'"{key}"', f"'{key}'", f"{key}:"):
        index = text.find(spelling, start)
        if index != -1:
            return index
    return start


# --- provenance ----------------------------------------------------------------------------


def _record_provenance(document: dict[str, Any], source: Source) -> None:
    paths_offset = _offset_of_key(source.text, "paths")
    for path, method, operation in iter_operations(document):
        path_offset = _offset_of_key(source.text, path, paths_offset)
        method_offset = _offset_of_key(source.text, method, path_offset)
        entry = {
            "file": source.name,
            "line": source.line_of(method_offset),
            "pointer": join("", "paths", path, method),
        }
        operation.setdefault("x-apitwin-sources", []).append(entry)


# --- SSE framing ---------------------------------------------------------------------------


def frame_event_streams(document: dict[str, Any], log: RepairLog, *, source: str) -> None:
    """Rewrite every response ``text/event-stream`` schema that is a bare event schema."""
    for holder, pointer in list(schema_holders(document)):
        if not pointer.endswith(join("", EVENT_STREAM)) or "/responses/" not in pointer:
            continue
        if is_framed(holder["schema"]):
            continue
        before = holder["schema"]
        holder["schema"] = framed_event_schema(document, before)
        log.record(
            "sse-framing",
            join(pointer, "schema"),
            source=source,
            before=before,
            after=holder["schema"],
            reason=(
                "the document gives the event payload as the text/event-stream schema; each SSE event "
                "is an object whose 'data' string carries that payload as JSON"
            ),
        )


def is_framed(schema: Any) -> bool:
    """True when the schema already describes the SSE event object (a required ``data`` string)."""
    if not isinstance(schema, dict):
        return False
    data = (schema.get("properties") or {}).get("data")
    return isinstance(data, dict) and "data" in (schema.get("required") or [])


def framed_event_schema(document: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The event object for a payload schema; event names come from the branches' ``type`` values."""
    payload = copy.deepcopy(payload)
    names = event_names(document, payload)
    properties: dict[str, Any] = {}
    if names:
        properties["event"] = {"type": "string", "enum": names}
        _add_discriminator(payload)
    properties["data"] = {
        "type": "string",
        "contentMediaType": "application/json",
        "contentSchema": payload,
    }
    return {"type": "object", "required": ["data"], "properties": properties}


def event_names(document: dict[str, Any], payload: dict[str, Any]) -> list[str]:
    """Each branch's fixed ``type`` value, in branch order; empty unless every branch fixes one."""
    branches = _union_branches(payload)
    if not branches:
        return []
    names: list[str] = []
    for branch in branches:
        value = _fixed_type_value(document, branch)
        if value is None:
            return []
        names.append(value)
    return names


def _union_branches(payload: dict[str, Any]) -> list[Any]:
    for keyword in ("oneOf", "anyOf"):
        if isinstance(payload.get(keyword), list):
            return payload[keyword]
    return []


def _fixed_type_value(document: dict[str, Any], branch: Any) -> str | None:
    schema = _dereference(document, branch)
    prop = ((schema or {}).get("properties") or {}).get(EVENT_TYPE_PROPERTY)
    prop = _dereference(document, prop)
    if not isinstance(prop, dict):
        return None
    if isinstance(prop.get("const"), str):
        return prop["const"]
    enum = prop.get("enum")
    if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
        return enum[0]
    return None


def _dereference(document: dict[str, Any], schema: Any) -> Any:
    seen: list[str] = []
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref in seen or not ref.startswith("#"):
            return None
        seen.append(ref)
        try:
            schema = resolve(document, ref)
        except KeyError:
            return None
    return schema


def _add_discriminator(payload: dict[str, Any]) -> None:
    """Name the discriminating property; the generic normalise stage computes the mapping."""
    if "oneOf" in payload and "discriminator" not in payload:
        payload["discriminator"] = {"propertyName": EVENT_TYPE_PROPERTY}
