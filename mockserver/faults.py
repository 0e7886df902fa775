"""Fault injection: the ways a real gateway misbehaves, on demand.

Server-wide from ``apitwin serve`` (``create_app(faults=…)``), or for one request with a header::

    apitwin serve --faults 429:0.05,500:0.01 --latency 200 --cut-stream-after 5 --slow-first-byte 800
    X-Apitwin-Faults: 503:1, latency=200, cut=5, first-byte=800

- ``STATUS:RATE``: answer that error status at that rate (0–1), in the API's own error shape for the
  status (so the body is valid for the spec's error response); a 429 carries ``Retry-After``.
  Rates add up; draws come from one random source seeded by the server's seed, so a run with the same
  seed and request order fails the same requests.
- ``latency=MS``: wait before answering.
- ``first-byte=MS``: send the status and headers, then wait before the first byte of the body.
- ``cut=N``: end an event stream after N events the way a broken upstream does: the connection is
  dropped mid-body (no terminating chunk, no ``[DONE]``), so clients see a truncated transfer.

Faults apply to requests that passed validation: a bad request still gets its own 4xx. A header
names only what it changes; the rest keeps the server's setting. A malformed header is a 400.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

from starlette.responses import Response, StreamingResponse

HEADER = "x-apitwin-faults"
RETRY_AFTER_SECONDS = "1"
MAX_DELAY_MS = 600_000.0


class FaultError(ValueError):
    """A fault option or header that cannot be read; the message says what was expected."""


class StreamCut(Exception):
    """Raised inside a stream to drop the connection mid-body, as a failing upstream does."""


@dataclass(frozen=True, slots=True)
class Faults:
    rates: tuple[tuple[int, float], ...] = ()
    latency_ms: float = 0.0
    first_byte_ms: float = 0.0
    cut_after: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.rates) or self.latency_ms > 0 or self.first_byte_ms > 0 or self.cut_after is not None


@dataclass(slots=True)
class FaultDice:
    """The one random source error faults are drawn from (seeded: reproducible runs)."""

    seed: int
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"apitwin-faults-{self.seed}")

    def status(self, faults: Faults) -> int | None:
        """The error status this request gets, or None."""
        if not faults.rates:
            return None
        roll = self._rng.random()
        for status, rate in faults.rates:
            if roll < rate:
                return status
            roll -= rate
        return None


def parse(
    spec: str | None,
    *,
    latency_ms: float = 0.0,
    first_byte_ms: float = 0.0,
    cut_after: int | None = None,
    base: Faults | None = None,
    source: str = "--faults",
) -> Faults:
    """Faults from ``429:0.05,500:0.01`` plus ``latency=``/``first-byte=``/``cut=`` items."""
    faults = base or Faults(
        latency_ms=_delay(latency_ms, "latency"),
        first_byte_ms=_delay(first_byte_ms, "first-byte"),
        cut_after=_cut(cut_after),
    )
    rates = dict(faults.rates) if base is not None else {}
    for raw_part in (spec or "").split(","):
        part = raw_part.strip()
        if not part:
            continue
        key, equals, value = part.partition("=")
        if equals:
            faults = _setting(faults, key.strip().lower(), value.strip(), source)
            continue
        status, colon, rate = part.partition(":")
        if not colon:
            raise FaultError(f"{source}: expected STATUS:RATE, latency=MS, first-byte=MS or cut=N, got {part!r}")
        rates[_status(status.strip(), source)] = _rate(rate.strip(), source)
    if sum(rates.values()) > 1.0 + 1e-9:
        raise FaultError(f"{source}: the error rates add up to {sum(rates.values()):g}, more than 1")
    return replace(faults, rates=tuple(sorted(rates.items())))


def for_request(header: str | None, server: Faults) -> Faults:
    """The faults one request asks for with ``X-Apitwin-Faults`` (the server's when absent)."""
    if header is None or not header.strip():
        return server
    return parse(header, base=server, source="X-Apitwin-Faults")


def _setting(faults: Faults, key: str, value: str, source: str) -> Faults:
    if key == "latency":
        return replace(faults, latency_ms=_delay(_number(value, key, source), key, source))
    if key in ("first-byte", "first_byte"):
        return replace(faults, first_byte_ms=_delay(_number(value, key, source), key, source))
    if key == "cut":
        if not value.isdigit():
            raise FaultError(f"{source}: cut must be a whole number of events, got {value!r}")
        return replace(faults, cut_after=int(value))
    raise FaultError(f"{source}: unknown setting {key!r} (known: latency, first-byte, cut)")


def _number(value: str, key: str, source: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise FaultError(f"{source}: {key} must be a number of milliseconds, got {value!r}") from None
    if number != number:
        raise FaultError(f"{source}: {key} must be a number of milliseconds, got {value!r}")
    return number


def _delay(value: float, key: str, source: str = "option") -> float:
    if not 0 <= value <= MAX_DELAY_MS:
        raise FaultError(f"{source}: {key} must be between 0 and {MAX_DELAY_MS:.0f} ms, got {value:g}")
    return float(value)


def _cut(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise FaultError(f"--cut-stream-after must not be negative, got {value}")
    return value


def _status(text: str, source: str) -> int:
    if not (text.isdigit() and 400 <= int(text) <= 599):
        raise FaultError(f"{source}: an injected status must be an error status 400-599, got {text!r}")
    return int(text)


def _rate(text: str, source: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise FaultError(f"{source}: a rate must be a number between 0 and 1, got {text!r}") from None
    if not 0 <= rate <= 1:
        raise FaultError(f"{source}: a rate must be between 0 and 1, got {text!r}")
    return rate


def error_headers(status: int) -> dict[str, str]:
    return {"Retry-After": RETRY_AFTER_SECONDS} if status == 429 else {}


async def cut(frames: AsyncIterator[bytes], after: int) -> AsyncIterator[bytes]:
    """The first ``after`` frames, then a dropped connection."""
    sent = 0
    async for item in frames:
        if sent >= after:
            raise StreamCut(f"stream cut after {after} events (fault injection)")
        yield item
        sent += 1
    # A stream shorter than the cut ends normally: nothing was left to cut.


async def delayed(
    response: Response, first_byte_ms: float, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> Response:
    """``response`` with its headers sent at once and its body after ``first_byte_ms``."""
    body_iterator = response.body_iterator if isinstance(response, StreamingResponse) else _single(bytes(response.body))

    async def late() -> AsyncIterator[bytes]:
        await sleep(first_byte_ms / 1000)
        async for chunk in body_iterator:
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)

    headers = {key: value for key, value in response.headers.items() if key.lower() != "content-length"}
    return StreamingResponse(late(), status_code=response.status_code, headers=headers, media_type=response.media_type)


async def _single(body: bytes) -> AsyncIterator[bytes]:
    yield body


class _QuietCuts(logging.Filter):
    """A cut stream is on purpose: keep the server's error log for real errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], StreamCut))


def quiet_cut_logs() -> None:
    logging.getLogger("uvicorn.error").addFilter(_QuietCuts())
