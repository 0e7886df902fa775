"""A stream's events cut out of the bytes as they pass through the proxy, each judged when it is complete.

The client has had an event's bytes before it is judged here; what this adds is the moment of the report: a
broken event is a line while the stream still runs (a long agent stream may run for minutes), with its index and
the pointer into it. The framing is :mod:`apitwin.specs.sse_wire`'s, applied to text as it grows.
"""

from __future__ import annotations

import codecs

from apitwin.contracts.sse import Event, Problem, StreamSpec, event_problems
from apitwin.specs.sse_wire import Block, Splitter, parse_block


class LiveEvents:
    """Feed it the body as it arrives; each call returns the problems of the events it completed.

    ``events`` keeps every event, parsed and with the piece it was completed in, for the stream-wide checks at
    the end (which then need not cut and parse the body again)."""

    def __init__(self, spec: StreamSpec) -> None:
        self.spec = spec
        self.events: list[Event] = []
        self.pieces = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._splitter = Splitter()

    def feed(self, piece: bytes) -> list[Problem]:
        self.pieces += 1
        return self._judge(self._splitter.feed(self._decoder.decode(piece)))

    def finish(self) -> list[Problem]:
        """The problems of a last event the stream did not end with a blank line."""
        blocks = self._splitter.feed(self._decoder.decode(b"", final=True))
        return self._judge(blocks + self._splitter.finish())

    def _judge(self, blocks: list[Block]) -> list[Problem]:
        problems: list[Problem] = []
        for block in blocks:
            problems += self._event(block.text)
        return problems

    def _event(self, block: str) -> list[Problem]:
        parsed = parse_block(block)
        if parsed is None:
            return []
        event = Event(len(self.events), parsed[0], parsed[1], max(self.pieces - 1, 0))
        self.events.append(event)
        return event_problems(self.spec, event)
