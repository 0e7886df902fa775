"""apitwin's stream checks: what schemathesis does not look at in a ``text/event-stream`` answer.

Each check reads the parsed events (and the spec's :class:`StreamSpec`) and returns problems; none
of them knows a vendor. A lifecycle vocabulary, sequence numbers, a terminator or a ``usage``
property are honoured only where the spec declares them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apitwin.contracts.fuzz.sse import OPENING_SUFFIXES, TERMINAL_SUFFIXES, Event, StreamSpec

BUFFERED_MIN_EVENTS = 3
"""A tiny answer may legitimately fit in one write; three or more events in one read is buffering."""

IDENTIFYING_FIELDS = ("item_id", "output_index", "content_index", "summary_index")
NON_TEXT_FIELDS = {"type", "item_id", "id", "obfuscation", "event_id"}


@dataclass(slots=True)
class Problem:
    check: str
    title: str
    message: str
    pointer: str = ""


@dataclass(slots=True)
class Stream:
    """One received stream, with what the request asked for."""

    spec: StreamSpec
    events: list[Event]
    reads: int
    """How many body reads the stream took (each read is at most one HTTP chunk as sent)."""
    cut_short: bool
    request_body: Any


StreamCheck = Callable[[Stream], list[Problem]]


def sse_event_schema(stream: Stream) -> list[Problem]:
    """Every event's ``data`` is JSON valid against the payload schema (the terminator excepted)."""
    problems = []
    for index, event in enumerate(stream.events):
        if stream.spec.terminator is not None and event.data == stream.spec.terminator:
            continue
        if not event.parsed:
            problems.append(
                Problem(
                    "sse_event_schema",
                    "Event data is not JSON",
                    f"event {index}: {event.data[:200]!r}",
                    f"/events/{index}/data",
                )
            )
            continue
        error = _first_error(stream.spec.payload_validator, event.payload)
        if error is not None:
            message, pointer = error
            problems.append(
                Problem(
                    "sse_event_schema",
                    "Event payload violates its schema",
                    f"event {index} ({event.name or _kind(event) or 'unnamed'}): {message}",
                    f"/events/{index}/data{pointer}",
                )
            )
        if event.name and stream.spec.event_names and event.name not in stream.spec.event_names:
            problems.append(
                Problem(
                    "sse_event_schema",
                    "Undeclared event name",
                    f"event {index} is named {event.name!r}; the spec declares {', '.join(stream.spec.event_names)}",
                    f"/events/{index}/event",
                )
            )
    return problems


def sse_event_order(stream: Stream) -> list[Problem]:
    """Lifecycle streams open with created/queued and end with completed/failed/incomplete; sequence numbers rise."""
    problems = _sequence_problems(stream) if stream.spec.sequenced else []
    events = [event for event in stream.events if event.data != stream.spec.terminator]
    if stream.spec.lifecycle is None or not events:
        return problems
    kinds = [_kind(event) for event in events]
    prefix = stream.spec.lifecycle
    openings = tuple(prefix + suffix for suffix in OPENING_SUFFIXES)
    terminals = tuple(prefix + suffix for suffix in TERMINAL_SUFFIXES)
    if kinds[0] not in openings:
        problems.append(
            Problem(
                "sse_event_order",
                "Stream does not open its lifecycle",
                f"the first event is {kinds[0]!r}; expected one of {', '.join(openings)}",
                "/events/0/data/type",
            )
        )
    last_terminal = max((index for index, kind in enumerate(kinds) if kind in terminals), default=None)
    if not stream.cut_short and last_terminal is None:
        problems.append(
            Problem(
                "sse_event_order",
                "Stream never finishes its lifecycle",
                f"no {' / '.join(terminals)} event among {len(kinds)} events (last: {kinds[-1]!r})",
                f"/events/{len(kinds) - 1}/data/type",
            )
        )
    elif last_terminal is not None and last_terminal != len(kinds) - 1:
        problems.append(
            Problem(
                "sse_event_order",
                "Events after the terminal event",
                f"event {last_terminal} is {kinds[last_terminal]!r} but {len(kinds) - 1 - last_terminal} more follow (first: {kinds[last_terminal + 1]!r})",
                f"/events/{last_terminal + 1}/data/type",
            )
        )
    for index, event in enumerate(events):
        if (
            event.name
            and isinstance(event.payload, dict)
            and isinstance(event.payload.get("type"), str)
            and event.payload["type"] != event.name
        ):
            problems.append(
                Problem(
                    "sse_event_order",
                    "Event name and payload type disagree",
                    f"event {index} is named {event.name!r} but its payload says type {event.payload['type']!r}",
                    f"/events/{index}/data/type",
                )
            )
    return problems


def sse_deltas(stream: Stream) -> list[Problem]:
    """``*.delta`` events join to their ``*.done`` event's text and to the final object's text."""
    if stream.cut_short:
        return []
    joined: dict[tuple[Any, ...], str] = {}
    problems = []
    for index, event in enumerate(stream.events):
        kind = _kind(event)
        if kind is None or not isinstance(event.payload, dict):
            continue
        if kind.endswith(".delta") and isinstance(event.payload.get("delta"), str):
            key = (kind.removesuffix(".delta"), *(event.payload.get(name) for name in IDENTIFYING_FIELDS))
            joined[key] = joined.get(key, "") + event.payload["delta"]
        elif kind.endswith(".done"):
            problems += _done_matches(index, event.payload, kind.removesuffix(".done"), joined)
    return problems + _final_text_matches(stream, joined)


