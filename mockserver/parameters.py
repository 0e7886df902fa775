"""Request parameters as sent, read back into typed values.

Parameters arrive as text serialised by their OpenAPI ``style`` and ``explode`` (path ``simple``,
``label`` and ``matrix``; query ``form``, ``spaceDelimited``, ``pipeDelimited`` and ``deepObject``;
header ``simple``; cookie ``form``). The schema, its ``$ref``s followed, says what the text means:
``/items/1`` with ``id: {$ref: Id}`` where ``Id`` is an integer is the integer 1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from apitwin.specs.pointer import follow

MAX_DEPTH = 4
"""How deep a parameter schema's ``$ref``s are followed to learn its types (items, properties, unions)."""
DEFAULT_STYLE = {"path": "simple", "header": "simple", "query": "form", "cookie": "form"}
DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|"}


def shape(document: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
    """``schema`` with the ``$ref``s that decide its types followed (the validator still checks the original)."""
    schema = follow(document, schema, merge_siblings=True)
    if not isinstance(schema, dict):
        return {}
    if depth >= MAX_DEPTH:
        return schema
    shaped = dict(schema)
    for keyword in ("items", "additionalProperties"):
        if isinstance(schema.get(keyword), dict):
            shaped[keyword] = shape(document, schema[keyword], depth + 1)
    if isinstance(schema.get("properties"), dict):
        shaped["properties"] = {name: shape(document, prop, depth + 1) for name, prop in schema["properties"].items()}
    for keyword in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(keyword), list):
            shaped[keyword] = [shape(document, branch, depth + 1) for branch in schema[keyword]]
    return shaped


def style_of(location: str, declared: Any) -> str:
    return declared if isinstance(declared, str) and declared else DEFAULT_STYLE.get(location, "form")


def types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema allows, over ``anyOf``/``oneOf``/``allOf`` branches."""
    declared = schema.get("type")
    if isinstance(declared, list):
        return set(declared)
    if isinstance(declared, str):
        return {declared}
    found: set[str] = set()
    for branch in [*(schema.get("anyOf") or []), *(schema.get("oneOf") or []), *(schema.get("allOf") or [])]:
        if isinstance(branch, dict):
            found |= types(branch)
    if not found and isinstance(schema.get("properties"), dict):
        found.add("object")
    return found


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for branch in [*(schema.get("allOf") or []), *(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]:
        if isinstance(branch, dict):
            found.update(_properties(branch))
    if isinstance(schema.get("properties"), dict):
        found.update(schema["properties"])
    return found


def _item_schema(schema: dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema.get("items"), dict):
        return schema["items"]
    for branch in [*(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]:
        if isinstance(branch, dict) and isinstance(branch.get("items"), dict):
            return branch["items"]
    return {}


# --- reading the text a request carries ----------------------------------------------------


def read(
    name: str,
    location: str,
    style: str,
    explode: bool,
    schema: dict[str, Any],
    *,
    path: Mapping[str, str],
    query: Mapping[str, Sequence[str]],
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
) -> Any:
    """The parameter's raw value (a string, a list of strings, or a dict for objects), ``None`` when absent."""
    if location == "query":
        return _read_query(name, style, explode, schema, query)
    text = {"path": path, "header": headers, "cookie": cookies}.get(location, {}).get(name)
    if text is None:
        return None
    return _unwrap(name, style, explode, text)


def _read_query(
    name: str, style: str, explode: bool, schema: dict[str, Any], query: Mapping[str, Sequence[str]]
) -> Any:
    allowed = types(schema)
    if style == "deepObject":
        prefix = f"{name}["
        found = {key[len(prefix) : -1]: values[-1] for key, values in query.items() if key.startswith(prefix)}
        return found or None
    if allowed == {"object"} and explode and style == "form":
        declared = _properties(schema)
        found = {key: values[-1] for key, values in query.items() if key in declared}
        return found or None
    values = query.get(name)
    if not values:
        return None
    if "array" in allowed and (len(values) > 1 or "string" not in allowed):
        if not explode and len(values) == 1:
            return values[0].split(DELIMITERS.get(style, ","))
        return list(values)
    return values[-1]


def _unwrap(name: str, style: str, explode: bool, text: str) -> Any:
    """Path, header and cookie text: ``label`` (``.a.b``) and ``matrix`` (``;id=a,b``) prefixes off."""
    if style == "label" and text.startswith("."):
        text = text[1:]
        return text.split(".") if explode and "." in text else text
    if style == "matrix" and text.startswith(";"):
        parts = [part.partition("=") for part in text[1:].split(";")]
        values = [value for key, _, value in parts if key == name]
        if len(values) > 1:
            return values
        if values:
            return values[0]
        return ",".join(f"{key}={value}" for key, _, value in parts)  # an exploded object
    return text


# --- typing the text -----------------------------------------------------------------------


def coerce(schema: dict[str, Any], explode: bool, raw: Any) -> tuple[Any, str | None]:
    """(value, problem): the raw text as the schema's type, or what was expected instead."""
    allowed = types(schema)
    if isinstance(raw, dict):
        return _coerce_object(schema, raw)
    if isinstance(raw, list) or ("array" in allowed and "string" not in allowed):
        items = raw if isinstance(raw, list) else (raw.split(",") if raw else [])
        return _coerce_items(_item_schema(schema), items)
    if "object" in allowed and "string" not in allowed and not raw.lstrip().startswith("{"):
        return _coerce_object(schema, _pairs(raw, explode))
    return coerce_scalar(allowed, raw)


def _coerce_items(item_schema: dict[str, Any], items: list[str]) -> tuple[Any, str | None]:
    values = []
    for item in items:
        value, problem = coerce_scalar(types(item_schema), item)
        if problem:
            return None, f"array of {problem}"
        values.append(value)
    return values, None


def _pairs(text: str, explode: bool) -> dict[str, str]:
    """``a,1,b,2`` (not exploded) or ``a=1,b=2`` (exploded) as ``{a: "1", b: "2"}``."""
    if explode:
        return dict(part.partition("=")[::2] for part in text.split(",") if part)
    parts = text.split(",")
    return dict(zip(parts[::2], parts[1::2], strict=False))


def _coerce_object(schema: dict[str, Any], raw: dict[str, str]) -> tuple[Any, str | None]:
    declared = _properties(schema)
    value = {}
    for key, text in raw.items():
        prop = declared.get(key)
        converted, problem = coerce_scalar(types(prop) if isinstance(prop, dict) else set(), text)
        if problem:
            return None, f"{key} as {problem}"
        value[key] = converted
    return value, None


def coerce_scalar(allowed: set[str], raw: str) -> tuple[Any, str | None]:
    if not allowed or "string" in allowed:
        return raw, None
    if "integer" in allowed:
        try:
            return int(raw), None
        except ValueError:
            pass
    if "number" in allowed:
        try:
            return float(raw), None
        except ValueError:
            pass
    if "boolean" in allowed and raw in ("true", "false"):
        return raw == "true", None
    if "null" in allowed and raw in ("", "null"):
        return None, None
    if allowed & {"object", "array"}:
        try:
            return json.loads(raw), None
        except ValueError:
            pass
    return None, " or ".join(sorted(allowed))
