"""A drift as people read it (grouped lines) and as ``specs build`` takes it (an OpenAPI Overlay 1.0 draft).

Every overlay action cites the recordings that showed the drift in its ``description``; the draft is
meant to be reviewed, then moved into ``specs/overlays/<api>.yaml``. Targets point into the composed
document (``apitwin specs drift`` reads the spec as served).
"""

from __future__ import annotations

import json
import re
from typing import Any

from apitwin.contracts.traffic.drift import ABSENT, KINDS, Drift, Observation
from apitwin.specs.jsontypes import json_type
from apitwin.specs.pointer import resolve, unescape


def text_lines(drift: Drift, source: str) -> list[str]:
    lines = [f"drift: {drift.api} against {drift.exchanges} recorded exchanges ({source})"]
    if not drift.observations:
        return [*lines, "  the recordings show nothing the spec does not say"]
    for kind, title in KINDS.items():
        found = [observation for observation in drift.observations if observation.kind == kind]
        if not found:
            continue
        lines.append(f"{title} ({len(found)}):")
        lines += [f"  {_line(observation)}" for observation in found]
    return lines


def _line(observation: Observation) -> str:
    where = f"{observation.operation} {observation.where} {observation.pointer}".rstrip()
    cited = ", ".join(observation.sources) + ("…" if observation.count > len(observation.sources) else "")
    if observation.kind == "undocumented_field":
        types = ", ".join(f"{name} ×{count}" for name, count in observation.types.most_common())
        return f"{where}: {types} [{cited}]"
    if observation.kind == "enum_value":
        declared = ", ".join(map(str, observation.samples[0])) if observation.samples else "?"
        return f"{where}: {json.dumps(observation.value)} ×{observation.count} (declared: {declared}) [{cited}]"
    if observation.kind == "required_missing":
        return f"{where}: absent from all {observation.seen} objects seen"
    return f"{where}: {observation.value} ×{observation.count} [{cited}]"


def overlay(drift: Drift, document: dict[str, Any]) -> dict[str, Any]:
    """The draft: one action per observation, in an order whose removals do not shift each other."""
    observations = sorted(drift.observations, key=_order)
    return {
        "overlay": "1.0.0",
        "info": {"title": f"apitwin drift draft for {drift.api} (review before use)", "version": "0.1.0"},
        "actions": _distinct(action for observation in observations for action in _actions(observation, document)),
    }


def _order(observation: Observation) -> tuple[int, str, int]:
    """Removals last, and within one ``required`` list from the highest index down."""
    if observation.kind != "required_missing":
        return (0, "", 0)
    holder, _, index = observation.target.rpartition("/")
    return (1, holder, -int(index) if index.isdigit() else 0)


def _distinct(actions: Any) -> list[dict[str, Any]]:
    """One action per change: the same field seen in a body and in an event is added (or removed) once."""
    kept: dict[str, dict[str, Any]] = {}
    for action in actions:
        key = json.dumps([action["target"], action.get("update"), action.get("remove")], sort_keys=True)
        if key in kept:
            kept[key]["description"] += f"; also {action['description']}"
        else:
            kept[key] = action
    return list(kept.values())


def _actions(observation: Observation, document: dict[str, Any]) -> list[dict[str, Any]]:
    if observation.kind == "undeclared_event":
        return _event_actions(observation, document)
    action = _action(observation, document)
    return [action] if action is not None else []


def _event_actions(observation: Observation, document: dict[str, Any]) -> list[dict[str, Any]]:
    """A new branch of the event union: a component schema, a ``$ref`` to it in the ``oneOf``, and its
    discriminator mapping where the union has one (an unmapped value would not resolve)."""
    description = _description(observation)
    name = "Observed" + "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", observation.value))
    branch = infer(observation.samples)
    branch.setdefault("properties", {})["type"] = {"const": observation.value}
    branch["required"] = ["type"]
    reference = {"$ref": f"#/components/schemas/{name}"}
    actions = [
        {"target": "$.components.schemas", "description": description, "update": {name: branch}},
        {"target": jsonpath(document, observation.target), "description": description, "update": reference},
    ]
    union_holder = observation.target.rpartition("/")[0]
    try:
        holder = resolve(document, union_holder)
    except (KeyError, IndexError, TypeError, ValueError):
        holder = None
    if isinstance(holder, dict) and isinstance((holder.get("discriminator") or {}).get("mapping"), dict):
        actions.append(
            {
                "target": jsonpath(document, union_holder + "/discriminator/mapping"),
                "description": description,
                "update": {observation.value: reference["$ref"]},
            }
        )
    return actions


def _description(observation: Observation) -> str:
    description = f"{KINDS[observation.kind]}: {observation.operation} {observation.where} {observation.pointer}"
    return f"{description.rstrip()} (seen {observation.count}×: {'; '.join(observation.sources)})"


def _action(observation: Observation, document: dict[str, Any]) -> dict[str, Any] | None:
    cited = "; ".join(observation.sources)
    description = _description(observation)
    target = jsonpath(document, observation.target)
    kind = observation.kind
    if kind == "undocumented_field":
        schema = infer(observation.samples, observation.types)
        return {"target": target, "description": description, "update": {"properties": {observation.value: schema}}}
    if kind in ("enum_value", "undeclared_event_name"):
        return {"target": target, "description": description, "update": observation.value}
    if kind == "required_missing":
        if not observation.target.rpartition("/")[2].isdigit():
            return None
        return {"target": target, "description": description, "remove": True}
    if kind == "undeclared_content_type":
        body = [sample for sample in observation.samples if sample is not ABSENT]
        return {
            "target": target,
            "description": description,
            "update": {observation.value: {"schema": infer(body) if body else {}}},
        }
    if kind == "undeclared_status":
        content: dict[str, Any] = {}
        for content_type, body in observation.samples:
            if content_type:
                content[content_type] = {"schema": infer([body]) if body is not ABSENT else {}}
        response: dict[str, Any] = {"description": f"Observed in recorded traffic ({cited})"}
        if content:
            response["content"] = content
        return {"target": target, "description": description, "update": {str(observation.value): response}}
    return None


def infer(samples: list[Any], types: Any = None) -> dict[str, Any]:
    """A plain schema for the values seen: their types, and for objects and arrays what they held."""
    values = [sample for sample in samples if sample is not ABSENT]
    names = sorted({json_type(value) for value in values} | set(types or ()))
    if "integer" in names and "number" in names:
        names.remove("integer")
    schema: dict[str, Any] = {"type": names[0] if len(names) == 1 else names} if names else {}
    objects = [value for value in values if isinstance(value, dict)]
    if objects:
        keys = sorted({key for value in objects for key in value})
        schema["properties"] = {key: infer([value[key] for value in objects if key in value]) for key in keys}
    arrays = [item for value in values if isinstance(value, list) for item in value]
    if arrays:
        schema["items"] = infer(arrays)
    return schema


def jsonpath(document: Any, pointer: str) -> str:
    """A JSON pointer as a JSONPath (``$.paths['/v1/chat'].post.responses['200']``), as the overlays spell it;
    a token is an index only where the document holds a list."""
    parts, node = ["$"], document
    for raw in pointer.lstrip("/").split("/") if pointer else []:
        token = unescape(raw)
        if isinstance(node, list) and token.isdigit():
            parts.append(f"[{token}]")
            node = node[int(token)] if int(token) < len(node) else None
            continue
        parts.append(f".{token}" if token.isidentifier() else f"['{token}']")
        node = node.get(token) if isinstance(node, dict) else None
    return "".join(parts)
