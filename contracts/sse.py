"""Server-sent events, once for every checker: the events of a body, what a spec declares, and the stream checks.

``apitwin fuzz`` (a live answer), ``apitwin check-traffic`` (a recorded one) and the proxy parse a
``text/event-stream`` body with :func:`parse_events` (cut and read by :mod:`apitwin.specs.sse_wire`, the wire
format the mock writes with), read what the spec declares
with :class:`StreamSpecs`, and judge the stream with :func:`run_stream_checks`; each turns the
:class:`Problem` list into its own report. None of it knows a vendor: a lifecycle vocabulary,
sequence numbers, a terminator or a ``usage`` property are held to only where the spec declares them.

The spec's convention (README, "Server-sent events"): a ``text/event-stream`` response schema
describes ONE event, ``{event?: {enum}, data: {contentMediaType: application/json, contentSchema}}``,
optionally ``data: {if: {const: "[DONE]"}, else: {...}}`` for a stream-ending terminator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from apitwin.mockserver.deltas import delta_key, done_text_field
from apitwin.specs.pointer import follow, join
from apitwin.specs.sse_wire import parse_block, split
from apitwin.specs.validation import SchemaChecker

TERMINAL_SUFFIXES = (".completed", ".failed", ".incomplete")
OPENING_SUFFIXES = (".created", ".queued")
BUFFERED_MIN_EVENTS = 3
"""A tiny answer may legitimately fit in one write; three or more events in one read is buffering."""
MAX_ERRORS_PER_EVENT = 10
"""Schema errors reported for one event: enough to act on, few enough to read."""

# -- events of a body (the framing is specs.sse_wire's) -------------------------------------------


@dataclass(slots=True)
class Event:
    """One event of a stream: ``index`` is its 0-based position, ``read`` the body read it completed in."""

    index: int
    name: str | None
    data: str
    read: int = 0
    payload: Any = None
    parsed: bool = False

    @property
    def number(self) -> int:
        """1-based position, as a person counts."""
        return self.index + 1


def parse_events(body: bytes | str, reads: list[int] | None = None) -> list[Event]:
    """The events of an SSE body (a blank line ends each); ``reads`` (sizes of the body reads, in bytes) tell
    which read completed each event."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    text = body if isinstance(body, str) else body.decode("utf-8", errors="replace")
    ends = _read_ends(reads or [len(raw)])
    events: list[Event] = []
    counted, byte = 0, 0  # bytes up to text[counted], grown as the scan goes (streams can be long)
    for block in split(text):
        read = len(ends) - 1
        if block.ended:
            byte += len(text[counted : block.end].encode("utf-8", errors="replace"))
            counted = block.end
            read = _read_index(ends, byte)
        parsed = parse_block(block.text)
        if parsed is not None:
            events.append(Event(len(events), parsed[0], parsed[1], read))
    return events


def _read_ends(reads: list[int]) -> list[int]:
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


# -- what the spec declares --------------------------------------------------------------------


