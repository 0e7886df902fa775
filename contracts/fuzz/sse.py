"""Server-sent events as the spec declares them and as they arrive on the wire.

The spec's convention (README, "Server-sent events"): a ``text/event-stream`` response schema
describes ONE event, ``{event?: {enum}, data: {contentMediaType: application/json, contentSchema}}``,
optionally ``data: {if: {const: "[DONE]"}, else: {...}}`` for a stream-ending terminator. Reading
it is done once per (operation, status, media type) and cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from apitwin.contracts.traffic.events import parse_block
from apitwin.specs.validation import SchemaChecker

TERMINAL_SUFFIXES = (".completed", ".failed", ".incomplete")
OPENING_SUFFIXES = (".created", ".queued")


@dataclass(slots=True)
class StreamSpec:
    """What one event of a stream may carry, read from the response schema."""

    payload_schema: dict[str, Any]
    payload_validator: Any
    event_names: tuple[str, ...]
    terminator: str | None
    lifecycle: str | None
    """The prefix of a lifecycle vocabulary (``"response"`` when the spec names ``response.created`` and
    ``response.completed``): such streams must open with a created/queued event and end with a terminal one."""
    sequenced: bool
    """The payload declares ``sequence_number``: it must strictly increase through the stream."""
    declares_usage: bool


@dataclass(slots=True)
class Event:
    """One parsed event; ``read`` is the index of the body read it completed in."""

    name: str | None
    data: str
    read: int
    payload: Any = None
    parsed: bool = False


@dataclass(slots=True)
class StreamSpecs:
    """Compiled stream specs of one document, built on first use."""

    document: dict[str, Any]
    checker: SchemaChecker = field(init=False)
    _cache: dict[tuple[str, str, str], StreamSpec | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.checker = SchemaChecker(self.document)

    def for_response(self, path: str, method: str, status: int, media_type: str) -> StreamSpec | None:
        key = (path, method, f"{status}|{media_type}")
        if key not in self._cache:
            self._cache[key] = self._compile(path, method, status, media_type)
        return self._cache[key]

    def _compile(self, path: str, method: str, status: int, media_type: str) -> StreamSpec | None:
        operation = ((self.document.get("paths") or {}).get(path) or {}).get(method.lower()) or {}
        response = _response_for(operation.get("responses") or {}, status)
        content = (deref(self.document, response) or {}).get("content") or {}
        schema = _media_schema(content, media_type)
        event = deref(self.document, schema)
        if not isinstance(event, dict):
            return None
        properties = event.get("properties") or {}
        data = deref(self.document, properties.get("data")) or {}
        holder = data.get("else", data)
        payload = holder.get("contentSchema")
        if payload is None:
            return None
        names = tuple((deref(self.document, properties.get("event")) or {}).get("enum") or ())
        kinds = names or tuple(sorted(_type_constants(self.document, payload)))
        declared = property_names(self.document, payload)
        return StreamSpec(
            payload_schema=payload,
            payload_validator=self.checker.validator(payload),
            event_names=names,
            terminator=(data.get("if") or {}).get("const"),
            lifecycle=_lifecycle(kinds),
            sequenced="sequence_number" in declared,
            declares_usage="usage" in declared,
        )


def deref(document: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """Follow local ``$ref``s until a schema without one."""
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < 32:
        target: Any = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        schema, depth = target, depth + 1
    return schema


def _response_for(responses: dict[str, Any], status: int) -> Any:
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in responses:
            return responses[key]
    return None


def _media_schema(content: dict[str, Any], media_type: str) -> Any:
    wanted = media_type.split(";")[0].strip().lower()
    for declared, media in content.items():
        if declared.split(";")[0].strip().lower() == wanted:
            return (media or {}).get("schema")
    return None


def _walk(document: dict[str, Any], schema: Any, seen: set[int] | None = None, depth: int = 0) -> list[dict[str, Any]]:
    """The object schemas reachable through refs and combinators (not through properties)."""
    seen = set() if seen is None else seen
    schema = deref(document, schema)
    if not isinstance(schema, dict) or id(schema) in seen or depth > 12:
        return []
    seen.add(id(schema))
    found = [schema]
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(keyword) or ():
            found += _walk(document, branch, seen, depth + 1)
    for keyword in ("then", "else"):
        if keyword in schema:
            found += _walk(document, schema[keyword], seen, depth + 1)
    return found


def property_names(document: dict[str, Any], schema: Any) -> set[str]:
    names: set[str] = set()
    for node in _walk(document, schema):
        names.update((node.get("properties") or {}).keys())
    return names


def _type_constants(document: dict[str, Any], schema: Any) -> set[str]:
    constants: set[str] = set()
    for node in _walk(document, schema):
        kind = deref(document, (node.get("properties") or {}).get("type"))
        if isinstance(kind, dict):
            if isinstance(kind.get("const"), str):
                constants.add(kind["const"])
            constants.update(value for value in kind.get("enum") or () if isinstance(value, str))
    return constants


def _lifecycle(kinds: tuple[str, ...]) -> str | None:
    for kind in kinds:
        for suffix in OPENING_SUFFIXES:
            prefix = kind[: -len(suffix)]
            if kind.endswith(suffix) and f"{prefix}.completed" in kinds:
                return prefix
    return None


_BLOCK_END = re.compile(r"\r\n\r\n|\n\n|\r\r")


def parse_events(body: bytes, reads: list[int] | None = None) -> list[Event]:
    """Events of an SSE body; ``reads`` are the sizes of the body reads, to tell which read completed each event."""
    text = body.decode("utf-8", errors="replace")
    boundaries = _read_boundaries(reads or [len(body)])
    events: list[Event] = []
    position = 0
    for match in _BLOCK_END.finditer(text):
        block = text[position : match.start()]
        end_byte = len(text[: match.end()].encode("utf-8", errors="replace"))
        position = match.end()
        event = _parse_block(block, _read_index(boundaries, end_byte))
        if event is not None:
            events.append(event)
    tail = _parse_block(text[position:], len(boundaries) - 1)
    if tail is not None:
        events.append(tail)
    return events


def _read_boundaries(reads: list[int]) -> list[int]:
    total, ends = 0, []
    for size in reads:
        total += size
        ends.append(total)
    return ends


def _read_index(ends: list[int], byte: int) -> int:
    for index, end in enumerate(ends):
        if byte <= end:
            return index
    return len(ends) - 1


def _parse_block(block: str, read: int) -> Event | None:
    parsed = parse_block(block)
    if parsed is None:
        return None
    name, data = parsed
    return Event(name=name, data=data, read=read)