def sse_terminator(stream: Stream) -> list[Problem]:
    """A stream whose spec declares a terminator (``[DONE]``) ends with it, once, and nothing after."""
    terminator = stream.spec.terminator
    if terminator is None or stream.cut_short:
        return []
    positions = [index for index, event in enumerate(stream.events) if event.data == terminator]
    if not positions:
        return [
            Problem(
                "sse_terminator",
                f"Stream does not end with {terminator}",
                f"{len(stream.events)} events and no `data: {terminator}`",
                f"/events/{len(stream.events)}",
            )
        ]
    if positions[0] != len(stream.events) - 1:
        return [
            Problem(
                "sse_terminator",
                f"Events after {terminator}",
                f"`data: {terminator}` is event {positions[0]} of {len(stream.events)}",
                f"/events/{positions[0] + 1}",
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
            "/events",
        )
    ]


def sse_buffered(stream: Stream) -> list[Problem]:
    """Every event arriving in a single read means the gateway buffered the stream before sending it."""
    data_events = [event for event in stream.events if event.data]
    if len(data_events) < BUFFERED_MIN_EVENTS or stream.reads != 1:
        return []
    return [
        Problem(
            "sse_buffered",
            "Stream arrived all at once",
            f"all {len(data_events)} events arrived in one read: the stream was buffered, not streamed",
            "",
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


def run_stream_checks(stream: Stream) -> list[Problem]:
    for event in stream.events:
        _parse(event, stream.spec.terminator)
    problems: list[Problem] = []
    for check in STREAM_CHECKS:
        problems += check(stream)
    return problems


def _parse(event: Event, terminator: str | None) -> None:
    if event.parsed or event.data == terminator:
        return
    try:
        event.payload = json.loads(event.data)
        event.parsed = True
    except ValueError:
        event.parsed = False


def _kind(event: Event) -> str | None:
    if isinstance(event.payload, dict) and isinstance(event.payload.get("type"), str):
        return event.payload["type"]
    return event.name


def _first_error(validator: Any, value: Any) -> tuple[str, str] | None:
    error = next(iter(sorted(validator.iter_errors(value), key=lambda item: len(list(item.absolute_path)))), None)
    if error is None:
        return None
    pointer = "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in error.absolute_path)
    return f"{error.message} (at {pointer or '/'})", pointer


def _sequence_problems(stream: Stream) -> list[Problem]:
    previous = None
    for index, event in enumerate(stream.events):
        number = event.payload.get("sequence_number") if isinstance(event.payload, dict) else None
        if not isinstance(number, int) or isinstance(number, bool):
            continue
        if previous is not None and number <= previous:
            return [
                Problem(
                    "sse_event_order",
                    "sequence_number does not increase",
                    f"event {index} has sequence_number {number} after {previous}",
                    f"/events/{index}/data/sequence_number",
                )
            ]
        previous = number
    return []


def _done_matches(
    index: int, payload: dict[str, Any], family: str, joined: dict[tuple[Any, ...], str]
) -> list[Problem]:
    key = (family, *(payload.get(name) for name in IDENTIFYING_FIELDS))
    if key not in joined:
        return []
    texts = [(name, value) for name, value in payload.items() if isinstance(value, str) and name not in NON_TEXT_FIELDS]
    if len(texts) != 1:
        return []
    name, text = texts[0]
    if text == joined[key]:
        return []
    return [
        Problem(
            "sse_deltas",
            "Deltas do not add up",
            f"the {family}.delta events join to {_short(joined[key])} but event {index} ({family}.done) says {name}={_short(text)}",
            f"/events/{index}/data/{name}",
        )
    ]


def _final_text_matches(stream: Stream, joined: dict[tuple[Any, ...], str]) -> list[Problem]:
    """The terminal event's object (``response.output[i].content[j].text``) holds the joined output text."""
    prefix = stream.spec.lifecycle
    if prefix is None or not stream.events:
        return []
    last = stream.events[-1]
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
            pointer = (
                f"/events/{len(stream.events) - 1}/data/{prefix}/output/{output_index}/content/{content_index}/text"
            )
            problems.append(
                Problem(
                    "sse_deltas",
                    "Deltas do not add up to the final object",
                    f"output_text deltas for output {output_index}, content {content_index} join to {_short(text)} but the final {prefix} holds {_short(final_text)}",
                    pointer,
                )
            )
    return problems


def _output_text(output: list[Any], output_index: int, content_index: int) -> str | None:
    item = output[output_index] if 0 <= output_index < len(output) else None
    content = item.get("content") if isinstance(item, dict) else None
    part = content[content_index] if isinstance(content, list) and 0 <= content_index < len(content) else None
    text = part.get("text") if isinstance(part, dict) else None
    return text if isinstance(text, str) else None


def _short(text: str | None, limit: int = 80) -> str:
    if text is None:
        return "nothing"
    return repr(text if len(text) <= limit else text[:limit] + "…")