@dataclass(slots=True)
class StreamSpec:
    """What one event of a stream may carry, read from the response schema."""

    payload_schema: Any
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
class StreamSpecs:
    """Compiled stream specs of one document, built on first use."""

    document: dict[str, Any]
    _checker: SchemaChecker | None = None
    _cache: dict[tuple[str, str, str], StreamSpec | None] = field(default_factory=dict)

    def for_response(self, path: str, method: str, status: int, media_type: str) -> StreamSpec | None:
        """The stream ``path``/``method`` declares for ``status`` and ``media_type``; None when it declares none."""
        key = (path, method.lower(), f"{status}|{media_type.split(';')[0].strip().lower()}")
        if key not in self._cache:
            self._cache[key] = self._compile(path, method, status, media_type)
        return self._cache[key]

    def _compile(self, path: str, method: str, status: int, media_type: str) -> StreamSpec | None:
        operation = ((self.document.get("paths") or {}).get(path) or {}).get(method.lower()) or {}
        response = _response_for(operation.get("responses") or {}, status)
        content = (follow(self.document, response) or {}).get("content") or {}
        event = follow(self.document, _media_schema(content, media_type))
        if not isinstance(event, dict):
            return None
        properties = event.get("properties") or {}
        data = follow(self.document, properties.get("data")) or {}
        holder = data.get("else", data)
        payload = holder.get("contentSchema")
        if payload is None:
            return None
        if self._checker is None:
            self._checker = SchemaChecker(self.document)
        names = tuple((follow(self.document, properties.get("event")) or {}).get("enum") or ())
        kinds = names or tuple(sorted(_type_constants(self.document, payload)))
        declared = property_names(self.document, payload)
        return StreamSpec(
            payload_schema=payload,
            payload_validator=self._checker.fast(payload),  # native; jsonschema's errors only for a bad event
            event_names=names,
            terminator=(data.get("if") or {}).get("const"),
            lifecycle=_lifecycle(kinds),
            sequenced="sequence_number" in declared,
            declares_usage="usage" in declared,
        )


def property_names(document: dict[str, Any], schema: Any) -> set[str]:
    """The properties ``schema`` names, through refs and combinators (not nested ones)."""
    names: set[str] = set()
    for node in _walk(document, schema):
        names.update((node.get("properties") or {}).keys())
    return names


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
    schema = follow(document, schema)
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


def _type_constants(document: dict[str, Any], schema: Any) -> set[str]:
    constants: set[str] = set()
    for node in _walk(document, schema):
        kind = follow(document, (node.get("properties") or {}).get("type"))
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


# -- the checks --------------------------------------------------------------------------------


@dataclass(slots=True)
class Problem:
    """One way a stream breaks its spec.

    ``event`` is the 0-based index of the event it is about (None: the stream as a whole) and
    ``pointer`` points inside that event (``/data/choices/0/index``, ``/event``), so a fuzz report
    writes ``/events/3/data/…`` and a traffic report ``event 4 /data/…`` from the same problem.
    ``message`` never names the event, so the same fault in many events reads the same.
    """

    check: str
    title: str
    message: str
    event: int | None = None
    pointer: str = ""
    expected: str = ""
    received: str = ""
    keyword: str = ""
    shape: str = ""
    """What makes two problems one cause (the message without the values that vary); the title when empty."""

    @property
    def cause(self) -> str:
        return self.shape or self.title


@dataclass(slots=True)
class Stream:
    """One received stream, with what the request asked for."""

    spec: StreamSpec
    events: list[Event]
    reads: int | None = None
    """How many body reads the stream took (each at most one HTTP chunk as sent); None when unknown (a recording)."""
    cut_short: bool = False
    """The connection ended mid-stream: what a complete stream must end with is not expected."""
    request_body: Any = None


StreamCheck = Callable[[Stream], list[Problem]]


def sse_event_schema(stream: Stream) -> list[Problem]:
    """Every event's ``data`` is JSON valid against the payload schema (the terminator excepted); names declared."""
    problems = []
    for event in stream.events:
        if stream.spec.terminator is not None and event.data == stream.spec.terminator:
            continue
        if not event.parsed:
            problems.append(
                Problem(
                    "sse_event_schema",
                    "Event data is not JSON",
                    f"the data is not JSON: {_short(event.data, 120)}",
                    event.index,
                    "/data",
                    "JSON",
                    _short(event.data, 80),
                )
            )
        else:
            problems += _schema_problems(stream.spec.payload_validator, event)
        if event.name and stream.spec.event_names and event.name not in stream.spec.event_names:
            problems.append(
                Problem(
                    "sse_event_schema",
                    "Undeclared event name",
                    f"the event is named {event.name!r}; the spec declares {', '.join(stream.spec.event_names)}",
                    event.index,
                    "/event",
                    f"one of {', '.join(stream.spec.event_names)}",
                    repr(event.name),
                    "enum",
                    f"undeclared event name {event.name!r}",
                )
            )
    return problems


