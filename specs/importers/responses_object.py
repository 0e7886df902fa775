"""Importer for a bare Operation ``responses`` object: ``{"responses": {...}}`` and nothing else.

Such a document has no path, method, request or info, so the catalogue supplies the
method and path (options ``method``, ``path``, ``title``). The text may carry a stray
prefix before the JSON and the same line more than once; both are repaired and logged.
Two schema-level breakages of generated responses objects are fixed here because they
stop the document from being a schema at all: a recursive schema replaced by a string
placeholder (``"oneOf": "circular()"``), and an ``allOf`` whose members require
different JSON types, so nothing can satisfy it.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from apitwin.specs.pointer import join, resolve, unescape
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source
from apitwin.specs.walk import SCHEMA_LISTS, walk_document

STRAY_PREFIX = re.compile(r"[0-9]+(?=\{)")
JSON_TYPES = ("null", "boolean", "object", "array", "number", "string", "integer")


@dataclass(slots=True)
class Line:
    offset: int
    text: str


def import_api(source: Source, log: RepairLog, **options: Any) -> dict[str, Any]:
    """One OpenAPI 3.1 document with the responses attached to the catalogue's operation."""
    method, path = _operation_address(source, options)
    line = _single_line(source, log)
    payload_offset = _strip_prefix(source, line, log)
    responses = _parse_responses(source, line, payload_offset)
    document = _document(source, responses, method, path, options, line.offset)
    operation_pointer = join("", "paths", path, method)
    _add_request_body(document["paths"][path][method], operation_pointer, source, log)
    repair_circular_placeholders(document, log, source=source.name)
    repair_unsatisfiable_allofs(document, log, source=source.name)
    return document


# --- the text ------------------------------------------------------------------------------


def _operation_address(source: Source, options: dict[str, Any]) -> tuple[str, str]:
    method = options.get("method")
    path = options.get("path")
    if not isinstance(method, str) or not isinstance(path, str) or not path.startswith("/"):
        raise source.error(
            0, "a bare responses object has no method or path: the importer needs the 'method' and 'path' options"
        )
    return method.lower(), path


def _content_lines(source: Source) -> list[Line]:
    lines = []
    offset = 0
    for raw in source.text.split("\n"):
        if raw.strip():
            lines.append(Line(offset, raw.rstrip("\r")))
        offset += len(raw) + 1
    return lines


def _single_line(source: Source, log: RepairLog) -> Line:
    """The document's one line; identical repeats are dropped, differing ones are an error."""
    lines = _content_lines(source)
    if not lines:
        raise source.error(0, "empty document: expected a responses object")
    first = lines[0]
    for repeat in lines[1:]:
        if repeat.text != first.text:
            raise source.error(
                repeat.offset,
                f"line differs from line {source.line_of(first.offset)}: expected one responses object, or identical "
                f"copies of it",
            )
    if len(lines) > 1:
        log.record(
            "duplicate-line",
            "",
            source=source.where(lines[1].offset),
            before=f"{len(lines)} identical lines",
            after="1 line",
            reason="the responses object is written more than once, byte for byte; the copies are dropped",
        )
    return first


def _strip_prefix(source: Source, line: Line, log: RepairLog) -> int:
    """Offset in the line where the JSON starts, after a stray numeric prefix such as ``1``."""
    match = STRAY_PREFIX.match(line.text)
    if match is None:
        return 0
    log.record(
        "stray-prefix",
        "",
        source=source.where(line.offset),
        before=match.group(0),
        after="<absent>",
        reason="characters before the JSON object are not part of it (a line-number artefact of the dump)",
    )
    return match.end()


def _parse_responses(source: Source, line: Line, start: int) -> dict[str, Any]:
    text = line.text[start:]
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise source.error(
            line.offset + start + error.pos, f"not valid JSON at column {start + error.pos + 1}: {error.msg}"
        ) from None
    if not isinstance(value, dict) or not isinstance(value.get("responses"), dict):
        raise source.error(line.offset, "expected a JSON object with a 'responses' object")
    responses = value["responses"]
    if not responses:
        raise source.error(line.offset, "the 'responses' object is empty")
    return responses


# --- the document --------------------------------------------------------------------------


def _document(
    source: Source,
    responses: dict[str, Any],
    method: str,
    path: str,
    options: dict[str, Any],
    offset: int,
) -> dict[str, Any]:
    operation = {
        "responses": responses,
        "x-apitwin-sources": [{"file": source.name, "line": source.line_of(offset), "pointer": "/responses"}],
    }
    info = {"title": options.get("title") or source.name, "version": options.get("version") or "0.0.0"}
    return {"openapi": "3.1.0", "info": info, "paths": {path: {method: operation}}}


def _add_request_body(operation: dict[str, Any], pointer: str, source: Source, log: RepairLog) -> None:
    """The format carries no request: an open JSON object, so nothing is invented about it."""
    body = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "The vendor document gives no request schema; any JSON object is accepted.",
                }
            }
        },
    }
    operation["requestBody"] = body
    log.record(
        "request-body",
        join(pointer, "requestBody"),
        source=source.name,
        before="<absent>",
        after=body,
        reason="the document is only a responses object and states nothing about the request; an open object is the "
        "only body that claims nothing",
    )


