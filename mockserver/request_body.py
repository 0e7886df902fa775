"""Reading a request body within bounds: its size (413) and the time between its pieces (408).

A client that announces a body and never sends it would otherwise hold its handler for ever.
"""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect, Request

DEFAULT_BODY_TIMEOUT = 30.0
"""Seconds the server waits for the next piece of a body before answering 408."""


async def read_body(request: Request, limit: int, timeout: float = DEFAULT_BODY_TIMEOUT) -> tuple[bytes, int]:
    """(body, status): status 0 when read whole, 413 when larger than ``limit``, 408 when it stalled.

    A client that goes away mid-body raises starlette's ``ClientDisconnect`` (nobody is left to answer).
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return b"", 413
    chunks, size = [], 0
    loop = asyncio.get_running_loop()
    moved = loop.time()
    receive = request.receive
    try:
        # One timer for the whole body (wait_for would make a task per piece), moved on as pieces arrive; moving
        # it costs a new timer, so it stays put while less than a tenth of the timeout has passed: the wait for
        # the next piece is then at least 0.9 × timeout. Most bodies arrive in one piece and never move it.
        # The messages are read as starlette's ``Request.stream`` reads them, without its generator in between.
        async with asyncio.timeout(timeout) as deadline:
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
                    return b"", 413
                chunks.append(chunk)
                now = loop.time()
                if more and now - moved > timeout / 10:
                    deadline.reschedule(now + timeout)
                    moved = now
    except TimeoutError:
        return b"", 408
    raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    request._stream_consumed = True
    request._body = raw  # starlette's form parser reads the cached body
    return raw, 0