def sse_event_order(stream: Stream) -> list[Problem]:
    """Lifecycle streams open with created/queued and end with completed/failed/incomplete; sequence numbers rise."""
    problems = _sequence_problems(stream) if stream.spec.sequenced else []
    events = [event for event in stream.events if event.data != stream.spec.terminator]
    if stream.spec.lifecycle is None or not events:
        return problems
    prefix = stream.spec.lifecycle
    openings = tuple(prefix + suffix for suffix in OPENING_SUFFIXES)
    terminals = tuple(prefix + suffix for suffix in TERMINAL_SUFFIXES)
    kinds = [_kind(event) for event in events]
    if kinds[0] not in openings:
        problems.append(
            Problem(
                "sse_event_order",
                "Stream does not open its lifecycle",
                f"the first event is {kinds[0]!r}; expected one of {', '.join(openings)}",
                events[0].index,
                "/data/type",
                f"one of {', '.join(openings)}",
                repr(kinds[0]),
            )
        )
    last_terminal = max((position for position, kind in enumerate(kinds) if kind in terminals), default=None)
    if not stream.cut_short and last_terminal is None:
        problems.append(
            Problem(
                "sse_event_order",
                "Stream never finishes its lifecycle",
                f"no {' / '.join(terminals)} event among {len(kinds)} events (last: {kinds[-1]!r})",
                events[-1].index,
                "/data/type",
                f"a final {' / '.join(terminals)} event",
                repr(kinds[-1]),
            )
        )
    elif last_terminal is not None and last_terminal != len(kinds) - 1:
        after = len(kinds) - 1 - last_terminal
        problems.append(
            Problem(
                "sse_event_order",
                "Events after the terminal event",
                f"{after} event(s) follow the terminal {kinds[last_terminal]!r} (first: {kinds[last_terminal + 1]!r})",
                events[last_terminal + 1].index,
                "/data/type",
                "nothing after the terminal event",
                repr(kinds[last_terminal + 1]),
            )
        )
    for event in events:
        kind = event.payload.get("type") if isinstance(event.payload, dict) else None
        if event.name and isinstance(kind, str) and kind != event.name:
            problems.append(
                Problem(
                    "sse_event_order",
                    "Event name and payload type disagree",
                    f"the event is named {event.name!r} but its payload says type {kind!r}",
                    event.index,
                    "/data/type",
                    repr(event.name),
                    repr(kind),
                )
            )
    return problems


def sse_deltas(stream: Stream) -> list[Problem]:
    """``*.delta`` events join to their ``*.done`` event's text and to the final object's text."""
    if stream.cut_short:
        return []
    joined: dict[tuple[Any, ...], str] = {}
    problems = []
    for event in stream.events:
        kind = _kind(event)
        if kind is None or not isinstance(event.payload, dict):
            continue
        if kind.endswith(".delta") and isinstance(event.payload.get("delta"), str):
            key = delta_key(kind.removesuffix(".delta"), event.payload)
            joined[key] = joined.get(key, "") + event.payload["delta"]
        elif kind.endswith(".done"):
            problems += _done_matches(event, kind.removesuffix(".done"), joined)
    return problems + _final_text_matches(stream, joined)


def sse_terminator(stream: Stream) -> list[Problem]:
    """A stream whose spec declares a terminator (``[DONE]``) ends with it, once, and nothing after."""
    terminator = stream.spec.terminator
    if terminator is None or stream.cut_short:
        return []
    positions = [event.index for event in stream.events if event.data == terminator]
    if not positions:
        return [
            Problem(
                "sse_terminator",
                f"Stream does not end with {terminator}",
                f"{len(stream.events)} events and no `data: {terminator}`",
                None,
                "",
                f"a last event `data: {terminator}`",
                f"{len(stream.events)} events without it",
            )
        ]
    if positions[0] != len(stream.events) - 1:
        after = len(stream.events) - 1 - positions[0]
        return [
            Problem(
                "sse_terminator",
                f"Events after {terminator}",
                f"{after} event(s) come after the stream's terminator `data: {terminator}`",
                positions[0] + 1,
                "/data",
                f"nothing after {terminator}",
                _short(stream.events[positions[0] + 1].data, 80),
            )
        ]
    return []


