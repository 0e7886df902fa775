"""A stream's content chunks on the fast path: one chunk per choice, changed in place, each event written around
its piece.

Most events of a chat or text-completion stream are chunks that differ only in their delta's text (40 of a
44-event answer). The slow path copies the chunk for each, settles every edit and encodes the whole chunk. Here
the chunk a choice's text events share is built once, as the fast path builds any chunk; per event only the text
is changed, the chunk is still validated as the slow path validates it (against the payload schema), and the
event is the chunk's bytes encoded once around a placeholder, with the
piece's own JSON in its place: what encoding the whole chunk gives, since JSON writes a string the same wherever it
stands. An event that fails a check is left to the caller's slower path, so the bytes are the slow path's either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from apitwin.mockserver.edits import Judge
from apitwin.specs.sse_wire import json_frame

PLACEHOLDER = "\x00apitwin text\x00"
"""Stands for the text while the chunk is encoded: no answer's text or skeleton carries it."""


@dataclass(slots=True)
class TextFrames:
    """The events of one choice's text deltas: ``holder[key]`` is the text, inside ``chunk``."""

    holder: dict[str, Any]
    key: str
    chunk: dict[str, Any]
    validator: Judge
    prefix: bytes
    suffix: bytes

    def frame(self, text: str) -> bytes | None:
        """The event carrying ``text``; ``None`` when the chunk with it fails a check or orjson cannot write it."""
        self.holder[self.key] = text
        if not self.validator.is_valid(self.chunk):
            return None
        try:
            return self.prefix + orjson.dumps(text) + self.suffix
        except TypeError:  # a lone surrogate: the slower path writes it through ``json``
            return None


def text_frames(holder: dict[str, Any], key: str, chunk: dict[str, Any], validator: Judge) -> TextFrames | None:
    """The events of a chunk whose text is ``holder[key]`` (the caller's own dicts, changed per event); ``None`` when
    orjson cannot write the chunk (integers beyond 64 bits: the slower path writes those through ``json``)."""
    holder[key] = PLACEHOLDER
    try:
        encoded = json_frame(orjson.dumps(chunk))
    except TypeError:
        return None
    marker = orjson.dumps(PLACEHOLDER)
    if encoded.count(marker) != 1:
        return None
    prefix, _, suffix = encoded.partition(marker)
    return TextFrames(holder, key, chunk, validator, prefix, suffix)
