"""A stream's events cut out of the bytes as they pass through the proxy, each judged when it is complete.

The client has had an event's bytes before it is judged here; what this adds is the moment of the report: a
broken event is a line while the stream still runs (a long agent stream may run for minutes), with its index and
the pointer into it. The framing is :mod:`apitwin.specs.sse_wire`'s, applied to the bytes as they grow: its line
breaks are ASCII, which no byte of a UTF-8 character can be, so cutting the bytes cuts the text at the same
places, and an event is decoded (and its JSON read) once, from its own bytes. A piece without ``\\r`` is cut with
``bytes.split`` (what streams written with ``\\n`` need); otherwise :data:`BLOCK_END` applies, and a ``\\r`` at
the end of what has arrived waits for the next piece, which may turn it into ``\\r\\n``.
"""

from __future__ import annotations

import re

from apitwin.contracts import fast_json
from apitwin.contracts.sse import Event, Problem, StreamSpec, event_problems
from apitwin.specs.sse_wire import BLOCK_END as TEXT_BLOCK_END
from apitwin.specs.sse_wire import parse_block

BLOCK_END = re.compile(TEXT_BLOCK_END.pattern.encode("ascii"))
"""The wire format's blank line, on bytes."""
DATA_LINE = b"data: "


class LiveEvents:
    """Feed it the body as it arrives; each call returns the problems of the events it completed.

    ``events`` keeps every event, parsed and with the piece it was completed in, for the stream-wide checks at
    the end (which then need not cut and parse the body again)."""

    def __init__(self, spec: StreamSpec) -> None:
        self.spec = spec
        self.events: list[Event] = []
        self.pieces = 0
        self._rest = b""

    def feed(self, piece: bytes) -> list[Problem]:
        self.pieces += 1
        text = self._rest + piece if self._rest else piece
        if b"\r" not in text:
            blocks = text.split(b"\n\n")
            self._rest = blocks.pop()
            return self._judge(blocks) if blocks else []
        return self._judge(self._cut(text, final=False))

    def finish(self) -> list[Problem]:
        """The problems of a last event the stream did not end with a blank line."""
        text, self._rest = self._rest, b""
        return self._judge(self._cut(text, final=True)) if text else []

    def _cut(self, text: bytes, final: bool) -> list[bytes]:
        blocks = []
        start = 0
        for match in BLOCK_END.finditer(text):
            if not final and match.end() == len(text) and text.endswith(b"\r"):
                break  # the \r may be the first half of a \r\n still on its way
            blocks.append(text[start : match.start()])
            start = match.end()
        rest = text[start:]
        if final and rest:
            blocks.append(rest)
            rest = b""
        self._rest = rest
        return blocks

    def _judge(self, blocks: list[bytes]) -> list[Problem]:
        problems: list[Problem] = []
        for block in blocks:
            event = self._event(block)
            if event is not None:
                self.events.append(event)
                problems += event_problems(self.spec, event)
        return problems

    def _event(self, block: bytes) -> Event | None:
        read = max(self.pieces - 1, 0)
        if block.startswith(DATA_LINE) and b"\n" not in block and b"\r" not in block:
            raw = block[len(DATA_LINE) :]  # the usual event: one data line
            event = Event(len(self.events), None, raw.decode("utf-8", "replace"), read)
        else:
            parsed = parse_block(block.decode("utf-8", "replace"))
            if parsed is None:
                return None
            event = Event(len(self.events), parsed[0], parsed[1], read)
            raw = None
        if event.data != self.spec.terminator:
            _read_json(event, raw)
        return event


def _read_json(event: Event, raw: bytes | None) -> None:
    """The event's payload, read from its own bytes; what :func:`fast_json.quick` leaves (bytes that are not
    UTF-8 among them) the stream checks read from the text, as they read every event."""
    value = fast_json.quick(raw if raw is not None else event.data)
    if value is not fast_json.UNREAD:
        event.payload, event.parsed = value, True
