"""Breaking-change diff between two versions of an OpenAPI document.

Whether a change breaks depends on the direction data flows. What clients SEND (parameters,
request bodies) breaks when the new spec accepts less: a narrowed type, a removed enum value,
a new required field, tighter bounds. What clients READ (responses, events) breaks when the new
spec may emit more: a new enum value, a field no longer required, a type widened to include
null, and a field removed outright. ``$ref``s are followed, so renaming a component is no change.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from apitwin.specs.canonical import canonical, memoised, reference
from apitwin.specs.jsontypes import json_type
from apitwin.specs.pointer import follow, join
from apitwin.specs.walk import HTTP_METHODS

REQUEST = "request"
RESPONSE = "response"
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
UNIONS = ("anyOf", "oneOf")
MAX_DEPTH = 200
"""Guards the walk over schemas nested without references (cycles go through ``$ref``)."""


@dataclass(slots=True)
class Change:
    breaking: bool
    operation: str
    """``POST /v1/chat/completions``; empty for document-wide changes."""
    pointer: str
    """JSON pointer inside the operation (as written in the new spec, or the old one when removed)."""
    kind: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change between ``old`` and ``new``, breaking ones first, each in document order."""
    with memoised(old, new):
        return _diff(old, new)


def _diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    old_operations = _operations(old)
    new_operations = _operations(new)
    for key, (label, _) in old_operations.items():
        if key not in new_operations:
            changes.append(
                Change(True, label, "", "operation-removed", "the operation is gone: clients calling it get an error")
            )
    for key, (label, operation) in new_operations.items():
        if key not in old_operations:
            changes.append(Change(False, label, "", "operation-added", "a new operation"))
            continue
        _, old_operation = old_operations[key]
        changes += OperationDiff(old, new, label).compare(old_operation, operation)
    return sorted(changes, key=lambda change: not change.breaking)


def by_operation(changes: list[Change]) -> dict[str, list[Change]]:
    """Changes grouped by operation (document-wide ones under ""), operations with breaking changes first, each
    group breaking changes first."""
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.operation, []).append(change)
    ordered = sorted(groups.items(), key=lambda item: not any(change.breaking for change in item[1]))
    return {operation: sorted(group, key=lambda change: not change.breaking) for operation, group in ordered}


def render_text(changes: list[Change]) -> str:
    """The changes as text, one block per operation: a heading with its counts, then one line per change."""
    lines = []
    for operation, group in by_operation(changes).items():
        breaking = sum(change.breaking for change in group)
        lines.append(f"{operation or '(document)'}: {breaking} breaking, {len(group) - breaking} non-breaking")
        for change in group:
            verdict = "breaking" if change.breaking else "ok"
            lines.append(f"  {verdict:<8} {change.kind}  {change.pointer or '/'}")
            lines.append(f"           {change.message}")
    return "\n".join(lines)


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """Operations keyed by method and path shape (parameter names do not matter), path-level parameters merged in."""
    found = {}
    for path, raw_item in (document.get("paths") or {}).items():
        item = _deref(document, raw_item)[0]
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            merged = {
                **operation,
                "parameters": [*(item.get("parameters") or []), *(operation.get("parameters") or [])],
                "x-path": path,
            }
            found[(method, re.sub(r"\{[^}]*\}", "{}", path))] = (f"{method.upper()} {path}", merged)
    return found


def _deref(document: dict[str, Any], node: Any) -> tuple[Any, str | None]:
    """The node a ``$ref`` chain points to (siblings of ``$ref`` kept; a dangling chain left as it is), and the
    chain's first ref, which names the node for cycle detection."""
    ref = node.get("$ref") if isinstance(node, dict) and isinstance(node.get("$ref"), str) else None
    followed = follow(document, node, merge_siblings=True)
    return (node if followed is None else followed), ref


