"""Importer for a complete OpenAPI 3.0/3.1 document, JSON or YAML.

This is also the path for user-supplied files, so it knows nothing about any vendor:
it parses, checks that the text is an OpenAPI document, records where each operation
came from, and rewrites its event streams into apitwin's SSE convention
(``specs.streams``). API-specific facts belong in the API's overlay.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from apitwin.specs import yaml_text
from apitwin.specs.pointer import join
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source
from apitwin.specs.streams import recognise_streams
from apitwin.specs.walk import iter_operations


def import_api(source: Source, log: RepairLog, **options: Any) -> dict[str, Any]:
    """The vendor's document as written, plus provenance and SSE framing."""
    document = parse_document(source)
    _check_document(document, source)
    _record_provenance(document, source)
    recognise_streams(document, log, source=source.name)
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
        document = yaml_text.load(source.text)
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
