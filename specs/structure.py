"""The skeleton of an OpenAPI document: every container the pipeline walks has the JSON type it must have.

The stages after this one (normalise, compose, lint) iterate ``paths``, operations, responses,
parameters and ``components`` as objects and lists. A published document where one of them is
something else (``responses: 2024-10-01``, ``components: true``) cannot be repaired without
guessing what was meant: it ends here as one :class:`SpecError` naming the place, never as an
``AttributeError`` deep inside a stage. An ``operationId`` that YAML read as a number is the only
piece repaired (logged): its text is what was written.
"""

from __future__ import annotations

from typing import Any

from apitwin.specs.errors import SpecError
from apitwin.specs.pointer import join
from apitwin.specs.repairs import RepairLog
from apitwin.specs.walk import HTTP_METHODS

TOP_LEVEL = {"servers": list, "security": list, "tags": list, "components": dict, "webhooks": dict}
COMPONENT_MAPS = (
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "pathItems",
)
OPERATION_FIELDS = {
    "parameters": list,
    "requestBody": dict,
    "responses": dict,
    "callbacks": dict,
    "security": list,
    "servers": list,
    "tags": list,
}
TYPE_NAMES: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}


def check_structure(document: dict[str, Any], log: RepairLog, *, source: str) -> None:
    """Raise a SpecError at the first container of the wrong type; repair numeric ``operationId``s."""
    for key, kind in TOP_LEVEL.items():
        _expect(document, key, kind, "", source, log)
    components = document.get("components") or {}
    for section in COMPONENT_MAPS:
        _expect(components, section, dict, "/components", source, log)
        for name, item in (components.get(section) or {}).items():
            if section != "schemas":  # a 3.1 schema may be a boolean
                _expect_value(item, dict, join("", "components", section, name), source)
    for name, item in (components.get("responses") or {}).items():
        _check_response(item, join("", "components", "responses", name), source, log)
    for name, item in (components.get("requestBodies") or {}).items():
        _check_content(item, join("", "components", "requestBodies", name), source, log)
    for path, item in document["paths"].items():
        _check_path_item(item, join("", "paths", path), log, source)
    for name, item in (document.get("webhooks") or {}).items():
        _check_path_item(item, join("", "webhooks", name), log, source)


def _check_path_item(item: Any, pointer: str, log: RepairLog, source: str) -> None:
    _expect_value(item, dict, pointer, source)
    _expect(item, "parameters", list, pointer, source, log)
    for index, parameter in enumerate(item.get("parameters") or []):
        _expect_value(parameter, dict, join(pointer, "parameters", index), source)
    for method in HTTP_METHODS:
        if method in item:
            _check_operation(item[method], join(pointer, method), log, source)


def _check_operation(operation: Any, pointer: str, log: RepairLog, source: str) -> None:
    _expect_value(operation, dict, pointer, source)
    for key, kind in OPERATION_FIELDS.items():
        _expect(operation, key, kind, pointer, source, log)
    for index, parameter in enumerate(operation.get("parameters") or []):
        _expect_value(parameter, dict, join(pointer, "parameters", index), source)
    if "requestBody" in operation:
        _check_content(operation["requestBody"], join(pointer, "requestBody"), source, log)
    for status, response in (operation.get("responses") or {}).items():
        _check_response(response, join(pointer, "responses", status), source, log)
    _repair_operation_id(operation, pointer, log, source)


def _check_response(response: Any, pointer: str, source: str, log: RepairLog) -> None:
    _expect_value(response, dict, pointer, source)
    _expect(response, "headers", dict, pointer, source, log)
    for name, header in (response.get("headers") or {}).items():
        _expect_value(header, dict, join(pointer, "headers", name), source)
    _check_content(response, pointer, source, log)


def _check_content(holder: Any, pointer: str, source: str, log: RepairLog) -> None:
    _expect_value(holder, dict, pointer, source)
    _expect(holder, "content", dict, pointer, source, log)
    for media_type, media in (holder.get("content") or {}).items():
        _expect_value(media, dict, join(pointer, "content", media_type), source)


def _repair_operation_id(operation: dict[str, Any], pointer: str, log: RepairLog, source: str) -> None:
    value = operation.get("operationId")
    if value is None or isinstance(value, str):
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        operation["operationId"] = str(value)
        log.record(
            "operation-id",
            join(pointer, "operationId"),
            source=source,
            before=value,
            after=operation["operationId"],
            reason="YAML read an unquoted operationId as a number; it is the text as written",
        )
        return
    raise SpecError(source, join(pointer, "operationId"), f"must be a string, not {_kind(value)}")


def _expect(holder: dict[str, Any], key: str, kind: type, pointer: str, source: str, log: RepairLog) -> None:
    if key not in holder:
        return
    if holder[key] is not None:
        _expect_value(holder[key], kind, join(pointer, key), source)
        return
    del holder[key]
    log.record(
        "empty-field",
        join(pointer, key),
        source=source,
        before=None,
        after="<absent>",
        reason=f"'{key}:' with nothing after it says nothing; it must be {TYPE_NAMES[kind]} when given",
    )


def _expect_value(value: Any, kind: type, pointer: str, source: str) -> None:
    if not isinstance(value, kind):
        raise SpecError(source, pointer or "/", f"must be {TYPE_NAMES[kind]}, not {_kind(value)}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    return TYPE_NAMES.get(type(value), type(value).__name__)
