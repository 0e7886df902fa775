"""Responses of the merged AIML API operations: one answer per status, and SSE framing.

The model pages of one operation mostly copy the same response schema; where they differ
this module picks (or unifies) deliberately and logs why. Facts that only the pages' code
and examples show (extra job statuses, a renamed usage field) are applied with the pages
that show them cited in the log.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from apitwin.specs.importers.aimlapi_models import operation_prefix
from apitwin.specs.pointer import join
from apitwin.specs.repairs import RepairLog
from apitwin.specs.sources import Source
from apitwin.specs.sse_wire import DONE
from apitwin.specs.walk import iter_operations

if TYPE_CHECKING:
    from apitwin.specs.importers.aimlapi import Fragment, OperationGroup

JSON = "application/json"
SSE = "text/event-stream"
USAGE_FIELDS = ("credits_used", "tokens_used")
# Job statuses the pages' code or examples use that the fragments' enums omit. Each one is
# added only where a page of the operation shows it (the log cites those pages).
STATUS_CANDIDATES: dict[str, tuple[str, ...]] = {
    "/v2/video/generations": ("succeeded", "waiting", "active"),
    "/v1/stt/{generation_id}": ("waiting", "active"),
}
AUDIO_URL_EVIDENCE = re.compile(r"\[[\"']audio[\"']\]\s*\[[\"']url[\"']\]|[\"']audio[\"']\s*:\s*\{\s*[\"']url[\"']")

Entry = tuple["Fragment", dict[str, Any]]


def merge_responses(
    group: OperationGroup, components: dict[str, Any], source: Source, log: RepairLog
) -> dict[str, Any]:
    """One Response Object per status for the whole operation."""
    by_status = _collect(group)
    _drop_minority_statuses(by_status, group, log)
    merged: dict[str, Any] = {}
    for status, entries in by_status.items():
        response = _choose(group, status, entries, log)
        merged[_fixed_status(group, status, log)] = response
    _log_usage_fields(group, by_status, log)
    _widen_status_enums(group, merged, log)
    return merged


def _collect(group: OperationGroup) -> dict[str, list[Entry]]:
    by_status: dict[str, list[Entry]] = {}
    prepared: dict[str, dict[str, Any]] = {}
    for fragment in group.fragments:
        for status, response in (fragment.operation.get("responses") or {}).items():
            by_status.setdefault(str(status), []).append((fragment, _prepared(response, prepared)))
    return by_status


def _prepared(response: dict[str, Any], cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A repaired copy of a response; pages mostly copy the same one, so it is built once."""
    key = json.dumps(response, sort_keys=True)
    if key not in cache:
        repaired = json.loads(key)
        _unify_usage(repaired)
        cache[key] = repaired
    return cache[key]


# --- which statuses ------------------------------------------------------------------------


def _drop_minority_statuses(by_status: dict[str, list[Entry]], group: OperationGroup, log: RepairLog) -> None:
    """A body-less success status that a few pages declare where most declare another is a page bug."""
    total = len(group.fragments)
    for status in list(by_status):
        entries = by_status[status]
        if not status.startswith("2") or len(entries) * 2 >= total or any(r.get("content") for _, r in entries):
            continue
        del by_status[status]
        majority = max(by_status, key=lambda other: len(by_status[other]))
        log.record(
            "response-variant-dropped",
            join(group.pointer, "responses", status),
            source=", ".join(fragment.where for fragment, _ in entries),
            before=entries[0][1],
            reason=(
                f"{', '.join(fragment.page.url for fragment, _ in entries)} declare{'s' if len(entries) == 1 else ''} "
                f"{status} without a body while {len(by_status[majority])} of {total} pages declare {majority} with "
                "one; the client code on every page reads the JSON body, so the majority answer is kept"
            ),
        )


def _fixed_status(group: OperationGroup, status: str, log: RepairLog) -> str:
    """A GET creates nothing: a documented 201 on a poll is the generator's default, not the API's."""
    if group.method != "get" or status != "201":
        return status
    log.record(
        "status-code",
        join(group.pointer, "responses", status),
        source=group.fragments[0].where,
        before="201",
        after="200",
        reason=(
            f"GET {group.path} polls an existing job; the {len(group.fragments)} pages declare 201 Created "
            "(the NestJS default for every handler), and their client code only checks for success"
        ),
    )
    return "200"


# --- which schema --------------------------------------------------------------------------


def _choose(group: OperationGroup, status: str, entries: list[Entry], log: RepairLog) -> dict[str, Any]:
    variants = _distinct(entries)
    if len(variants) == 1:
        return variants[0][0][1]
    unify = UNIFIERS.get((group.method, group.path))
    if unify is not None:
        unified = unify(group, status, variants, log)
        if unified is not None:
            return unified
    return _majority(group, status, variants, log)


