"""``GET /_apitwin/journal/stream``: the journal as server-sent events, for the dashboard's live view.

Each entry is one event ``entry`` whose ``id`` is its sequence number and whose data is the entry as
``GET /_apitwin/requests`` shows it; an entry is sent again when it changes (a stream it answered ends), so a
viewer keeps the last copy of each sequence number. The filters are those of ``/_apitwin/requests``; the entries
kept so far come first. A connection ends after ``CONNECTION_SECONDS`` (a browser's EventSource reconnects at
once, sending ``Last-Event-ID``, and continues after it), so no viewer holds a stopping server for long.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from apitwin.mockserver.journal import Entry, Journal
from apitwin.mockserver.journal_query import Filters
from apitwin.specs import sse_wire

CONNECTION_SECONDS = 10.0
KEEPALIVE_SECONDS = 5.0
RETRY_MS = 500


def stream(journal: Journal, filters: Filters, reveal: bool) -> StreamingResponse:
    return StreamingResponse(
        _events(journal, filters, reveal),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(journal: Journal, filters: Filters, reveal: bool) -> AsyncIterator[bytes]:
    subscription = journal.subscribe()  # before the backlog is read: nothing falls between the two
    ends = time.monotonic() + CONNECTION_SECONDS
    try:
        yield sse_wire.frame(retry=RETRY_MS)
        for entry in filters.select(journal.records()):
            yield _frame(entry, reveal)
        while (left := ends - time.monotonic()) > 0:
            try:
                entry = await asyncio.wait_for(subscription.queue.get(), timeout=min(left, KEEPALIVE_SECONDS))
            except TimeoutError:
                yield sse_wire.comment("keep-alive")
                continue
            if filters.matches(entry):
                yield _frame(entry, reveal)
    finally:
        journal.unsubscribe(subscription)


def _frame(entry: Entry, reveal: bool) -> bytes:
    return sse_wire.frame(json.dumps(entry.as_dict(reveal), ensure_ascii=False), "entry", event_id=entry.sequence)