def sse_usage(stream: Stream) -> list[Problem]:
    """A caller that asked for ``stream_options.include_usage`` gets a chunk carrying ``usage``."""
    options = stream.request_body.get("stream_options") if isinstance(stream.request_body, dict) else None
    if (
        not stream.spec.declares_usage
        or not isinstance(options, dict)
        or options.get("include_usage") is not True
        or stream.cut_short
    ):
        return []
    if any(isinstance(event.payload, dict) and isinstance(event.payload.get("usage"), dict) for event in stream.events):
        return []
    return [
        Problem(
            "sse_usage",
            "No usage in the streamed chunks",
            "the request set stream_options.include_usage=true but no chunk carries a usage object",
            None,
            "",
            "a chunk with a usage object",
            "none",
        )
    ]


def sse_buffered(stream: Stream) -> list[Problem]:
    """Every event arriving in a single read means the gateway buffered the stream before sending it."""
    data_events = [event for event in stream.events if event.data]
    if stream.reads != 1 or len(data_events) < BUFFERED_MIN_EVENTS:
        return []
    return [
        Problem(
            "sse_buffered",
            "Stream arrived all at once",
            f"all {len(data_events)} events arrived in one read: the stream was buffered, not streamed",
        )
    ]


STREAM_CHECKS: tuple[StreamCheck, ...] = (
    sse_event_schema,
    sse_event_order,
    sse_deltas,
    sse_terminator,
    sse_usage,
    sse_buffered,
)


def run_stream_checks(stream: Stream, checks: tuple[StreamCheck, ...] = STREAM_CHECKS) -> list[Problem]:
    """Every check on ``stream`` (or those of ``checks``): what it found, in check order (empty when the stream
    keeps its spec)."""
    for event in stream.events:
        _parse(event, stream.spec.terminator)
    problems: list[Problem] = []
    for check in checks:
        problems += check(stream)
    return problems


def event_problems(spec: StreamSpec, event: Event) -> list[Problem]:
    """What :func:`sse_event_schema` finds in ``event`` alone: a reader that sees events as they arrive (the
    proxy) judges each one there and then, and the rest of the checks once the stream is over."""
    _parse(event, spec.terminator)
    declared = not (event.name and spec.event_names) or event.name in spec.event_names
    if event.parsed and declared and spec.payload_validator.is_valid(event.payload):
        return []  # the usual case, answered by the native validator alone
    return sse_event_schema(Stream(spec, [event]))


def _parse(event: Event, terminator: str | None) -> None:
    if event.parsed or event.data == terminator:
        return
    try:
        event.payload = json.loads(event.data)
        event.parsed = True
    except (ValueError, RecursionError):
        event.parsed = False


def _kind(event: Event) -> str | None:
    if isinstance(event.payload, dict) and isinstance(event.payload.get("type"), str):
        return event.payload["type"]
    return event.name


def _schema_problems(validator: Any, event: Event) -> list[Problem]:
    """One problem per failing location (the most relevant error there), shallowest first."""
    errors = sorted(validator.iter_errors(event.payload), key=lambda error: (len(error.absolute_path), error.message))
    problems = []
    for error in errors[:MAX_ERRORS_PER_EVENT]:
        best = jsonschema.exceptions.best_match([error])
        pointer = join("", *best.absolute_path)
        message = best.message if len(best.message) <= 300 else best.message[:299] + "…"
        problems.append(
            Problem(
                "sse_event_schema",
                "Event payload violates its schema",
                f"{message} (at {pointer or '/'})",
                event.index,
                "/data" + pointer,
                f"{best.validator} {_describe(best.validator_value, 60)}",
                _describe(best.instance, 80),
                str(best.validator),
                f"{best.validator}: {mask_instance(message, best.instance)}",
            )
        )
    return problems


