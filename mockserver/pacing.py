"""Pacing of event streams: a time to first token, then a steady token rate.

Defaults come from ``apitwin serve --ttft MS --tokens-per-second N`` (``create_app(ttft_ms=…,
tokens_per_second=…)``); no pacing unless asked. One request can override them with the header::

    X-Apitwin-Pacing: ttft=200,tps=50

``ttft`` is milliseconds before the first event, ``tps`` tokens per second after it (``0`` turns
either off); keys left out keep the server's values. A malformed header is a 400.

How long an event waits is the number of tokens it carries divided by the rate. The tokens of an
event are those of the strings under any ``delta`` in its JSON payload (a chat chunk's
``choices[].delta.content`` or a tool call's argument piece, a Responses ``*.delta`` event), counted
with the mock's tokenizer, so events without new text (``response.created``, a final usage chunk,
``[DONE]``) go out at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from apitwin.mockserver.behaviours.text import count_tokens
from apitwin.mockserver.faults import cut
from apitwin.specs.sse_wire import parse_block

HEADER = "x-apitwin-pacing"
MAX_TTFT_MS = 600_000.0
"""Ten minutes: longer is surely a typo and would only hang the client."""
MIN_TOKENS_PER_SECOND = 0.1
"""Slower (but not 0, which is off) is surely a typo: ``tps=1e-300`` would stall a stream for ever."""
MAX_EVENT_WAIT = MAX_TTFT_MS / 1000
"""No event waits longer than this many seconds, however many tokens it carries."""
JOINED_BYTES = 16 * 1024
"""Unpaced frames after the first are sent in writes of about this size (the rest of a chat stream is one or two)."""


class PacingError(ValueError):
    """A pacing header or option that cannot be read."""


@dataclass(slots=True, frozen=True)
class Pacing:
    ttft_ms: float = 0.0
    tokens_per_second: float = 0.0

    @property
    def active(self) -> bool:
        return self.ttft_ms > 0 or self.tokens_per_second > 0


def checked(ttft_ms: float, tokens_per_second: float) -> Pacing:
    """A :class:`Pacing` from option values, refusing negative or absurd ones."""
    if not 0 <= ttft_ms <= MAX_TTFT_MS:
        raise PacingError(f"ttft must be between 0 and {MAX_TTFT_MS:.0f} ms, got {ttft_ms}")
    if tokens_per_second < 0:
        raise PacingError(f"tokens per second must not be negative, got {tokens_per_second}")
    if 0 < tokens_per_second < MIN_TOKENS_PER_SECOND:
        raise PacingError(
            f"tokens per second must be 0 (off) or at least {MIN_TOKENS_PER_SECOND}, got {tokens_per_second}"
        )
    return Pacing(float(ttft_ms), float(tokens_per_second))


def parse_header(value: str | None, default: Pacing) -> Pacing:
    """The pacing a request asks for with ``X-Apitwin-Pacing`` (``default`` when absent)."""
    if value is None or not value.strip():
        return default
    settings = {"ttft": default.ttft_ms, "tps": default.tokens_per_second}
    for part in value.split(","):
        key, sep, raw = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in settings:
            raise PacingError(
                f"X-Apitwin-Pacing: expected ttft=MS and/or tps=N separated by commas, got {part.strip()!r}"
            )
        try:
            number = float(raw.strip())
        except ValueError:
            raise PacingError(f"X-Apitwin-Pacing: {key} must be a number, got {raw.strip()!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise PacingError(f"X-Apitwin-Pacing: {key} must be a finite number, got {raw.strip()!r}")
        settings[key] = number
    try:
        return checked(settings["ttft"], settings["tps"])
    except PacingError as error:
        raise PacingError(f"X-Apitwin-Pacing: {error}") from None


Sleep = Callable[[float], Awaitable[None]]
"""How a delay is waited out: ``asyncio.sleep``, or a recorder in tests."""


async def paced(frames: AsyncIterator[bytes], pacing: Pacing, sleep: Sleep = asyncio.sleep) -> AsyncIterator[bytes]:
    """``frames`` as they would arrive from a model generating at ``pacing``."""
    first = True
    async for item in frames:
        delay = pacing.ttft_ms / 1000 if first else 0.0
        if pacing.tokens_per_second > 0 and not first:
            delay += min(frame_tokens(item) / pacing.tokens_per_second, MAX_EVENT_WAIT)
        first = False
        if delay > 0:
            await sleep(delay)
        yield item


def pace(
    frames: AsyncIterator[bytes], pacing: Pacing, sleep: Sleep = asyncio.sleep, *, join: bool = True
) -> AsyncIterator[bytes]:
    """``frames`` paced; when ``pacing`` asks for no delay, joined into fewer writes (unless ``join`` is False)."""
    if pacing.active:
        return paced(frames, pacing, sleep)
    return joined(frames) if join else frames


class EventStreamResponse(StreamingResponse):
    """A streamed answer that, when nothing in it waits (``waits=False``: no pacing, frames made as they are
    sent), skips the second task Starlette starts to listen for the client leaving: there is no wait in
    which a departure could be noticed, and that task cost a chat stream about a third of its CPU."""

    def __init__(self, content: AsyncIterator[bytes], *, waits: bool, **options: Any) -> None:
        super().__init__(content, **options)
        self.waits = waits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.waits or scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        await self.stream_response(send)
        if self.background is not None:
            await self.background()


async def joined(frames: AsyncIterator[bytes], limit: int = JOINED_BYTES) -> AsyncIterator[bytes]:
    """Unpaced frames: the first alone (it is sent as soon as it is made, and a client sees a stream, not one
    buffered answer), the rest as writes of up to about ``limit`` bytes: the same bytes in far fewer trips through
    Starlette, uvicorn and the kernel, which cost the same for a 100-byte frame as for a 16 KB write."""
    first = True
    pending: list[bytes] = []
    size = 0
    async for item in frames:
        if first:
            first = False
            yield item
            continue
        pending.append(item)
        size += len(item)
        if size >= limit:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def frame_tokens(item: bytes) -> int:
    """Tokens of new text an SSE frame carries (see the module docstring)."""
    parsed = parse_block(item.decode("utf-8", "replace"))
    if parsed is None:
        return 0
    try:
        payload = json.loads(parsed[1])
    except ValueError:
        return 0
    return sum(count_tokens(text) for text in _delta_strings(payload, inside=False))


def _delta_strings(value: Any, inside: bool) -> list[str]:
    if isinstance(value, str):
        return [value] if inside else []
    if isinstance(value, list):
        return [text for item in value for text in _delta_strings(item, inside)]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if key in ("id", "type", "role", "name", "index"):
                continue
            found.extend(_delta_strings(item, inside or key == "delta"))
        return found
    return []


@dataclass(frozen=True, slots=True)
class Streams:
    """How a server sends an event stream: paced by the request's pacing (else ``pacing``, the server's), and
    dropped after the number of events an injected fault of the request says (``cut_after()``)."""

    pacing: Pacing
    sleep: Callable[[float], Awaitable[None]]
    cut_after: Callable[[], int | None]

    def answer(
        self,
        frames: AsyncIterator[bytes],
        *,
        pacing: Pacing | None,
        status_code: int,
        media_type: str | None,
        headers: dict[str, str],
    ) -> StreamingResponse:
        """An event-stream answer of these frames (``pacing``: the request's, ``None`` for the server's)."""
        if pacing is None:
            pacing = self.pacing
        after = self.cut_after()
        if after is not None:
            # Frames are counted one by one up to the cut, so they are not joined into fewer writes.
            frames = pace(cut(frames, after), pacing, self.sleep, join=False)
        else:
            frames = pace(frames, pacing, self.sleep)
        return EventStreamResponse(
            frames, waits=pacing.active, status_code=status_code, media_type=media_type, headers=headers
        )
