"""Hoist identical sub-schemas into ``components.schemas``.

Vendor documents repeat the same schema many times (the AIML dump has one copy of the
chat message schema per model page). Every sub-schema that occurs at least twice and is
big enough to be worth a name becomes one component, and each copy a ``$ref`` to it.
A schema equal to an existing component becomes a ``$ref`` to that component.
"""

from __future__ import annotations

import json
import re
from typing import Any

from apitwin.specs.pointer import join, unescape
from apitwin.specs.repairs import RepairLog
from apitwin.specs.walk import schema_holders, walk_schema

MIN_SIZE = 160
"""Characters of canonical JSON below which a repeated schema stays inline (a ref would not pay)."""

COMPONENTS_PREFIX = "#/components/schemas/"


def dedupe(document: dict[str, Any], log: RepairLog, *, source: str) -> None:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    existing = {_key(schema): name for name, schema in components.items()}
    counts, first_seen = _census(document)
    hoisted: dict[str, str] = {}
    for key, pointer in first_seen.items():
        if counts[key] < 2 or len(key) < MIN_SIZE:
            continue
        if key in existing:
            hoisted[key] = existing[key]
        else:
            hoisted[key] = _unique_name(components, _name_for(json.loads(key), pointer))
            components[hoisted[key]] = json.loads(key)
    if not hoisted:
        return
    for holder, _pointer in list(schema_holders(document)):
        holder["schema"] = _replace(holder["schema"], hoisted, top=True)
    for name in list(components):
        components[name] = _replace(components[name], hoisted, top=True, own=name)
    _inline_single_use(document, {name for key, name in hoisted.items() if key not in existing})
    created = sorted(name for key, name in hoisted.items() if key not in existing and name in components)
    if created:
        log.record(
            "dedupe",
            "/components/schemas",
            source=source,
            before=f"{sum(counts[key] for key in hoisted)} inline copies",
            after=created,
            reason="identical sub-schemas are defined once in components and referenced",
        )


def _key(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _census(document: dict[str, Any]) -> tuple[dict[str, int], dict[str, str]]:
    """How often each sub-schema occurs, and the pointer of its first occurrence."""
    counts: dict[str, int] = {}
    first_seen: dict[str, str] = {}

    def visit(schema: dict[str, Any], pointer: str) -> None:
        key = _key(schema)
        if len(key) < MIN_SIZE:
            return
        counts[key] = counts.get(key, 0) + 1
        first_seen.setdefault(key, pointer)

    for holder, pointer in schema_holders(document):
        walk_schema(holder["schema"], join(pointer, "schema"), visit)
    for name, schema in (document.get("components") or {}).get("schemas", {}).items():
        walk_schema(schema, join("", "components", "schemas", name), visit)
    return counts, first_seen


def _replace(schema: Any, hoisted: dict[str, str], *, top: bool, own: str | None = None) -> Any:
    """``schema`` with every hoisted sub-schema replaced by a ``$ref``."""
    if not isinstance(schema, dict):
        return schema
    key = _key(schema)
    name = hoisted.get(key) if len(key) >= MIN_SIZE else None
    if name is not None and name != own:
        return {"$ref": COMPONENTS_PREFIX + name}
    result: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword in ("properties", "patternProperties", "$defs", "dependentSchemas") and isinstance(value, dict):
            result[keyword] = {k: _replace(v, hoisted, top=False) for k, v in value.items()}
        elif keyword in ("allOf", "anyOf", "oneOf", "prefixItems") and isinstance(value, list):
            result[keyword] = [_replace(v, hoisted, top=False) for v in value]
        elif isinstance(value, dict) and keyword in _SCHEMA_VALUED:
            result[keyword] = _replace(value, hoisted, top=False)
        else:
            result[keyword] = value
    return result


_SCHEMA_VALUED = {
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
}


def _inline_single_use(document: dict[str, Any], candidates: set[str]) -> None:
    """Components that ended up referenced once (nested in another hoisted one) go back inline.

    One walk places them all: a body is moved, not copied, so the references inside a body placed earlier are
    found by the same walk. A component whose one use is not a plain ``$ref`` (a discriminator mapping) stays.
    """
    uses = _ref_counts(document)
    single = sorted(name for name in candidates if uses.get(name, 0) == 1)
    if not single:
        return
    components = document["components"]["schemas"]
    bodies = {COMPONENTS_PREFIX + name: components.pop(name) for name in single}
    _substitute(document, bodies)
    for ref, body in bodies.items():  # not found as a plain $ref: keep the component
        components[ref[len(COMPONENTS_PREFIX) :]] = body


def _ref_counts(node: Any, counts: dict[str, int] | None = None) -> dict[str, int]:
    counts = {} if counts is None else counts
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(COMPONENTS_PREFIX):
            name = unescape(ref[len(COMPONENTS_PREFIX) :])
            counts[name] = counts.get(name, 0) + 1
        mapping = (
            (node.get("discriminator") or {}).get("mapping") if isinstance(node.get("discriminator"), dict) else None
        )
        for target in (mapping or {}).values():
            if isinstance(target, str) and target.startswith(COMPONENTS_PREFIX):
                name = unescape(target[len(COMPONENTS_PREFIX) :])
                counts[name] = counts.get(name, 0) + 1
        for value in node.values():
            _ref_counts(value, counts)
    elif isinstance(node, list):
        for value in node:
            _ref_counts(value, counts)
    return counts


def _substitute(node: Any, bodies: dict[str, dict[str, Any]]) -> None:
    """Every ``{"$ref": R}`` under ``node`` whose R is in ``bodies`` replaced by (and popped from) its body."""
    if isinstance(node, dict):
        entries: Any = node.items()
    elif isinstance(node, list):
        entries = enumerate(node)
    else:
        return
    for key, value in entries:
        child = value
        if isinstance(child, dict) and len(child) == 1 and isinstance(ref := child.get("$ref"), str) and ref in bodies:
            child = node[key] = bodies.pop(ref)
        _substitute(child, bodies)


def _name_for(schema: dict[str, Any], pointer: str) -> str:
    """A readable component name: the schema's title, else the property it first sat under."""
    title = schema.get("title")
    if isinstance(title, str) and re.search(r"[A-Za-z]", title):
        return _camel(title)
    tokens = [unescape(token) for token in pointer.split("/")[1:]]
    for index in range(len(tokens) - 1, 0, -1):
        if tokens[index - 1] == "properties":
            suffix = "Item" if index < len(tokens) - 1 and tokens[index + 1] == "items" else ""
            return _camel(tokens[index]) + suffix
    for token in tokens:
        if token.startswith("/"):
            return _camel(token)
    return "Schema"


def _camel(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text)
    name = "".join(word[:1].upper() + word[1:] for word in words) or "Schema"
    return name if name[0].isalpha() else "S" + name


def _unique_name(components: dict[str, Any], base: str) -> str:
    name, counter = base, 2
    while name in components:
        name, counter = f"{base}{counter}", counter + 1
    return name