def _sequence_problems(stream: Stream) -> list[Problem]:
    """Every event whose ``sequence_number`` does not rise above the highest one before it."""
    problems = []
    highest = None
    for event in stream.events:
        number = event.payload.get("sequence_number") if isinstance(event.payload, dict) else None
        if not isinstance(number, int) or isinstance(number, bool):
            continue
        if highest is not None and number <= highest:
            problems.append(
                Problem(
                    "sse_event_order",
                    "sequence_number does not increase",
                    f"sequence_number {number} comes after {highest}",
                    event.index,
                    "/data/sequence_number",
                    f"more than {highest}",
                    str(number),
                )
            )
        highest = number if highest is None else max(highest, number)
    return problems


def _done_matches(event: Event, family: str, joined: dict[tuple[Any, ...], str]) -> list[Problem]:
    payload = event.payload
    key = delta_key(family, payload)
    name = done_text_field(payload)
    if key not in joined or name is None:
        return []
    text = payload[name]
    if text == joined[key]:
        return []
    return [
        Problem(
            "sse_deltas",
            "Deltas do not add up",
            f"the {family}.delta events join to {_short(joined[key])} but {family}.done says {name}={_short(text)}",
            event.index,
            f"/data/{name}",
            _short(joined[key]),
            _short(text),
        )
    ]


def _final_text_matches(stream: Stream, joined: dict[tuple[Any, ...], str]) -> list[Problem]:
    """The terminal event's object (``response.output[i].content[j].text``) holds the joined output text."""
    prefix = stream.spec.lifecycle
    events = [event for event in stream.events if event.data != stream.spec.terminator]
    if prefix is None or not events:
        return []
    last = events[-1]
    final = last.payload.get(prefix) if isinstance(last.payload, dict) else None
    if not isinstance(final, dict) or not isinstance(final.get("output"), list):
        return []
    problems = []
    for (family, _item, output_index, content_index, _summary), text in joined.items():
        if (
            not family.endswith(".output_text")
            or not isinstance(output_index, int)
            or not isinstance(content_index, int)
        ):
            continue
        final_text = _output_text(final["output"], output_index, content_index)
        if final_text != text:
            problems.append(
                Problem(
                    "sse_deltas",
                    "Deltas do not add up to the final object",
                    f"output_text deltas for output {output_index}, content {content_index} join to {_short(text)} "
                    f"but the final {prefix} holds {_short(final_text)}",
                    last.index,
                    f"/data/{prefix}/output/{output_index}/content/{content_index}/text",
                    _short(text),
                    _short(final_text),
                )
            )
    return problems


def _output_text(output: list[Any], output_index: int, content_index: int) -> str | None:
    item = output[output_index] if 0 <= output_index < len(output) else None
    content = item.get("content") if isinstance(item, dict) else None
    part = content[content_index] if isinstance(content, list) and 0 <= content_index < len(content) else None
    text = part.get("text") if isinstance(part, dict) else None
    return text if isinstance(text, str) else None


def mask_instance(message: str, instance: Any) -> str:
    """``message`` with a scalar received value (as Python or JSON writes it) replaced by ``…``: the same
    fault with other values reads the same (``'abc' is not of type 'integer'`` → ``… is not of type 'integer'``)."""
    if isinstance(instance, (dict, list)):
        return message
    for written in (repr(instance), json.dumps(instance, ensure_ascii=False, default=str)):
        if written and message.startswith(written):  # validators open their message with the value
            return "…" + message[len(written) :]
    return message


def _short(text: str | None, limit: int = 80) -> str:
    if text is None:
        return "nothing"
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _describe(value: Any, limit: int) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
