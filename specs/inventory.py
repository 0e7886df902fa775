"""What a spec offers, counted from the spec itself: operations and the model ids it accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apitwin.specs.pointer import resolve
from apitwin.specs.walk import SCHEMA_LISTS, iter_operations


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    models: tuple[str, ...]
    alias_of: str | None = None


def operations(document: dict[str, Any], *, aliases: bool = False) -> list[Operation]:
    """The spec's operations; copies made for alias paths only when ``aliases`` is true."""
    result = []
    for path, method, operation in iter_operations(document):
        alias_of = operation.get("x-apitwin-alias-of")
        if alias_of and not aliases:
            continue
        result.append(
            Operation(
                method=method.upper(),
                path=path,
                operation_id=operation.get("operationId", ""),
                summary=(operation.get("summary") or "").strip(),
                models=tuple(request_models(document, operation)),
                alias_of=alias_of,
            )
        )
    return result


def model_ids(document: dict[str, Any]) -> list[str]:
    """Every model id any request body of the spec accepts, sorted."""
    ids: set[str] = set()
    for _path, _method, operation in iter_operations(document):
        ids.update(request_models(document, operation))
    return sorted(ids)


def request_models(document: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    """The ids a request's ``model`` property is restricted to (enum or const), in spec order."""
    found: list[str] = []
    content = (operation.get("requestBody") or {}).get("content") or {}
    for media in content.values():
        if isinstance(media, dict):
            _collect_models(document, media.get("schema"), found, set())
    return found


def _collect_models(document: dict[str, Any], schema: Any, found: list[str], seen: set[str]) -> None:
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return
        seen.add(ref)
        try:
            _collect_models(document, resolve(document, ref), found, seen)
        except KeyError:
            return
    model = (schema.get("properties") or {}).get("model")
    if isinstance(model, dict):
        for value in _pinned_values(document, model):
            if value not in found:
                found.append(value)
    for keyword in SCHEMA_LISTS:
        for branch in schema.get(keyword) or []:
            _collect_models(document, branch, found, seen)


def _pinned_values(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    if isinstance(schema.get("$ref"), str):
        try:
            schema = resolve(document, schema["$ref"])
        except KeyError:
            return []
    values = list(schema.get("enum") or [])
    if "const" in schema:
        values.append(schema["const"])
    for keyword in ("anyOf", "oneOf"):
        for branch in schema.get(keyword) or []:
            if isinstance(branch, dict):
                values += _pinned_values(document, branch)
    return [value for value in values if isinstance(value, str)]
