"""A small HTTP/1.1 load client over keep-alive connections that times each answer and its first SSE event.

wrk measures latency well but cannot say when a stream's first event arrived; this client can, and it
costs the same for every target it is pointed at, so the difference between two targets measured in turn
(a direct connection and the same server behind a proxy) is what the proxy adds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

EXCHANGE_TIMEOUT_S = 30.0


@dataclass(slots=True)
class Answer:
    total_ms: float
    first_event_ms: float | None
    status: int
    size: int


@dataclass(slots=True)
class Load:
    """What ``concurrency`` connections got in ``seconds``: every answer timed, failures counted."""

    concurrency: int
    seconds: float
    answers: list[Answer] = field(default_factory=list)
    errors: int = 0
    non_2xx: int = 0

    def joined(self, later: Load) -> Load:
        """This run and ``later`` (the same load again), as one."""
        return Load(
            self.concurrency,
            self.seconds + later.seconds,
            self.answers + later.answers,
            self.errors + later.errors,
            self.non_2xx + later.non_2xx,
        )

    @property
    def rate(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float, first_event: bool = False) -> float | None:
        values: list[float] = []
        for answer in self.answers:
            value = answer.first_event_ms if first_event else answer.total_ms
            if value is not None:
                values.append(value)
        if not values:
            return None
        values.sort()
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]

    def as_json(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 2),
            "answers": len(self.answers),
            "errors": self.errors,
            "non_2xx": self.non_2xx,
            "req_per_s": round(self.rate, 1),
            "p50_ms": _rounded(self.percentile(0.5)),
            "p90_ms": _rounded(self.percentile(0.9)),
            "p99_ms": _rounded(self.percentile(0.99)),
            "first_event_p50_ms": _rounded(self.percentile(0.5, first_event=True)),
            "first_event_p99_ms": _rounded(self.percentile(0.99, first_event=True)),
        }


def request_bytes(host: str, port: int, path: str, body: bytes, headers: tuple[tuple[str, str], ...]) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode() + b"\r\n" + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> Answer:
    """Send ``request`` on an open connection and read its whole answer (Content-Length or chunked)."""
    started = time.perf_counter()
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    lowered = head.lower()
    first_event = None
    size = 0
    if b"transfer-encoding: chunked" in lowered:
        while True:
            line = await reader.readuntil(b"\r\n")
            length = int(line.split(b";")[0], 16)
            chunk = await reader.readexactly(length + 2)
            if length == 0:
                break
            size += length
            if first_event is None and b"data:" in chunk:
                first_event = (time.perf_counter() - started) * 1e3
    else:
        length = int(lowered.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        body = await reader.readexactly(length)
        size = length
        if first_event is None and b"data:" in body:
            first_event = (time.perf_counter() - started) * 1e3
    return Answer((time.perf_counter() - started) * 1e3, first_event, status, size)


async def load(host: str, port: int, request: bytes, concurrency: int, seconds: float, spacing_s: float = 0.0) -> Load:
    """``concurrency`` keep-alive connections sending ``request`` for ``seconds``, back to back or ``spacing_s``
    apart (a server with spare time between requests: what a hop costs when nothing queues)."""
    result = Load(concurrency, seconds)
    until = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < until:
                try:
                    answer = await asyncio.wait_for(exchange(reader, writer, request), EXCHANGE_TIMEOUT_S)
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
                    result.errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                result.answers.append(answer)
                if not 200 <= answer.status < 300:
                    result.non_2xx += 1
                if spacing_s:
                    await asyncio.sleep(spacing_s)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
