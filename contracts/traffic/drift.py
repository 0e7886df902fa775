"""``apitwin specs drift``: what recorded traffic shows that the spec does not say.

Every recorded response body (and each event of a stream) is walked alongside the schema the spec
declares for it: fields the schema does not name, enum values it does not list, required fields no
response ever carried, event types outside the stream's union, statuses and content types the
operation does not declare. Each observation keeps where in the document it belongs (a JSON pointer)
and which recordings showed it, so it becomes an OpenAPI Overlay 1.0 action citing them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from apitwin.contracts.sse import parse_events
from apitwin.mockserver.operations import CompiledApi, Operation
from apitwin.mockserver.recorded_urls import detect_base_path, strip_base, url_path, url_query
from apitwin.recordings.records import RecordedExchange
from apitwin.specs.jsontypes import json_type
from apitwin.specs.pointer import escape, resolve

KINDS = {
    "undocumented_field": "undocumented response fields",
    "enum_value": "enum values outside the spec",
    "required_missing": "required fields never sent",
    "undeclared_event": "event types outside the stream's union",
    "undeclared_event_name": "event names outside the stream's declared names",
    "undeclared_status": "undeclared status codes",
    "undeclared_content_type": "undeclared content types",
}
_NO_SAMPLE: Any = object()
MAX_SOURCES = 5
MAX_DEPTH = 40


@dataclass(slots=True)
class Observation:
    kind: str
    operation: str
    """``METHOD /template``."""
    where: str
    """``200 application/json`` or ``200 text/event-stream event``."""
    pointer: str
    """Inside the body (array items as ``*``)."""
    target: str
    """JSON pointer of the document node an overlay action changes."""
    value: Any = None
    """The field name, the enum value, the status, the content type or the event type."""
    types: Counter[str] = field(default_factory=Counter)
    samples: list[Any] = field(default_factory=list)
    count: int = 0
    seen: int = 0
    """For ``required_missing``: how many objects of that schema were seen (all of them lacked it)."""
    sources: list[str] = field(default_factory=list)

    def key(self) -> tuple[str, str, str, str, str]:
        return (self.kind, self.operation, self.where, self.pointer, json.dumps(self.value, sort_keys=True))

    def cite(self, source: str) -> None:
        if source not in self.sources and len(self.sources) < MAX_SOURCES:
            self.sources.append(source)


@dataclass(slots=True)
class Drift:
    api: str
    exchanges: int
    observations: list[Observation]


class DriftFinder:
    def __init__(self, api: CompiledApi) -> None:
        self.api = api
        self.document = api.document
        self.found: dict[tuple[str, str, str, str, str], Observation] = {}
        self.required_seen: dict[tuple[str, str, str, str], int] = {}
        self.required_present: dict[tuple[str, str, str, str], Counter[str]] = {}
        self.required_sources: dict[tuple[str, str, str, str], list[str]] = {}

    def run(self, exchanges: list[RecordedExchange]) -> Drift:
        base = detect_base_path(self.api, (url_path(exchange.request.url) for exchange in exchanges))
        for exchange in exchanges:
            path = strip_base(url_path(exchange.request.url), base)
            if path is None or exchange.response is None:
                continue
            request = exchange.request
            match = self.api.router.match(path, request.method, url_query(request.url), request.headers)
            if match.target is not None:
                self._exchange(match.target, exchange)
        self._required_never_sent()
        return Drift(self.api.name, len(exchanges), list(self.found.values()))

    # -- one exchange ----------------------------------------------------------------------------

    def _exchange(self, operation: Operation, exchange: RecordedExchange) -> None:
        response = exchange.response
        assert response is not None
        label, source = operation.label, exchange.source
        op_pointer = f"/paths/{escape(operation.path)}/{operation.method.lower()}"
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        body_value = _json(response.body)
        status_key = _status_key(operation, response.status)
        if status_key is None:
            self._note(
                "undeclared_status",
                label,
                str(response.status),
                "",
                f"{op_pointer}/responses",
                source,
                value=response.status,
                sample=(content_type, body_value),
            )
            return
        content = (resolve(self.document, f"{op_pointer}/responses/{escape(status_key)}") or {}).get("content") or {}
        if not content or response.body is None:
            return
        media_key = next((key for key in content if key.split(";")[0].strip().lower() == content_type), None)
        responses_pointer = f"{op_pointer}/responses/{escape(status_key)}/content"
        if media_key is None:
            self._note(
                "undeclared_content_type",
                label,
                f"{response.status}",
                "",
                responses_pointer,
                source,
                value=content_type or "(none)",
                sample=body_value,
            )
            return
        schema_pointer = f"{responses_pointer}/{escape(media_key)}/schema"
        where = f"{response.status} {content_type}"
        if content_type == "text/event-stream":
            payload_pointer = self._payload_pointer(schema_pointer)
            if payload_pointer is None:
                return
            names_pointer = self._deref(f"{self._deref(schema_pointer)}/properties/event")
            names = (self._node(names_pointer) or {}).get("enum")
            for event in parse_events(response.body):
                if event.name and isinstance(names, list) and event.name not in names:
                    self._note(
                        "undeclared_event_name",
                        label,
                        f"{where} event",
                        "/event",
                        f"{names_pointer}/enum",
                        source,
                        value=event.name,
                    )
                payload = _json(event.data.encode())
                if payload is not ABSENT:
                    self._walk(payload, payload_pointer, "", label, f"{where} event", source, 0)
            return
        if body_value is not ABSENT:
            self._walk(body_value, schema_pointer, "", label, where, source, 0)

    def _payload_pointer(self, schema_pointer: str) -> str | None:
        """Where an event's JSON payload is described (apitwin's event convention: ``data.contentSchema``)."""
        pointer = self._deref(schema_pointer)
        data = f"{pointer}/properties/data"
        data = self._deref(data)
        node = self._node(data)
        if not isinstance(node, dict):
            return None
        holder = f"{data}/else" if "else" in node else data
        return f"{holder}/contentSchema" if "contentSchema" in (self._node(holder) or {}) else None

    # -- walking a value alongside its schema ------------------------------------------------------

    def _walk(self, value: Any, pointer: str, at: str, label: str, where: str, source: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        views = self._views(value, pointer, label, where, at, source)
        if isinstance(value, dict):
            self._object(value, views, at, label, where, source, depth)
        elif isinstance(value, list):
            for view in views:
                items = (self._node(view) or {}).get("items")
                if isinstance(items, dict):
                    for item in value:
                        self._walk(item, f"{view}/items", f"{at}/*", label, where, source, depth + 1)
                    break
        else:
            for view in views:
                enum = (self._node(view) or {}).get("enum")
                if isinstance(enum, list) and value not in enum:
                    self._note("enum_value", label, where, at, f"{view}/enum", source, value=value, declared=enum)

    def _object(
        self, value: dict[str, Any], views: list[str], at: str, label: str, where: str, source: str, depth: int
    ) -> None:
        declared: dict[str, str] = {}
        holders = []
        required: set[str] = set()
        free_form = False
        for view in views:
            node = self._node(view) or {}
            properties = node.get("properties")
            if isinstance(properties, dict):
                holders.append(view)
                for name in properties:
                    declared.setdefault(name, f"{view}/properties/{escape(name)}")
            elif node.get("additionalProperties") not in (None, False):
                free_form = True  # a map (metadata, headers): its keys are data, not fields
            required.update(name for name in node.get("required") or () if isinstance(name, str))
        if not holders:
            return
        if required:
            key = (label, where, at, holders[0])
            self.required_seen[key] = self.required_seen.get(key, 0) + 1
            present = self.required_present.setdefault(key, Counter())
            present.update(name for name in required if name in value)
            present.update({name: 0 for name in required})
            cited = self.required_sources.setdefault(key, [])
            if source not in cited and len(cited) < MAX_SOURCES:
                cited.append(source)
        for name, item in value.items():
            if name in declared:
                self._walk(item, declared[name], f"{at}/{escape(name)}", label, where, source, depth + 1)
            elif not free_form:
                self._note(
                    "undocumented_field",
                    label,
                    where,
                    f"{at}/{escape(name)}",
                    holders[0],
                    source,
                    value=name,
                    sample=item,
                )

    def _views(self, value: Any, pointer: str, label: str, where: str, at: str, source: str) -> list[str]:
        """The schema nodes ``value`` is held to: through ``$ref`` and ``allOf``, and the one ``oneOf``/``anyOf``
        branch it belongs to (by its ``type`` constant, else by the most shared property names)."""
        views: list[str] = []
        pending = [pointer]
        while pending and len(views) < 64:
            current = self._deref(pending.pop(0))
            node = self._node(current)
            if not isinstance(node, dict) or current in views:
                continue
            views.append(current)
            pending += [f"{current}/allOf/{index}" for index in range(len(node.get("allOf") or ()))]
            for keyword in ("oneOf", "anyOf"):
                branches = node.get(keyword)
                if isinstance(branches, list) and branches:
                    chosen = self._branch(value, f"{current}/{keyword}", len(branches), label, where, at, source)
                    if chosen is not None:
                        pending.append(chosen)
        return views

    def _branch(self, value: Any, union: str, size: int, label: str, where: str, at: str, source: str) -> str | None:
        pointers = [self._deref(f"{union}/{index}") for index in range(size)]
        if not isinstance(value, dict):
            wanted = json_type(value)
            return next((p for p in pointers if _allows_type(self._node(p), wanted)), None)
        kind = value.get("type")
        constants = {p: _type_constant(self.document, self._node(p)) for p in pointers}
        if isinstance(kind, str) and any(constants.values()):
            for p, constant in constants.items():
                if constant is not None and kind in constant:
                    return p
            if "event" in where:
                self._note("undeclared_event", label, where, at + "/type", union, source, value=kind, sample=value)
            return None
        candidates = [p for p in pointers if _allows_type(self._node(p), "object")]
        scored = [(len(set(value) & self._property_names(p)), p) for p in candidates]
        best = max(scored, default=(0, None), key=lambda item: item[0])
        return best[1] if best[0] > 0 else None

    def _property_names(self, pointer: str, depth: int = 0) -> set[str]:
        """The properties a schema declares itself or through ``$ref`` and ``allOf``."""
        pointer = self._deref(pointer)
        node = self._node(pointer)
        if not isinstance(node, dict) or depth > 8:
            return set()
        names = set(node.get("properties") or {})
        for index in range(len(node.get("allOf") or ())):
            names |= self._property_names(f"{pointer}/allOf/{index}", depth + 1)
        return names

    # -- bookkeeping -------------------------------------------------------------------------------

    def _note(
        self,
        kind: str,
        label: str,
        where: str,
        at: str,
        target: str,
        source: str,
        *,
        value: Any,
        sample: Any = _NO_SAMPLE,
        declared: Any = None,
    ) -> None:
        observation = Observation(kind, label, where, at, target, value)
        existing = self.found.setdefault(observation.key(), observation)
        existing.count += 1
        existing.cite(source)
        if sample is not _NO_SAMPLE:
            if kind == "undocumented_field":
                existing.types[json_type(sample)] += 1
            if len(existing.samples) < 3:
                existing.samples.append(sample)
        if declared is not None and not existing.samples:
            existing.samples.append(declared)

    def _required_never_sent(self) -> None:
        for (label, where, at, holder), seen in self.required_seen.items():
            for name, present in self.required_present[(label, where, at, holder)].items():
                if present:
                    continue
                node = self._node(holder) or {}
                index = (node.get("required") or []).index(name) if name in (node.get("required") or []) else None
                target = f"{holder}/required/{index}" if index is not None else holder
                observation = Observation("required_missing", label, where, f"{at}/{escape(name)}", target, name)
                observation.count = seen
                observation.seen = seen
                observation.sources = list(self.required_sources[(label, where, at, holder)])
                self.found[observation.key()] = observation

    def _deref(self, pointer: str) -> str:
        for _ in range(32):
            node = self._node(pointer)
            ref = node.get("$ref") if isinstance(node, dict) else None
            if not isinstance(ref, str) or not ref.startswith("#"):
                return pointer
            pointer = ref[1:]
        return pointer

    def _node(self, pointer: str) -> Any:
        try:
            return resolve(self.document, pointer)
        except (KeyError, IndexError, TypeError, ValueError):
            return None


ABSENT: Any = object()
"""No (JSON) body: told apart from a body that is JSON ``null``."""


def _json(body: bytes | None) -> Any:
    if not body:
        return ABSENT
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return ABSENT


def _status_key(operation: Operation, status: int) -> str | None:
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in operation.responses:
            return key
    return None


def _allows_type(node: Any, wanted: str) -> bool:
    if not isinstance(node, dict):
        return False
    declared = node.get("type")
    if declared is None:
        return True
    names = declared if isinstance(declared, list) else [declared]
    return wanted in names or (wanted == "integer" and "number" in names)


def _type_constant(document: dict[str, Any], node: Any) -> set[str] | None:
    kind = ((node or {}).get("properties") or {}).get("type") if isinstance(node, dict) else None
    if isinstance(kind, dict) and isinstance(kind.get("$ref"), str):
        try:
            kind = resolve(document, kind["$ref"])
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    if not isinstance(kind, dict):
        return None
    if isinstance(kind.get("const"), str):
        return {kind["const"]}
    values = {value for value in kind.get("enum") or () if isinstance(value, str)}
    return values or None
