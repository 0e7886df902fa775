"""Reading a request body within bounds: its size (413) and the time between its pieces (408).

A client that announces a body and never sends it would otherwise hold its handler for ever.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request

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
    try:
        # One timer for the whole body (wait_for would make a task per piece), moved on as pieces arrive; moving
        # it costs a new timer, so it stays put while less than a tenth of the timeout has passed: the wait for
        # the next piece is then at least 0.9 × timeout. Most bodies arrive in one piece and never move it.
        async with asyncio.timeout(timeout) as deadline:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    return b"", 413
                chunks.append(chunk)
                now = loop.time()
                if now - moved > timeout / 10:
                    deadline.reschedule(now + timeout)
                    moved = now
    except TimeoutError:
        return b"", 408
    raw = b"".join(chunks)
    request._body = raw  # starlette's form parser reads the cached body
    return raw, 0