# --- recursive schemas written as a placeholder --------------------------------------------


def _placeholder_keyword(schema: dict[str, Any]) -> str | None:
    for keyword in SCHEMA_LISTS:
        if isinstance(schema.get(keyword), str):
            return keyword
    return None


def repair_circular_placeholders(document: dict[str, Any], log: RepairLog, *, source: str) -> None:
    """Replace ``{"oneOf": "circular()", "title": T}`` by a ``$ref`` to its titled ancestor T.

    The ancestor is hoisted into ``components.schemas`` so the recursion has a name.
    """
    titled: list[tuple[str, dict[str, Any]]] = []
    placeholders: list[tuple[str, dict[str, Any]]] = []

    def visit(schema: dict[str, Any], pointer: str) -> None:
        if _placeholder_keyword(schema) is not None:
            placeholders.append((pointer, schema))
        elif isinstance(schema.get("title"), str):
            titled.append((pointer, schema))

    walk_document(document, visit)
    hoisted: dict[int, str] = {}
    for pointer, placeholder in placeholders:
        ancestor = _titled_ancestor(titled, pointer, placeholder.get("title"))
        before = copy.deepcopy(placeholder)
        if ancestor is None:
            _replace_placeholder(placeholder, None)
            reason = (
                "a recursive schema was replaced by a string placeholder and no enclosing schema has its title; any "
                "value is accepted"
            )
        else:
            ancestor_pointer, ancestor_schema = ancestor
            name = hoisted.get(id(ancestor_schema)) or _hoist(document, ancestor_pointer, ancestor_schema, hoisted)
            _replace_placeholder(placeholder, f"#/components/schemas/{name}")
            reason = (
                f"a recursive schema was replaced by a string placeholder; it refers to the enclosing schema titled "
                f"{name!r}, now components/schemas/{name}"
            )
        log.record(
            "circular-placeholder",
            pointer,
            source=source,
            before=before,
            after=copy.deepcopy(placeholder),
            reason=reason,
        )


def _titled_ancestor(
    titled: list[tuple[str, dict[str, Any]]], pointer: str, title: Any
) -> tuple[str, dict[str, Any]] | None:
    best: tuple[str, dict[str, Any]] | None = None
    for candidate_pointer, schema in titled:
        if schema.get("title") != title or not pointer.startswith(candidate_pointer + "/"):
            continue
        if best is None or len(candidate_pointer) > len(best[0]):
            best = (candidate_pointer, schema)
    return best


def _replace_placeholder(placeholder: dict[str, Any], ref: str | None) -> None:
    description = placeholder.get("description")
    placeholder.clear()
    if ref is not None:
        placeholder["$ref"] = ref
    if description is not None:
        placeholder["description"] = description


def _hoist(document: dict[str, Any], pointer: str, schema: dict[str, Any], hoisted: dict[int, str]) -> str:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    name = _free_name(schemas, str(schema["title"]))
    schemas[name] = schema
    parent_pointer, _, token = pointer.rpartition("/")
    parent = resolve(document, parent_pointer)
    key: str | int = int(token) if isinstance(parent, list) else unescape(token)
    parent[key] = {"$ref": f"#/components/schemas/{name}"}
    hoisted[id(schema)] = name
    return name


def _free_name(schemas: dict[str, Any], title: str) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "", title) or "Schema"
    name, counter = base, 2
    while name in schemas:
        name, counter = f"{base}{counter}", counter + 1
    return name


# --- allOf members that cannot hold together -----------------------------------------------


def _declared_types(schema: Any) -> set[str] | None:
    """The JSON types a member allows, or None when it does not say."""
    if not isinstance(schema, dict) or "type" not in schema:
        return None
    declared = schema["type"]
    types = set(declared) if isinstance(declared, list) else {declared}
    if "number" in types:
        types.add("integer")
    return types


def repair_unsatisfiable_allofs(document: dict[str, Any], log: RepairLog, *, source: str) -> None:
    """Drop ``allOf`` members whose type contradicts the first member's (the schema they decorate)."""

    def visit(schema: dict[str, Any], pointer: str) -> None:
        members = schema.get("allOf")
        if not isinstance(members, list) or len(members) < 2:
            return
        base = _declared_types(members[0])
        if base is None:
            return
        kept = [members[0]]
        for member in members[1:]:
            types = _declared_types(member)
            if types is None or types & base:
                kept.append(member)
        if len(kept) == len(members):
            return
        before = copy.deepcopy(members)
        schema["allOf"] = kept
        log.record(
            "unsatisfiable-allof",
            join(pointer, "allOf"),
            source=source,
            before=before,
            after=copy.deepcopy(kept),
            reason=f"the members require disjoint JSON types ({', '.join(sorted(base))} vs others), so no value is "
            f"valid; the members that contradict the first one are dropped",
        )

    walk_document(document, visit)