class OperationDiff:
    """Compares one operation of the old document with the same operation of the new one."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any], label: str) -> None:
        self.old = old
        self.new = new
        self.label = label
        self.changes: list[Change] = []
        self._active: set[tuple[Any, ...]] = set()
        self._clean: set[tuple[Any, ...]] = set()

    def compare(self, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
        self._parameters(old.get("parameters") or [], new.get("parameters") or [], old["x-path"], new["x-path"])
        self._request_body(_deref(self.old, old.get("requestBody"))[0], _deref(self.new, new.get("requestBody"))[0])
        self._responses(old.get("responses") or {}, new.get("responses") or {})
        return self.changes

    def add(self, breaking: bool, pointer: str, kind: str, message: str) -> None:
        self.changes.append(Change(breaking, self.label, pointer, kind, message))

    # -- parameters and bodies -------------------------------------------------------------

    def _parameters(self, old: list[Any], new: list[Any], old_path: str, new_path: str) -> None:
        old_by_key = self._parameter_map(self.old, old, old_path)
        new_by_key = self._parameter_map(self.new, new, new_path)
        for key, parameter in old_by_key.items():
            pointer = join("/parameters", f"{key[0]}:{key[1]}")
            if key not in new_by_key:
                self.add(
                    True,
                    pointer,
                    "parameter-removed",
                    f"{key[0]} parameter '{key[1]}' was removed: clients sending it rely on what is no longer "
                    f"documented",
                )
                continue
            successor = new_by_key[key]
            if successor.get("required") and not parameter.get("required"):
                self.add(True, pointer, "parameter-now-required", f"{key[0]} parameter '{key[1]}' is now required")
            elif parameter.get("required") and not successor.get("required"):
                self.add(False, pointer, "parameter-now-optional", f"{key[0]} parameter '{key[1]}' is now optional")
            self.schema(parameter.get("schema", {}), successor.get("schema", {}), join(pointer, "schema"), REQUEST)
        for key, parameter in new_by_key.items():
            if key in old_by_key:
                continue
            pointer = join("/parameters", f"{key[0]}:{key[1]}")
            if parameter.get("required"):
                self.add(
                    True,
                    pointer,
                    "required-parameter-added",
                    f"new required {key[0]} parameter '{key[1]}': existing clients do not send it",
                )
            else:
                self.add(False, pointer, "parameter-added", f"new optional {key[0]} parameter '{key[1]}'")

    @staticmethod
    def _parameter_map(
        document: dict[str, Any], parameters: list[Any], path: str
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Parameters by (location, name); path parameters by their place in the path (clients never send names)."""
        places = {name: f"{{{index}}}" for index, name in enumerate(re.findall(r"\{([^}]*)\}", path))}
        found = {}
        for entry in parameters:
            parameter = _deref(document, entry)[0]
            if not isinstance(parameter, dict) or "name" not in parameter:
                continue
            location = parameter.get("in", "query")
            name = parameter["name"].lower() if location == "header" else parameter["name"]
            if location == "path":
                parameter = {**parameter, "required": True}
                name = places.get(name, name)
            found[(location, name)] = parameter
        return found

    def _request_body(self, old: Any, new: Any) -> None:
        pointer = "/requestBody"
        if not isinstance(old, dict) and not isinstance(new, dict):
            return
        if not isinstance(new, dict):
            self.add(True, pointer, "request-body-removed", "the operation no longer takes a request body")
            return
        if not isinstance(old, dict):
            required = bool(new.get("required"))
            self.add(
                required,
                pointer,
                "request-body-added",
                "a request body is now required" if required else "an optional request body was added",
            )
            old = {"content": {}}
        elif new.get("required") and not old.get("required"):
            self.add(True, pointer, "request-body-now-required", "the request body is now required")
        old_content, new_content = old.get("content") or {}, new.get("content") or {}
        for media_type in old_content:
            if media_type not in new_content:
                self.add(
                    True,
                    join(pointer, "content", media_type),
                    "request-media-type-removed",
                    f"requests in {media_type} are no longer accepted",
                )
        for media_type, media in new_content.items():
            where = join(pointer, "content", media_type)
            if media_type not in old_content:
                if old_content:
                    self.add(False, where, "request-media-type-added", f"requests may now also be sent as {media_type}")
                continue
            self.schema(
                (old_content[media_type] or {}).get("schema", {}),
                (media or {}).get("schema", {}),
                join(where, "schema"),
                REQUEST,
            )

    # -- responses -------------------------------------------------------------------------

    def _responses(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        old = {str(status).upper(): _deref(self.old, response)[0] or {} for status, response in old.items()}
        new = {str(status).upper(): _deref(self.new, response)[0] or {} for status, response in new.items()}
        for status, response in old.items():
            if status in new:
                self._response(status, response, new[status])
                continue
            cover = _covering(status, new)
            pointer = join("/responses", status)
            if cover is None:
                kind = "error-response-removed" if _is_error(status) else "response-removed"
                self.add(
                    True,
                    pointer,
                    kind,
                    f"status {status} is no longer documented: clients and contract tests that handle it lose its "
                    f"shape",
                )
                continue
            self._response(status, response, new[cover], note=f"status {status} is now described by {cover}")
        for status, response in new.items():
            if status in old:
                continue
            cover = _covering(status, old)
            if cover is not None:
                self._response(status, old[cover], response)
                continue
            self._added_response(status, response, old)

    def _added_response(self, status: str, response: dict[str, Any], old: dict[str, Any]) -> None:
        """A new status breaks clients only when its body has a shape they have not met in that class."""
        pointer = join("/responses", status)
        siblings = [
            other for code, other in old.items() if code[0] == status[0] or (code == "DEFAULT" and _is_error(status))
        ]
        for sibling in siblings:
            probe = OperationDiff(self.old, self.new, self.label)
            probe._response(status, sibling, response)
            if not any(change.breaking for change in probe.changes):
                self.add(
                    False,
                    pointer,
                    "response-added",
                    f"status {status} is now documented, with a shape clients already know",
                )
                return
        if _is_error(status) and not any(_is_error(code) for code in old):
            self.add(False, pointer, "response-added", f"status {status} is documented; no error was before")
            return
        kind = "error-shape-added" if _is_error(status) else "response-added"
        self.add(
            _has_content(response) or not siblings,
            pointer,
            kind,
            f"status {status} is new, with a body shape no {status[0]}xx answer had before",
        )

    def _response(self, status: str, old: dict[str, Any], new: dict[str, Any], *, note: str = "") -> None:
        pointer = join("/responses", status)
        start = len(self.changes)
        old_content, new_content = old.get("content") or {}, new.get("content") or {}
        for media_type in old_content:
            if media_type not in new_content:
                self.add(
                    True,
                    join(pointer, "content", media_type),
                    "response-media-type-removed",
                    f"status {status} no longer answers {media_type}",
                )
        for media_type, media in new_content.items():
            where = join(pointer, "content", media_type)
            if media_type not in old_content:
                self.add(
                    False,
                    where,
                    "response-media-type-added",
                    f"status {status} may now also answer {media_type} (when asked for it)",
                )
                continue
            self.schema(
                (old_content[media_type] or {}).get("schema", {}),
                (media or {}).get("schema", {}),
                join(where, "schema"),
                RESPONSE,
            )
        for change in self.changes[start:]:
            if note:
                change.message = f"{note}; {change.message}"
            if _is_error(status) and change.breaking and change.kind not in ("response-media-type-removed",):
                change.message = f"error shape changed: {change.message}"
                change.kind = "error-shape-changed"

    # -- schemas ---------------------------------------------------------------------------

    def schema(self, old: Any, new: Any, pointer: str, direction: str, depth: int = 0) -> None:
        """Record how ``new`` differs from ``old`` for data flowing in ``direction``."""
        if old is new and self.old is self.new:
            return
        old, old_ref = canonical(self.old, old)
        new, new_ref = canonical(self.new, new)
        key = (old_ref, new_ref, direction) if old_ref or new_ref else None
        if key is not None and (key in self._active or key in self._clean):
            return  # a cycle (compared further up) or a pair already found equal
        if depth > MAX_DEPTH:
            return
        if key is not None:
            self._active.add(key)
        start = len(self.changes)
        try:
            SchemaComparison(self, pointer, direction, depth).run(old, new)
        finally:
            if key is not None:
                self._active.discard(key)
                if len(self.changes) == start:
                    self._clean.add(key)


def _covering(status: str, responses: dict[str, Any]) -> str | None:
    """The range or default entry that documents ``status`` when it has no entry of its own."""
    if status[1:].isdigit() and f"{status[0]}XX" in responses:
        return f"{status[0]}XX"
    if "DEFAULT" in responses and status != "DEFAULT":
        return "DEFAULT"
    return None


def _is_error(status: str) -> bool:
    return status[0] in "45" or status == "DEFAULT"


def _has_content(response: dict[str, Any]) -> bool:
    return bool(response.get("content"))


def _as_schema(schema: Any) -> dict[str, Any]:
    if schema is True or schema is None:
        return {}
    if schema is False:
        return {"not": {}}
    return schema if isinstance(schema, dict) else {}


class SchemaComparison:
    """One schema node against its successor; sub-schemas go back through ``OperationDiff.schema``."""

    def __init__(self, owner: OperationDiff, pointer: str, direction: str, depth: int) -> None:
        self.owner = owner
        self.pointer = pointer
        self.direction = direction
        self.depth = depth

    def emit(self, kind: str, message: str, *, narrows: bool, widens: bool, pointer: str | None = None) -> None:
        """``narrows``: the new schema accepts less; ``widens``: it allows more. Which breaks depends on direction."""
        breaking = narrows if self.direction == REQUEST else widens
        self.owner.add(breaking, pointer or self.pointer, kind, f"{self.direction}: {message}")

    def child(self, old: Any, new: Any, *tokens: str | int, direction: str | None = None) -> None:
        self.owner.schema(old, new, join(self.pointer, *tokens), direction or self.direction, self.depth + 1)

    def run(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self._nullable(old, new)
        if any(keyword in old or keyword in new for keyword in UNIONS):
            self._unions(old, new)
            if not all(any(keyword in schema for keyword in UNIONS) for schema in (old, new)):
                return  # the plain side was compared against the matching alternative
        if self._types(old, new):
            return  # a value of the old type is never one of the new: what each type constrains is beside the point
        self._enums(old, new)
        self._bounds(old, new)
        self._strings(old, new)
        self._objects(old, new)
        self._arrays(old, new)
        self._all_of(old, new)
        self._conditionals(old, new)
        if old.get("description") != new.get("description") and "description" in old and "description" in new:
            self.emit("description-changed", "the description changed", narrows=False, widens=False)

    def _types(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        """Record a type change; True when the type was replaced outright (no value of the old type remains)."""
        old_types, new_types = _nullable_types(old), _nullable_types(new)
        if old_types == new_types or (_values(old) is not None and _values(new) is not None):
            return False  # with values listed on both sides, the enum comparison says it all
        if old_types is None:
            self.emit("type-narrowed", f"the type is now restricted to {_names(new_types)}", narrows=True, widens=False)
            return False
        if new_types is None:
            self.emit(
                "type-widened",
                f"the type is no longer restricted (was {_names(old_types)})",
                narrows=False,
                widens=True,
            )
            return False
        removed = {kind for kind in old_types - new_types if not (kind == "integer" and "number" in new_types)}
        added = {kind for kind in new_types - old_types if not (kind == "integer" and "number" in old_types)}
        if "number" in old_types and "integer" in new_types and "number" not in new_types:
            removed.add("non-integer number")
        if removed and added:
            self.emit(
                "type-changed",
                _type_change(old_types, new_types),
                narrows=True,
                widens=True,
            )
            return not (old_types & new_types) - {"null"}
        if removed:
            self.emit(
                "type-narrowed",
                f"the type no longer allows {_names(removed)} (now {_names(new_types)})",
                narrows=True,
                widens=False,
            )
        if added:
            self.emit(
                "type-widened",
                f"the type now also allows {_names(added)} (was {_names(old_types)})",
                narrows=False,
                widens=True,
            )
        return False

    def _nullable(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Null allowed or refused where a side has no type list to say it (``_types`` says it otherwise)."""
        if _types(old) is not None and _types(new) is not None:
            return
        before, after = old.get("nullable") is True, new.get("nullable") is True
        if before and not after:
            self.emit("type-narrowed", "the value may no longer be null", narrows=True, widens=False)
        elif after and not before:
            self.emit("type-widened", "the value may now be null", narrows=False, widens=True)

    def _enums(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        old_values, new_values = _values(old), _values(new)
        if old_values == new_values:
            return
        if old_values is None:
            self.emit("enum-added", f"values are now limited to {_show(new_values)}", narrows=True, widens=False)
            return
        if new_values is None:
            self.emit(
                "enum-removed", f"values are no longer limited to {_show(old_values)}", narrows=False, widens=True
            )
            return
        removed = [value for value in old_values if value not in new_values]
        added = [value for value in new_values if value not in old_values]
        if removed:
            self.emit("enum-value-removed", f"enum value(s) {_show(removed)} removed", narrows=True, widens=False)
        if added:
            self.emit("enum-value-added", f"enum value(s) {_show(added)} added", narrows=False, widens=True)

    def _bounds(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for keyword in (*LOWER_BOUNDS, *UPPER_BOUNDS):
            before, after = old.get(keyword), new.get(keyword)
            if before == after or not _number_or_none(before) or not _number_or_none(after):
                continue
            tighter = after is not None and (
                before is None or (after > before if keyword in LOWER_BOUNDS else after < before)
            )
            pointer = join(self.pointer, keyword)
            if tighter:
                self.emit(
                    "bound-tightened",
                    f"{keyword} tightened from {_show_one(before)} to {_show_one(after)}",
                    narrows=True,
                    widens=False,
                    pointer=pointer,
                )
            else:
                self.emit(
                    "bound-loosened",
                    f"{keyword} {_show_one(before)} no longer applies"
                    if after is None
                    else f"{keyword} loosened from {_show_one(before)} to {_show_one(after)}",
                    narrows=False,
                    widens=True,
                    pointer=pointer,
                )
        if old.get("multipleOf") != new.get("multipleOf"):
            self.emit(
                "multiple-of-changed",
                f"multipleOf changed from {_show_one(old.get('multipleOf'))} to {_show_one(new.get('multipleOf'))}",
                narrows=True,
                widens=True,
            )
        if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")):
            self.emit(
                "unique-items-changed",
                "items must now be unique" if new.get("uniqueItems") else "items need no longer be unique",
                narrows=bool(new.get("uniqueItems")),
                widens=not new.get("uniqueItems"),
            )

    def _strings(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for keyword in ("pattern", "format"):
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            pointer = join(self.pointer, keyword)
            if before is None:
                self.emit(
                    f"{keyword}-added",
                    f"values must now match {keyword} {after!r}",
                    narrows=True,
                    widens=False,
                    pointer=pointer,
                )
            elif after is None:
                self.emit(
                    f"{keyword}-removed",
                    f"{keyword} {before!r} no longer applies",
                    narrows=False,
                    widens=True,
                    pointer=pointer,
                )
            else:
                self.emit(
                    f"{keyword}-changed",
                    f"{keyword} changed from {before!r} to {after!r}",
                    narrows=True,
                    widens=True,
                    pointer=pointer,
                )

    def _objects(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        old_required, new_required = set(old.get("required") or ()), set(new.get("required") or ())
        old_properties, new_properties = old.get("properties") or {}, new.get("properties") or {}
        for name in sorted(new_required - old_required):
            self.emit(
                "required-added",
                f"property '{name}' is now required",
                narrows=True,
                widens=False,
                pointer=join(self.pointer, "properties", name),
            )
        for name in sorted(old_required - new_required):
            if name in new_properties or name not in old_properties:
                self.emit(
                    "required-removed",
                    f"property '{name}' is no longer required: it may be absent",
                    narrows=False,
                    widens=True,
                    pointer=join(self.pointer, "properties", name),
                )
        for name, schema in old_properties.items():
            if name not in new_properties:
                self.emit(
                    "property-removed",
                    f"property '{name}' was removed",
                    narrows=True,
                    widens=True,
                    pointer=join(self.pointer, "properties", name),
                )
                continue
            self.child(schema, new_properties[name], "properties", name)
        for name in new_properties:
            if name not in old_properties and name not in new_required:
                self.emit(
                    "property-added",
                    f"optional property '{name}' was added",
                    narrows=False,
                    widens=False,
                    pointer=join(self.pointer, "properties", name),
                )
        self._additional(old.get("additionalProperties"), new.get("additionalProperties"))

    def _additional(self, old: Any, new: Any) -> None:
        closed_before, closed_after = old is False, new is False
        if closed_before != closed_after:
            message = "unknown properties are now refused" if closed_after else "unknown properties are now allowed"
            self.emit("additional-properties-changed", message, narrows=closed_after, widens=closed_before)
            return
        if isinstance(old, dict) or isinstance(new, dict):
            self.child(old if old is not None else {}, new if new is not None else {}, "additionalProperties")

    def _arrays(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        if "items" in old or "items" in new:
            self.child(old.get("items", {}), new.get("items", {}), "items")
        old_prefix, new_prefix = old.get("prefixItems") or [], new.get("prefixItems") or []
        for index in range(min(len(old_prefix), len(new_prefix))):
            self.child(old_prefix[index], new_prefix[index], "prefixItems", index)
        if len(old_prefix) != len(new_prefix):
            self.emit(
                "prefix-items-changed",
                f"tuple items changed from {len(old_prefix)} to {len(new_prefix)} positions",
                narrows=True,
                widens=True,
            )

    def _all_of(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        old_parts, new_parts = old.get("allOf") or [], new.get("allOf") or []
        for index in range(min(len(old_parts), len(new_parts))):
            self.child(old_parts[index], new_parts[index], "allOf", index)
        for index in range(len(old_parts), len(new_parts)):
            self.emit(
                "all-of-added",
                f"a new constraint {_label(self.owner.new, new_parts[index])} must also hold",
                narrows=True,
                widens=False,
                pointer=join(self.pointer, "allOf", index),
            )
        for index in range(len(new_parts), len(old_parts)):
            self.emit(
                "all-of-removed",
                f"the constraint {_label(self.owner.old, old_parts[index])} no longer applies",
                narrows=False,
                widens=True,
            )

    def _conditionals(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for keyword in ("then", "else", "contentSchema"):
            if keyword in old or keyword in new:
                self.child(old.get(keyword, {}), new.get(keyword, {}), keyword)
        for keyword in ("if", "not", "dependentRequired", "dependentSchemas"):
            before, after = old.get(keyword), new.get(keyword)
            if (before is not None or after is not None) and _canonical(self.owner.old, before) != _canonical(
                self.owner.new, after
            ):
                self.emit(
                    f"{keyword}-changed",
                    f"the '{keyword}' condition changed",
                    narrows=True,
                    widens=True,
                    pointer=join(self.pointer, keyword),
                )

    def _unions(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Alternatives are paired by shape first, then in order; unpaired ones were added or removed."""
        old_branches, _old_keyword = _branches(old)
        new_branches, new_keyword = _branches(new)
        old_resolved = [canonical(self.owner.old, branch)[0] for branch in old_branches]
        new_resolved = [canonical(self.owner.new, branch)[0] for branch in new_branches]
        old_identities = [_identities(self.owner.old, *pair) for pair in zip(old_branches, old_resolved, strict=True)]
        new_identities = [_identities(self.owner.new, *pair) for pair in zip(new_branches, new_resolved, strict=True)]
        pairs = _pair_branches(old_identities, new_identities)
        spare_new = [index for index in range(len(new_branches)) if index not in pairs.values()]
        for old_index in range(len(old_branches)):
            if (
                old_index not in pairs
                and spare_new
                and _compatible(old_resolved[old_index], new_resolved[spare_new[0]])
            ):
                pairs[old_index] = spare_new.pop(0)
        for old_index, new_index in pairs.items():
            tokens = (new_keyword, new_index) if new_keyword else ()
            start = len(self.owner.changes)
            self.owner.schema(
                old_branches[old_index],
                new_branches[new_index],
                join(self.pointer, *tokens),
                self.direction,
                self.depth + 1,
            )
            if len(self.owner.changes) > start and self._moot(old_branches, old_index, new_branches, new_index):
                for change in self.owner.changes[start:]:
                    if change.breaking:
                        change.breaking = False
                        change.message += " (another alternative already allows this)"
        if not pairs and self._type_replaced(old, old_resolved, new, new_resolved):
            return
        old_is_plain, new_is_plain = _old_keyword is None, new_keyword is None
        for old_index in range(len(old_branches)):
            if old_index in pairs or (new_is_plain and self._covers(old_branches[old_index], new_branches[0], REQUEST)):
                continue
            self.emit(
                "alternative-removed",
                f"the alternative {_label(self.owner.old, old_branches[old_index])} was removed",
                narrows=True,
                widens=False,
            )
        for new_index in spare_new:
            if old_is_plain and self._covers(old_branches[0], new_branches[new_index], RESPONSE):
                continue
            pointer = join(self.pointer, new_keyword or "anyOf", new_index)
            self.emit(
                "alternative-added",
                f"the alternative {_label(self.owner.new, new_branches[new_index])} was added",
                narrows=False,
                widens=True,
                pointer=pointer,
            )

    def _moot(self, old: list[Any], old_index: int, new: list[Any], new_index: int) -> bool:
        """Whether a plain sibling alternative (``anyOf: [string, {enum: …}]``, an open enum) already held what
        the changed pair gains (responses) or still holds what it loses (requests)."""
        if self.direction == RESPONSE:
            siblings = [branch for index, branch in enumerate(old) if index != old_index and _is_scalar(branch)]
            return any(self._covers(sibling, new[new_index], RESPONSE) for sibling in siblings)
        siblings = [branch for index, branch in enumerate(new) if index != new_index and _is_scalar(branch)]
        return any(self._covers(old[old_index], sibling, REQUEST) for sibling in siblings)

    def _covers(self, old: Any, new: Any, direction: str) -> bool:
        """Whether a plain schema already took in an alternative of the other side: the pair differs in nothing
        that breaks ``direction`` (RESPONSE: the new allows nothing more; REQUEST: it accepts nothing less)."""
        probe = OperationDiff(self.owner.old, self.owner.new, self.owner.label)
        probe.schema(old, new, self.pointer, direction, self.depth + 1)
        return not any(change.breaking for change in probe.changes)

    def _type_replaced(
        self, old: dict[str, Any], old_branches: list[dict[str, Any]], new: dict[str, Any], new_branches: list[Any]
    ) -> bool:
        """No alternative carried over and the types differ: one change, "the type was X, now Y"."""
        old_types, new_types = _union_types(old, old_branches), _union_types(new, new_branches)
        if old_types is None or new_types is None or old_types == new_types:
            return False
        self.emit("type-changed", _type_change(old_types, new_types), narrows=True, widens=True)
        return True


def _type_change(old: set[str], new: set[str]) -> str:
    """ "the type was string, now number"; null, when allowed on both sides, is said apart."""
    if "null" in old and "null" in new:
        return f"the type was {_names(old - {'null'})}, now {_names(new - {'null'})} (null allowed before and after)"
    return f"the type was {_names(old)}, now {_names(new)}"


def _is_scalar(schema: Any) -> bool:
    """An inline alternative with nothing nested (``{type: string}``): cheap to test as a cover for others."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return False
    nested = ("properties", "items", "allOf", "anyOf", "oneOf", "not", "additionalProperties", "prefixItems")
    return not any(keyword in schema for keyword in nested)


def _union_types(schema: dict[str, Any], branches: list[dict[str, Any]]) -> set[str] | None:
    """Every type the alternatives of ``schema`` allow; None when one of them is not restricted."""
    found: set[str] = {"null"} if schema.get("nullable") is True else set()
    for branch in branches:
        types = _nullable_types(branch)
        if types is None:
            return None
        found |= types
    return found


def _branches(schema: dict[str, Any]) -> tuple[list[Any], str | None]:
    for keyword in UNIONS:
        if isinstance(schema.get(keyword), list):
            return schema[keyword], keyword
    return [schema], None


def _identities(document: dict[str, Any], branch: Any, schema: dict[str, Any]) -> tuple[Any, ...]:
    """Ways to recognise one alternative in the other version, strongest first: the component it names, the
    constant values of its properties (a ``type: "message"`` tag), and its shape."""
    ref = reference(document, branch)
    return (
        ref.rsplit("/", 1)[-1] if ref else None,
        _tags(document, schema) or None,
        _signature(schema),
    )


def _pair_branches(old: list[tuple[Any, ...]], new: list[tuple[Any, ...]]) -> dict[int, int]:
    """Old branch index to new branch index, matching on each identity in turn, whatever the order."""
    pairs: dict[int, int] = {}
    for level in range(len(old[0]) if old else 0):
        taken = set(pairs.values())
        for old_index, identity in enumerate(old):
            if old_index in pairs or identity[level] is None:
                continue
            for new_index, candidate in enumerate(new):
                if new_index not in taken and candidate[level] == identity[level]:
                    pairs[old_index] = new_index
                    taken.add(new_index)
                    break
    return pairs


def _tags(document: dict[str, Any], schema: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Properties held to one value (``const`` or a one-value ``enum``): the tags that tell alternatives apart."""
    tags = []
    for name, prop in sorted((schema.get("properties") or {}).items()):
        values = _values(canonical(document, prop)[0])
        if values is not None and len(values) == 1:
            tags.append((name, json.dumps(values[0], sort_keys=True, default=str)))
    return tuple(tags)


def _signature(schema: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies an alternative however it is referenced: its types, constant values and property names."""
    types = _types(schema)
    return (
        tuple(sorted(types)) if types else None,
        json.dumps(_values(schema), sort_keys=True, default=str),
        tuple(sorted(schema.get("properties") or ())),
        schema.get("title"),
    )


def _compatible(old: dict[str, Any], new: dict[str, Any]) -> bool:
    old_types, new_types = _types(old), _types(new)
    return (
        old_types is None
        or new_types is None
        or bool(old_types & new_types)
        or {"integer", "number"} <= (old_types | new_types)
    )


def _types(schema: dict[str, Any]) -> set[str] | None:
    """The declared types; an enum or const without ``type`` is restricted to its values' types."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {kind for kind in declared if isinstance(kind, str)}
    values = _values(schema)
    if values is not None:
        return {json_type(value) for value in values if value is not None} or {"null"}
    return None


def _nullable_types(schema: dict[str, Any]) -> set[str] | None:
    """The declared types with ``null`` when the schema is nullable (canonical() keeps null out of ``type``)."""
    types = _types(schema)
    if types is not None and schema.get("nullable") is True:
        return types | {"null"}
    return types


def _values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    return None


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _label(document: dict[str, Any], schema: Any) -> str:
    ref = reference(document, schema)
    if ref:
        return ref.rsplit("/", 1)[-1]
    target = canonical(document, schema)[0]
    values = _values(target)
    if values is not None:
        return _show(values)
    types = _types(target)
    return _names(types) if types else "(schema)"


def _canonical(document: dict[str, Any], schema: Any, depth: int = 0) -> str:
    """A text that is equal for equal meanings (references inlined a few levels deep)."""

    def inline(node: Any, level: int) -> Any:
        if isinstance(node, dict):
            target, ref = _deref(document, node)
            if ref is not None and level > 8:
                return {"$ref": ref}
            source = target if isinstance(target, dict) else node
            return {
                key: inline(value, level + 1)
                for key, value in source.items()
                if key not in ("description", "title", "examples", "example")
            }
        if isinstance(node, list):
            return [inline(item, level + 1) for item in node]
        return node

    return json.dumps(inline(schema, depth), sort_keys=True, default=str)


def _names(types: set[str] | None) -> str:
    return "/".join(sorted(types or ()))


def _show(values: Any) -> str:
    text = ", ".join(_show_one(value) for value in values)
    return text if len(text) <= 120 else text[:119] + "…"


def _show_one(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