def _distinct(entries: list[Entry]) -> list[list[Entry]]:
    """Entries grouped by identical response, biggest group first (ties: page order)."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(json.dumps(entry[1], sort_keys=True), []).append(entry)
    return sorted(groups.values(), key=lambda members: -len(members))


def _majority(group: OperationGroup, status: str, variants: list[list[Entry]], log: RepairLog) -> dict[str, Any]:
    kept = variants[0]
    for dropped in variants[1:]:
        log.record(
            "response-variant-dropped",
            join(group.pointer, "responses", status),
            source=", ".join(fragment.where for fragment, _ in dropped),
            before=_shape(dropped[0][1]),
            after=_shape(kept[0][1]),
            reason=(
                f"{len(dropped)} page(s) ({', '.join(fragment.page.slug for fragment, _ in dropped)}) document a "
                f"different {status} response than the {len(kept)} other pages of {group.method.upper()} {group.path}; "
                "a response schema cannot depend on the request's model, so the answer most pages document is "
                f"kept{_outlier_note(dropped)}"
            ),
        )
    return kept[0][1]


def _outlier_note(dropped: list[Entry]) -> str:
    text = json.dumps(dropped[0][1])
    if '"$schema"' in text or '"const"' in text:
        return " (the dropped one is a JSON Schema draft-07 export inside a 3.0 fragment, with refs that dangle)"
    return ""


def _shape(response: dict[str, Any]) -> Any:
    """A short description of a response for the log: its media types and top-level fields."""
    shape = {}
    for media_type, media in (response.get("content") or {}).items():
        schema = media.get("schema") or {}
        shape[media_type] = schema.get("$ref") or sorted((schema.get("properties") or {}).keys())
    return shape or "no content"


def _unify_audio_url(
    group: OperationGroup, status: str, variants: list[list[Entry]], log: RepairLog
) -> dict[str, Any] | None:
    """TTS pages copy one vendor's schema, but other vendors' pages read ``audio.url``."""
    evidence = sorted(
        {fragment.page.url for fragment in group.fragments if AUDIO_URL_EVIDENCE.search(fragment.page.text)}
    )
    documented = [members for members in variants if _has_schema(members[0][1])]
    if not evidence or not documented:
        return None
    response = copy.deepcopy(documented[0][0][1])
    media = response["content"][JSON]
    media["schema"] = {"anyOf": [media["schema"], _audio_url_schema()]}
    log.record(
        "response-unified",
        join(group.pointer, "responses", status, "content", JSON, "schema"),
        source=", ".join(fragment.where for members in variants for fragment, _ in members[:1]),
        before=[_shape(members[0][1]) for members in variants],
        after="anyOf [documented schema, {audio: {url}}]",
        reason=(
            f"{len(documented[0])} pages copy one schema and {sum(len(m) for m in variants) - len(documented[0])} "
            f"document an empty one, while the code/examples of {len(evidence)} pages read audio.url "
            f"({', '.join(evidence)}); both documented shapes are accepted"
        ),
    )
    return response


def _has_schema(response: dict[str, Any]) -> bool:
    schema = ((response.get("content") or {}).get(JSON) or {}).get("schema")
    return isinstance(schema, dict) and bool(schema)


def _audio_url_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["audio"],
        "properties": {
            "audio": {
                "type": "object",
                "required": ["url"],
                "properties": {
                    "url": {"type": "string", "description": "Where the generated audio can be downloaded."}
                },
            }
        },
    }


UNIFIERS: dict[tuple[str, str], Callable[..., dict[str, Any] | None]] = {
    ("post", "/v1/tts"): _unify_audio_url,
}


# --- usage: credits_used vs tokens_used ---------------------------------------------------


def _unify_usage(node: Any) -> bool:
    """Accept either usage field wherever a schema requires one of them; True if it changed."""
    changed = False

    def visit(schema: dict[str, Any], _pointer: str) -> None:
        nonlocal changed
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return
        present = [name for name in USAGE_FIELDS if name in properties]
        if len(present) != 1 or "anyOf" in schema:
            return
        definition = properties[present[0]]
        for name in USAGE_FIELDS:
            properties.setdefault(name, copy.deepcopy(definition))
        schema["required"] = [name for name in schema.get("required", []) if name not in USAGE_FIELDS]
        if not schema["required"]:
            del schema["required"]
        schema["anyOf"] = [{"required": [name]} for name in USAGE_FIELDS]
        changed = True

    for holder in _schema_holders(node):
        _visit_objects(holder, visit)
    return changed


def _visit_objects(node: Any, visit: Callable[[dict[str, Any], str], None]) -> None:
    """Every dict under ``node``; cheaper than a pointer-tracking walk for a key search."""
    if isinstance(node, dict):
        visit(node, "")
        for value in list(node.values()):
            _visit_objects(value, visit)
    elif isinstance(node, list):
        for value in node:
            _visit_objects(value, visit)


def _schema_holders(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict) and "content" in node:
        return [media["schema"] for media in node["content"].values() if isinstance(media, dict) and "schema" in media]
    return [node] if isinstance(node, dict) else []


def _log_usage_fields(group: OperationGroup, by_status: dict[str, list[Entry]], log: RepairLog) -> None:
    text = json.dumps([response for entries in by_status.values() for _, response in entries])
    if '"tokens_used"' not in text:
        return
    log.record(
        "usage-field",
        join(group.pointer, "responses"),
        source=group.fragments[0].where,
        before="meta.usage requires credits_used",
        after="meta.usage requires credits_used or tokens_used",
        reason=USAGE_REASON,
    )


USAGE_REASON = (
    "The image and video schemas require meta.usage.credits_used, but the description of that field says "
    "'The number of tokens consumed', one image page (seededit-3.0) and the Gateway video poll schema name it "
    "tokens_used, and 37 Response examples (24 image, 13 video) captured from real calls return tokens_used. "
    "Either the field was renamed or both are live; the spec accepts either (anyOf of the two required "
    "fields) so that neither a real answer nor a documented one is rejected. The vendor should settle on one name."
)


def unify_component_usage(components: dict[str, Any], log: RepairLog) -> None:
    """Named response schemas (the Gateway video poll) get the same either-field rule."""
    for name, schema in (components.get("schemas") or {}).items():
        if isinstance(schema, dict) and _unify_usage(schema):
            log.record(
                "usage-field",
                join("", "components", "schemas", name),
                before="meta.usage requires one usage field",
                after="meta.usage requires credits_used or tokens_used",
                reason=USAGE_REASON,
            )


# --- statuses ------------------------------------------------------------------------------


def _widen_status_enums(group: OperationGroup, responses: dict[str, Any], log: RepairLog) -> None:
    candidates = STATUS_CANDIDATES.get(group.path, ())
    for status, response in responses.items():
        status_schema = _status_property(response)
        if status_schema is None:
            continue
        for value in candidates:
            pages = _pages_showing_status(group.fragments, value)
            if value in status_schema["enum"] or not pages:
                continue
            status_schema["enum"].append(value)
            log.record(
                "status-enum-widened",
                join(group.pointer, "responses", status, "content", JSON, "schema", "properties", "status", "enum"),
                source=", ".join(pages[:3]),
                after=value,
                reason=(
                    f"the job status enum omits {value!r}, but the code or Response examples of {len(pages)} "
                    f"page(s) of {group.path} use it: {', '.join(pages)}"
                ),
            )


def _status_property(response: dict[str, Any]) -> dict[str, Any] | None:
    schema = ((response.get("content") or {}).get(JSON) or {}).get("schema") or {}
    status = (schema.get("properties") or {}).get("status")
    if isinstance(status, dict) and isinstance(status.get("enum"), list):
        return status
    return None


def _pages_showing_status(fragments: list[Fragment], value: str) -> list[str]:
    pattern = re.compile(r"status[^\n]{0,80}?[\"']" + re.escape(value) + r"[\"']")
    pages = []
    for fragment in fragments:
        if fragment.page.url not in pages and pattern.search(fragment.page.text):
            pages.append(fragment.page.url)
    return pages


# --- server-sent events --------------------------------------------------------------------


def rewrite_streams(document: dict[str, Any], log: RepairLog) -> None:
    """Give every ``text/event-stream`` answer the per-event framing (see the SSE convention)."""
    components = document.setdefault("components", {})
    unify_component_usage(components, log)
    schemas = components.setdefault("schemas", {})
    for path, method, operation in iter_operations(document):
        for status, response in (operation.get("responses") or {}).items():
            media = ((response or {}).get("content") or {}).get(SSE)
            if not isinstance(media, dict) or not isinstance(media.get("schema"), dict):
                continue
            pointer = join("", "paths", path, method, "responses", status, "content", SSE, "schema")
            media["schema"] = _framed(path, media["schema"], schemas, pointer, log)


def _framed(path: str, schema: dict[str, Any], schemas: dict[str, Any], pointer: str, log: RepairLog) -> dict[str, Any]:
    events = _event_branches(schema)
    if events:
        return _framed_events(path, events, schemas, pointer, log)
    return _framed_chunks(path, schema, schemas, pointer, log)


def _event_branches(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]] | None:
    """``(event type, branch)`` when the schema is a oneOf of events typed by a one-value enum."""
    branches = schema.get("oneOf")
    if not isinstance(branches, list):
        return None
    events = []
    for branch in branches:
        values = (((branch or {}).get("properties") or {}).get("type") or {}).get("enum")
        if not isinstance(values, list) or len(values) != 1:
            return None
        events.append((str(values[0]), branch))
    return events


def _framed_events(
    path: str, events: list[tuple[str, dict[str, Any]]], schemas: dict[str, Any], pointer: str, log: RepairLog
) -> dict[str, Any]:
    """Responses-style: named events; ``data`` is JSON, one of the event schemas by ``type``."""
    prefix = operation_prefix(path) + "StreamEvent"
    mapping: dict[str, str] = {}
    refs = []
    for event_type, branch in events:
        if event_type in mapping:
            continue
        name = f"{prefix}.{event_type}"
        schemas[name] = branch
        mapping[event_type] = f"#/components/schemas/{name}"
        refs.append({"$ref": mapping[event_type]})
    schemas[prefix] = {"oneOf": refs, "discriminator": {"propertyName": "type", "mapping": mapping}}
    framed = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "event": {"type": "string", "enum": list(mapping)},
            "data": {
                "type": "string",
                "contentMediaType": JSON,
                "contentSchema": {"$ref": f"#/components/schemas/{prefix}"},
            },
        },
    }
    log.record(
        "sse-framing",
        pointer,
        before="oneOf of event objects as the stream schema",
        after=framed,
        reason=(
            f"a text/event-stream schema applies to each parsed event {{event, data}}; the {len(mapping)} event "
            f"types become the event names and components.schemas.{prefix} (discriminated by type) the data"
        ),
    )
    return framed


def _framed_chunks(
    path: str, schema: dict[str, Any], schemas: dict[str, Any], pointer: str, log: RepairLog
) -> dict[str, Any]:
    """Chat-style: unnamed events; ``data`` is a JSON chunk, or ``[DONE]`` at the end."""
    name = operation_prefix(path) + "Chunk"
    schemas[name] = _relaxed_chunk(schema, join("", "components", "schemas", name), log)
    framed = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "string",
                "if": {"const": DONE},
                "else": {"contentMediaType": JSON, "contentSchema": {"$ref": f"#/components/schemas/{name}"}},
            }
        },
    }
    log.record(
        "sse-framing",
        pointer,
        before="the chunk object as the stream schema",
        after=framed,
        reason=(
            "a text/event-stream schema applies to each parsed event {event, data}; chat streams send each "
            "chunk as JSON in data and end with data: [DONE], the only non-JSON payload"
        ),
    )
    return framed


def _relaxed_chunk(schema: dict[str, Any], pointer: str, log: RepairLog) -> dict[str, Any]:
    """Real streams send ``delta.role`` only first, ``content: null``, and null finish/usage."""
    chunk = copy.deepcopy(schema)
    choice = (((chunk.get("properties") or {}).get("choices") or {}).get("items")) or {}
    delta = (choice.get("properties") or {}).get("delta")
    relaxed = []
    if isinstance(delta, dict):
        before = list(delta.get("required", []))
        delta["required"] = [name for name in before if name not in ("role", "content")]
        if not delta["required"]:
            del delta["required"]
        if before != delta.get("required", []):
            relaxed.append("delta.required " + json.dumps(before) + " dropped role/content")
        relaxed += _make_nullable(delta.get("properties") or {}, ("content",), "delta.")
    relaxed += _make_nullable(choice.get("properties") or {}, ("finish_reason",), "choices[].")
    relaxed += _make_nullable(chunk.get("properties") or {}, ("usage",), "")
    if relaxed:
        log.record(
            "sse-chunk-relaxed",
            pointer,
            after=relaxed,
            reason=(
                "every chunk was required to carry delta.role and delta.content, but real streams (and the "
                "streamed qwen3-32b examples) send role only in the first chunk, content: null in tool-call and "
                "final chunks, and finish_reason/usage null until the last chunk"
            ),
        )
    return chunk


def _make_nullable(properties: dict[str, Any], names: tuple[str, ...], label: str) -> list[str]:
    """Mark as 3.0 ``nullable`` (the dialect of the fragments; normalise upgrades it)."""
    changed = []
    for name in names:
        prop = properties.get(name)
        if isinstance(prop, dict) and not prop.get("nullable"):
            prop["nullable"] = True
            changed.append(f"{label}{name} nullable")
    return changed
