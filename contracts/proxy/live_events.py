"""A stream's events cut out of the bytes as they pass through the proxy, each judged when it is complete.

The client has had an event's bytes before it is judged here; what this adds is the moment of the report: a
broken event is a line while the stream still runs (a long agent stream may run for minutes), with its index and
the pointer into it. The framing is :func:`apitwin.contracts.sse.parse_events`' (WHATWG: a blank line ends an
event; ``\\r\\n``, ``\\r`` and ``\\n`` are line breaks), applied to text as it grows; a ``\\r`` at the end of
what has arrived waits for the next piece, which may turn it into ``\\r\\n``.
"""

from __future__ import annotations

import codecs
import re

from apitwin.contracts.sse import Event, Problem, StreamSpec, event_problems, parse_block

BLOCK_END = re.compile(r"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")
"""Two line breaks in a row; a ``\\r\\n`` is one break, never a ``\\r`` and then a ``\\n``."""


class LiveEvents:
    """Feed it the body as it arrives; each call returns the problems of the events it completed.

    ``events`` keeps every event, parsed and with the piece it was completed in, for the stream-wide checks at
    the end (which then need not cut and parse the body again)."""

    def __init__(self, spec: StreamSpec) -> None:
        self.spec = spec
        self.events: list[Event] = []
        self.pieces = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._text = ""

    def feed(self, piece: bytes) -> list[Problem]:
        self.pieces += 1
        self._text += self._decoder.decode(piece)
        return self._cut(final=False)

    def finish(self) -> list[Problem]:
        """The problems of a last event the stream did not end with a blank line."""
        self._text += self._decoder.decode(b"", final=True)
        return self._cut(final=True)

    def _cut(self, final: bool) -> list[Problem]:
        problems: list[Problem] = []
        start = 0
        text = self._text
        for match in BLOCK_END.finditer(text):
            if not final and match.end() == len(text) and text.endswith("\r"):
                break  # the \r may be the first half of a \r\n still on its way
            problems += self._event(text[start : match.start()])
            start = match.end()
        rest = text[start:]
        if final and rest:
            problems += self._event(rest)
            rest = ""
        self._text = rest
        return problems

    def _event(self, block: str) -> list[Problem]:
        parsed = parse_block(block)
        if parsed is None:
            return []
        event = Event(len(self.events), parsed[0], parsed[1], max(self.pieces - 1, 0))
        self.events.append(event)
        return event_problems(self.spec, event)
