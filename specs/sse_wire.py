"""The ``text/event-stream`` wire format (WHATWG HTML, "Server-sent events"), once for the writer and every reader.

The mock encodes its streams and the journal's live view with :func:`frame` and :func:`json_frame`; the
fuzzer, ``check-traffic``, ``specs drift``, the proxy and the mock's journal cut a body into event blocks with
:class:`Splitter` (or :func:`split` for a whole body) and read each block with :func:`parse_block`.

The format: an event is lines of ``field: value`` (one space after the colon is not part of the value), ended
by a blank line. A reader takes ``\\r\\n``, ``\\r`` and ``\\n`` as line breaks; the mock writes ``\\n``. Lines
that start with ``:`` are comments (a keep-alive). Several ``data`` lines are one value joined by ``\\n``, so
a value with line breaks is written as several ``data`` lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DATA = "data"
EVENT = "event"
ID = "id"
RETRY = "retry"
LINE_END = "\n"
"""What the mock ends a line with."""
EVENT_END = LINE_END + LINE_END
"""A blank line ends an event."""
DONE = "[DONE]"
"""The terminator OpenAI-style streams end with (``data: [DONE]``), the one non-JSON payload; a spec declares it."""

LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""What a reader takes as a line break; ``\\r\\n`` is one break, never a ``\\r`` and then a ``\\n``."""
BLOCK_END = re.compile(r"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")
"""Two line breaks in a row: the end of an event block."""


# ---------------------------------------------------------------- writing


def frame(
    data: str | None = None, event: str | None = None, *, event_id: str | int | None = None, retry: int | None = None
) -> bytes:
    """One event: its ``id``, ``event`` and ``retry`` fields where given, then ``data`` as one line per line of it."""
    lines = [f"{ID}: {event_id}"] if event_id is not None else []
    if event:
        lines.append(f"{EVENT}: {event}")
    if retry is not None:
        lines.append(f"{RETRY}: {retry}")
    if data is not None:
        lines += [f"{DATA}: {line}" for line in LINE_BREAK.split(data)]
    return (LINE_END.join(lines) + EVENT_END).encode("utf-8")


def json_frame(payload: bytes, event: str | None = None) -> bytes:
    """An event carrying one JSON text: :func:`frame` without looking for line breaks (JSON escapes them).

    The hot path of every generated stream, so it is a few concatenations of bytes."""
    head = b"event: " + event.encode("utf-8") + b"\ndata: " if event else b"data: "
    return head + payload + b"\n\n"


def comment(text: str) -> bytes:
    """A comment line as its own block (a keep-alive a reader skips)."""
    return f": {text}{EVENT_END}".encode()


# ---------------------------------------------------------------- reading


def parse_block(block: str) -> tuple[str | None, str] | None:
    """(event name, data) of one event block; None for a block without ``data`` (a comment, a keep-alive).

    ``data`` lines are joined by newlines; one space after the colon is not part of the value."""
    name, data = None, []
    for line in LINE_BREAK.split(block):
        if not line or line.startswith(":"):
            continue
        field_name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field_name == DATA:
            data.append(value)
        elif field_name == EVENT:
            name = value
    if not data:
        return None
    return name, LINE_END.join(data)


@dataclass(slots=True, frozen=True)
class Block:
    """The text of one event block (without the blank line that ended it) and where it ended in the stream:
    the character offset after its blank line, or after the last character for a block the stream ended."""

    text: str
    end: int
    ended: bool
    """Whether a blank line ended it (False: the stream did)."""


class Splitter:
    """Event blocks out of text that arrives in pieces cut anywhere.

    A ``\\r`` at the end of what has arrived waits for the next piece, which may turn it into ``\\r\\n``;
    comment blocks are blocks too (what a block says is :func:`parse_block`'s business)."""

    def __init__(self) -> None:
        self._text = ""
        self._offset = 0
        """Characters of the stream before ``_text``."""

    def feed(self, text: str) -> list[Block]:
        """The blocks ``text`` completes."""
        self._text += text
        return self._cut(final=False)

    def finish(self) -> list[Block]:
        """The stream ended: the blocks still open, a last one without its blank line included (when not empty)."""
        return self._cut(final=True)

    def _cut(self, final: bool) -> list[Block]:
        blocks: list[Block] = []
        start = 0
        text = self._text
        for match in BLOCK_END.finditer(text):
            if not final and match.end() == len(text) and text.endswith("\r"):
                break  # the \r may be the first half of a \r\n still on its way
            blocks.append(Block(text[start : match.start()], self._offset + match.end(), True))
            start = match.end()
        rest = text[start:]
        if final and rest:
            blocks.append(Block(rest, self._offset + len(text), False))
            start = len(text)
            rest = ""
        self._offset += start
        self._text = rest
        return blocks


def split(text: str) -> list[Block]:
    """The event blocks of a whole body."""
    splitter = Splitter()
    return splitter.feed(text) + splitter.finish()
