"""Parsing a recorded ``text/event-stream`` body into events (the WHATWG framing rules)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ServerEvent:
    number: int
    """1-based position in the stream."""
    event: str | None
    data: str


def parse_events(text: str) -> list[ServerEvent]:
    """Events separated by blank lines; ``data:`` lines joined by newlines; comments and empty blocks skipped."""
    events = []
    event: str | None = None
    data: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") + [""]:
        if line == "":
            if data:
                events.append(ServerEvent(len(events) + 1, event, "\n".join(data)))
            event, data = None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    return events
