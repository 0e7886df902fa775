"""Parsing a ``text/event-stream`` body into events (the WHATWG framing rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass

LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(slots=True)
class ServerEvent:
    number: int
    """1-based position in the stream."""
    event: str | None
    data: str


def parse_block(block: str) -> tuple[str | None, str] | None:
    """(event name, data) of one event block; None for a block without ``data:`` (a comment, a keep-alive).

    ``data:`` lines are joined by newlines; one space after the colon is not part of the value."""
    name, data = None, []
    for line in LINE_BREAK.split(block):
        if not line or line.startswith(":"):
            continue
        field_name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field_name == "data":
            data.append(value)
        elif field_name == "event":
            name = value
    if not data:
        return None
    return name, "\n".join(data)


def parse_events(text: str) -> list[ServerEvent]:
    """Events separated by blank lines."""
    events: list[ServerEvent] = []
    block: list[str] = []
    for line in [*LINE_BREAK.split(text), ""]:
        if line:
            block.append(line)
            continue
        parsed = parse_block("\n".join(block))
        if parsed is not None:
            events.append(ServerEvent(len(events) + 1, *parsed))
        block = []
    return events
