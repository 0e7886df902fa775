"""Reading a request body within bounds: its size (413) and the time between its pieces (408).

A client that announces a body and never sends it would otherwise hold its handler for ever.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request

DEFAULT_BODY_TIMEOUT = 30.0
"""Seconds the server waits for the next piece of a body before answering 408."""
TICKS_PER_TIMEOUT = 10
"""How often per timeout the pending reads are looked at: a stalled body gets its 408 between 1 and 1.1 timeouts
after its last piece."""


class BodyDeadlines:
    """The deadlines of the bodies being read on one event loop, kept by one timer.

    ``asyncio.timeout`` per request pushes a timer on the loop's heap and cancels it again (a tenth of the CPU of a
    repeated request, which is answered from memory); here a read costs a dict entry, written again as each piece
    arrives, and one timer, armed while reads are pending, looks every tenth of the timeout for those whose last
    piece is a whole timeout old. Their tasks are cancelled, and the read turns the cancellation into a 408 (as
    ``asyncio.timeout`` turns its own into ``TimeoutError``).
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout: float, clock: Callable[[], float] | None = None
    ) -> None:
        self.loop = loop
        self.timeout = timeout
        self.clock = clock or loop.time
        """The loop's monotonic time (tests pass a fake one and call :meth:`sweep` themselves)."""
        self.pending: dict[asyncio.Task[Any], float] = {}
        """Task reading a body → when its last piece arrived (or it began to wait for the first)."""
        self.expired: set[asyncio.Task[Any]] = set()
        """Tasks taken out of ``pending`` when their deadline passed, and cancelled, until their read is over."""
        self._armed = False

    def start(self, task: asyncio.Task[Any]) -> None:
        self.pending[task] = self.clock()
        if not self._armed:
            self._armed = True
            self.loop.call_later(self.timeout / TICKS_PER_TIMEOUT, self._tick)

    def moved(self, task: asyncio.Task[Any]) -> None:
        """A piece arrived: the wait for the next one starts now."""
        self.pending[task] = self.clock()

    def stop(self, task: asyncio.Task[Any]) -> bool:
        """The read is over; whether its deadline passed (its task was cancelled for it). Said once: a second call
        for the same read is False."""
        if self.pending.pop(task, None) is not None or task not in self.expired:
            return False
        self.expired.remove(task)
        return True

    def sweep(self) -> None:
        """Cancel the reads whose last piece is a whole timeout old."""
        stalled_since = self.clock() - self.timeout
        for task, last in list(self.pending.items()):
            if last <= stalled_since:
                del self.pending[task]
                self.expired.add(task)
                task.cancel()

    def _tick(self) -> None:
        self.sweep()
        self._armed = bool(self.pending)
        if self._armed:
            self.loop.call_later(self.timeout / TICKS_PER_TIMEOUT, self._tick)


class BodyReader:
    """Reads request bodies up to ``limit`` bytes, waiting at most ``timeout`` seconds for each piece."""

    def __init__(
        self, limit: int, timeout: float = DEFAULT_BODY_TIMEOUT, clock: Callable[[], float] | None = None
    ) -> None:
        self.limit = limit
        self.timeout = timeout
        self.clock = clock
        self._deadlines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, BodyDeadlines] = (
            weakref.WeakKeyDictionary()
        )
        """One per event loop serving (tests run one server on several loops in turn)."""
        self._recent: BodyDeadlines | None = None
        """Those of the loop that read the last body: looked up without making a weak reference."""

    def deadlines(self, loop: asyncio.AbstractEventLoop) -> BodyDeadlines:
        found = self._recent
        if found is None or found.loop is not loop:
            found = self._deadlines.get(loop)
            if found is None:
                found = self._deadlines[loop] = BodyDeadlines(loop, self.timeout, self.clock)
            self._recent = found
        return found

    async def read(self, request: Request, declared: str | None) -> tuple[bytes, int]:
        """(body, status): status 0 when read whole, 413 when larger than the limit, 408 when it stalled.

        ``declared`` is the request's ``Content-Length`` (None without one). A client that goes away mid-body
        raises starlette's ``ClientDisconnect`` (nobody is left to answer).
        """
        if declared and declared.isdigit() and int(declared) > self.limit:
            return b"", 413
        task = asyncio.current_task()
        assert task is not None
        deadlines = self.deadlines(task.get_loop())
        cancelling = task.cancelling()
        deadlines.start(task)
        try:
            raw = await _pieces(request, self.limit, deadlines, task)
        except asyncio.CancelledError:
            if deadlines.stop(task) and task.uncancel() <= cancelling:
                return b"", 408
            raise
        finally:
            if deadlines.stop(task):  # the deadline passed just as the read ended otherwise: the read's outcome wins
                task.uncancel()
        if raw is None:
            return b"", 413
        request._stream_consumed = True
        request._body = raw  # starlette's form parser reads the cached body
        return raw, 0


async def _pieces(request: Request, limit: int, deadlines: BodyDeadlines, task: asyncio.Task[Any]) -> bytes | None:
    """The body's pieces joined (None past ``limit``), read as starlette's ``Request.stream`` reads them, without
    its generator in between. Most bodies arrive in one piece."""
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if message["type"] != "http.request":
            continue
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if more:
            deadlines.moved(task)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
