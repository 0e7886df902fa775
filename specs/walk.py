"""Visiting every schema and every operation of an OpenAPI document, with JSON pointers.

Stages repair documents in place; this module is the one place that knows where
OpenAPI keeps schemas, so no stage re-implements the traversal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from apitwin.specs.pointer import join, resolve

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_VALUES = (
    "items",
    "additionalProperties",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)

_SUB_SCHEMA_KEYWORDS = frozenset(SCHEMA_MAPS + SCHEMA_LISTS + SCHEMA_VALUES)

Visitor = Callable[[dict[str, Any], str], None]


def walk_schema(schema: Any, pointer: str, visit: Visitor) -> None:
    """Call ``visit(schema, pointer)`` on ``schema`` and every sub-schema, parents first.

    ``visit`` may change the schema in place; the walk descends into what is there after it.
    """
    if not isinstance(schema, dict):
        return
    visit(schema, pointer)
    if schema.keys().isdisjoint(_SUB_SCHEMA_KEYWORDS):  # a leaf, as most schemas are: nothing below to visit
        return
    for keyword in SCHEMA_MAPS:
        children = schema.get(keyword)
        if isinstance(children, dict):
            for name, child in list(children.items()):
                walk_schema(child, join(pointer, keyword, name), visit)
    for keyword in SCHEMA_LISTS:
        children = schema.get(keyword)
        if isinstance(children, list):
            for index, child in enumerate(children):
                walk_schema(child, join(pointer, keyword, index), visit)
    for keyword in SCHEMA_VALUES:
        child = schema.get(keyword)
        if isinstance(child, list):  # draft-4 tuple form of ``items``
            for index, item in enumerate(child):
                walk_schema(item, join(pointer, keyword, index), visit)
        else:
            walk_schema(child, join(pointer, keyword), visit)


def iter_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every operation, in document order."""
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield path, method, operation


def _content_schema_roots(content: Any, pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    if not isinstance(content, dict):
        return
    for media_type, media in content.items():
        if isinstance(media, dict) and isinstance(media.get("schema"), dict):
            yield media, join(pointer, media_type)


def _parameter_roots(parameters: Any, pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    if not isinstance(parameters, list):
        return
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, dict):
            continue
        if isinstance(parameter.get("schema"), dict):
            yield parameter, join(pointer, index)
        yield from _content_schema_roots(parameter.get("content"), join(pointer, index, "content"))


def _headers_roots(headers: Any, pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    if not isinstance(headers, dict):
        return
    for name, header in headers.items():
        if isinstance(header, dict) and isinstance(header.get("schema"), dict):
            yield header, join(pointer, name)


def _response_roots(response: Any, pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    if not isinstance(response, dict):
        return
    yield from _content_schema_roots(response.get("content"), join(pointer, "content"))
    yield from _headers_roots(response.get("headers"), join(pointer, "headers"))


def _operation_roots(operation: dict[str, Any], pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    yield from _parameter_roots(operation.get("parameters"), join(pointer, "parameters"))
    body = operation.get("requestBody")
    if isinstance(body, dict):
        yield from _content_schema_roots(body.get("content"), join(pointer, "requestBody", "content"))
    for status, response in (operation.get("responses") or {}).items():
        yield from _response_roots(response, join(pointer, "responses", status))


def schema_holders(document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every object that holds a top-level schema under its ``schema`` key, with its pointer.

    Yielding the holder (not the schema) lets a stage replace the schema outright.
    """
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        base = join("", "paths", path)
        yield from _parameter_roots(item.get("parameters"), join(base, "parameters"))
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                yield from _operation_roots(item[method], join(base, method))
    components = document.get("components") or {}
    for name, parameter in (components.get("parameters") or {}).items():
        yield from _parameter_roots([parameter], join("", "components", "parameters", name))
    yield from _headers_roots(components.get("headers"), join("", "components", "headers"))
    for name, body in (components.get("requestBodies") or {}).items():
        if isinstance(body, dict):
            yield from _content_schema_roots(
                body.get("content"), join("", "components", "requestBodies", name, "content")
            )
    for name, response in (components.get("responses") or {}).items():
        yield from _response_roots(response, join("", "components", "responses", name))


def walk_document(document: dict[str, Any], visit: Visitor) -> None:
    """Call ``visit`` on every schema of the document: inline ones and ``components.schemas``."""
    for holder, pointer in schema_holders(document):
        walk_schema(holder["schema"], join(pointer, "schema"), visit)
    schemas = (document.get("components") or {}).get("schemas") or {}
    for name, schema in list(schemas.items()):
        walk_schema(schema, join("", "components", "schemas", name), visit)


def answer_schemas(document: dict[str, Any], operation: dict[str, Any], pointer: str) -> list[tuple[str, Any]]:
    """The schemas of what the operation at ``pointer`` answers with success, each with its pointer: its 2xx
    JSON schemas, and for an event stream the payload schema of its events (``contentSchema``, ``$ref``s
    followed)."""
    found: list[tuple[str, Any]] = []
    for status, declared in (operation.get("responses") or {}).items():
        where, response = join(pointer, "responses", status), declared
        if isinstance(declared, dict) and isinstance(declared.get("$ref"), str):
            where, response = _local_target(document, declared["$ref"], where)
        if not str(status).startswith("2") or not isinstance(response, dict):
            continue
        for media, body in (response.get("content") or {}).items():
            schema = (body or {}).get("schema")
            if schema is None:
                continue
            at = join(where, "content", media, "schema")
            if media == "text/event-stream":
                found.extend(_content_schemas(document, schema, at, set()))
            elif "json" in media:
                found.append((at, schema))
    return found


def _content_schemas(document: dict[str, Any], schema: Any, pointer: str, seen: set[str]) -> list[tuple[str, Any]]:
    """The ``contentSchema``s of an event schema, with their pointers: what each event's data holds."""
    if isinstance(schema, list):
        return [
            found
            for index, value in enumerate(schema)
            for found in _content_schemas(document, value, join(pointer, index), seen)
        ]
    if not isinstance(schema, dict):
        return []
    if "contentSchema" in schema:
        return [(join(pointer, "contentSchema"), schema["contentSchema"])]
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
        seen.add(ref)
        where, target = _local_target(document, ref, pointer)
        return _content_schemas(document, target, where, seen)
    return [
        found for key, value in schema.items() for found in _content_schemas(document, value, join(pointer, key), seen)
    ]


def _local_target(document: dict[str, Any], ref: str, pointer: str) -> tuple[str, Any]:
    """Where a local ``$ref`` leads and what is there (None when it dangles)."""
    try:
        return ref[1:], resolve(document, ref)
    except KeyError:
        return pointer, None
