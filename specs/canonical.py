"""One schema node in a canonical form, so spellings of the same meaning compare equal.

Spec authors rewrite schemas without changing what they accept: ``{$ref: X, nullable: true}`` becomes
``allOf[{$ref: X}, {nullable: true}]`` or ``anyOf[{$ref: X}, {type: null}]``; a schema is wrapped into
``allOf[{$ref: Base}, {properties: …}]``; an inline ``oneOf`` moves behind a ``$ref``. ``canonical`` undoes these
one node deep (children stay as written and are made canonical when they are visited): ``$ref`` siblings laid
over the target, ``allOf`` parts merged in when they do not clash, ``null`` taken out of ``type`` and unions into a
``nullable`` flag, a union left with one branch replaced by it, and nested unions of the same keyword flattened.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apitwin.specs.pointer import follow

UNIONS = ("anyOf", "oneOf")
ANNOTATIONS = frozenset(("description", "title", "example", "examples", "deprecated", "x-oaiMeta", "x-stainless-const"))
MAX_NESTING = 32
"""Guards merges of ``allOf`` parts that point back at their own schema."""


_memo: dict[int, tuple[Any, dict[int, tuple[Any, tuple[dict[str, Any], str | None]]]]] = {}
"""Canonical forms already computed, per document and node (both held, so their ids stay theirs): see ``memoised``."""


@contextmanager
def memoised(*documents: dict[str, Any]) -> Iterator[None]:
    """Within the block, the canonical form of each node of ``documents`` is computed once. The documents must
    not change meanwhile, and callers must not change the forms they get."""
    for document in documents:
        _memo.setdefault(id(document), (document, {}))
    try:
        yield
    finally:
        for document in documents:
            _memo.pop(id(document), None)


def canonical(document: dict[str, Any], node: Any, nesting: int = 0) -> tuple[dict[str, Any], str | None]:
    """``node`` in canonical form, and its identity: the ``$ref`` it stands for (with any sibling keywords), or
    None for an inline schema."""
    memo = _memo.get(id(document))
    if memo is None or not isinstance(node, dict):
        return _canonical(document, node, nesting)
    known = memo[1].get(id(node))
    if known is not None and known[0] is node:
        return known[1]
    form = _canonical(document, node, nesting)
    memo[1][id(node)] = (node, form)
    return form


def _canonical(document: dict[str, Any], node: Any, nesting: int) -> tuple[dict[str, Any], str | None]:
    identity = _identity(document, node)
    target = follow(document, node, merge_siblings=True)
    schema = dict(_as_schema(node if target is None else target))
    if nesting > MAX_NESTING:
        return schema, identity
    _lift_null_type(schema)
    if None in (schema.get("enum") or ()) or ("const" in schema and schema["const"] is None):
        schema["nullable"] = True
    if isinstance(schema.get("allOf"), list):
        schema = _merge_all_of(document, schema, nesting)
    schema = _simplify_union(document, schema, nesting)
    if schema.get("nullable") is not True:
        schema.pop("nullable", None)
    return schema, identity


def reference(document: dict[str, Any], node: Any) -> str | None:
    """The component a schema stands for: its own ``$ref``, or the one ``$ref`` its ``allOf`` wraps."""
    if not isinstance(node, dict):
        return None
    if isinstance(node.get("$ref"), str):
        return node["$ref"]
    parts = node.get("allOf")
    if isinstance(parts, list):
        refs = [part["$ref"] for part in parts if isinstance(part, dict) and isinstance(part.get("$ref"), str)]
        if len(refs) == 1:
            return refs[0]
    return None


def _identity(document: dict[str, Any], node: Any) -> str | None:
    """A cache key: equal for nodes that mean the same after canonical(), sibling keywords included."""
    if not isinstance(node, dict) or not isinstance(node.get("$ref"), str):
        return None
    siblings = {key: value for key, value in node.items() if key != "$ref" and key not in ANNOTATIONS}
    if not siblings:
        return node["$ref"]
    return node["$ref"] + json.dumps(siblings, sort_keys=True, default=str)


def _as_schema(schema: Any) -> dict[str, Any]:
    if schema is True or schema is None:
        return {}
    if schema is False:
        return {"not": {}}
    return schema if isinstance(schema, dict) else {}


def _lift_null_type(schema: dict[str, Any]) -> None:
    """``type: [X, null]`` becomes ``type: X`` with ``nullable: true``."""
    declared = schema.get("type")
    if not isinstance(declared, list) or "null" not in declared:
        return
    rest = [kind for kind in declared if kind != "null"]
    if not rest:
        return
    schema["type"] = rest[0] if len(rest) == 1 else rest
    schema["nullable"] = True


def _is_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") in ("null", ["null"]) or schema.get("enum") == [None] or schema.get("const", 0) is None


def _merge_all_of(document: dict[str, Any], schema: dict[str, Any], nesting: int) -> dict[str, Any]:
    """Each ``allOf`` part laid into the schema; a part that clashes with what is there stays under ``allOf``."""
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    kept = []
    for part in schema["allOf"]:
        flat, _ = canonical(document, part, nesting + 1)
        if not _merge_into(merged, flat):
            kept.append(part)
    if kept:
        merged["allOf"] = kept
    return merged


def _merge_into(base: dict[str, Any], part: dict[str, Any]) -> bool:
    """Lay ``part`` over ``base`` when no keyword of it contradicts ``base``; False (``base`` untouched) otherwise."""
    update: dict[str, Any] = {}
    for key, value in part.items():
        if key in ANNOTATIONS:
            if key not in base:
                update[key] = value
            continue
        if key == "nullable":
            update[key] = base.get(key) is True or value is True
        elif key == "required":
            update[key] = list(dict.fromkeys([*(base.get("required") or []), *(value or [])]))
        elif key == "properties":
            properties = dict(base.get("properties") or {})
            for name, subschema in (value or {}).items():
                clash = name in properties and properties[name] != subschema
                # both hold; canonical() merges them when the property is visited
                properties[name] = {"allOf": [properties[name], subschema]} if clash else subschema
            update[key] = properties
        elif key in base and base[key] != value:
            return False
        else:
            update[key] = value
    if any(key in base for key in UNIONS) and any(key in part for key in UNIONS):
        return False
    base.update(update)
    return True


def _simplify_union(document: dict[str, Any], schema: dict[str, Any], nesting: int) -> dict[str, Any]:
    """Null branches become ``nullable``; nested unions of the same keyword are flattened; one branch left is
    merged into the schema."""
    keyword = next((key for key in UNIONS if isinstance(schema.get(key), list)), None)
    if keyword is None:
        return schema
    branches = []
    for branch in schema[keyword]:
        flat, _ = canonical(document, branch, nesting + 1)
        if _is_null(flat):
            schema["nullable"] = True
            continue
        inner = _pure_union(flat, keyword)
        if inner is not None:
            if flat.get("nullable"):
                schema["nullable"] = True
            branches.extend(inner)
            continue
        branches.append(branch)
    if len(branches) == 1:
        rest = {key: value for key, value in schema.items() if key != keyword}
        single, _ = canonical(document, branches[0], nesting + 1)
        if _merge_into(rest, single):
            return rest
    return {**schema, keyword: branches}


def _pure_union(schema: dict[str, Any], keyword: str) -> list[Any] | None:
    """The branches of a schema that is nothing but a ``keyword`` union (annotations aside)."""
    if not isinstance(schema.get(keyword), list):
        return None
    if any(key not in ANNOTATIONS and key not in (keyword, "nullable") for key in schema):
        return None
    return schema[keyword]
