"""The journal: every exchange the mock answered or the proxy forwarded, bounded, as one shape.

An :class:`Entry` is what a person debugging traffic wants to see: the request and the answer (headers with
credentials masked, bodies cut past ``body_limit`` bytes), the events of a stream with the time each one left
(milliseconds after the request arrived, from the server's injected clock), the verdict with each violation at
its JSON pointer, and the latency. The mock (``request_log``) and the proxy (``contracts.proxy``) both write
entries here; ``GET /_apitwin/requests``, the dashboard's live view and the pytest plugin read them.

The journal keeps at most ``limit`` entries and ``max_bytes`` of their text: the oldest go first. Entries are
shared with the thread that serves them, so every change goes through the journal's lock.
"""

from __future__ import annotations

import asyncio
import codecs
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from apitwin.mockserver.violations import Violation
from apitwin.recordings.credentials import masked_headers, masked_query
from apitwin.specs.sse_wire import EVENT_END, LINE_BREAK, LINE_END, Block, Splitter

DEFAULT_LIMIT = 10_000
"""Entries kept; older ones are dropped so a long-running server does not grow without bound."""
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Bytes of text (bodies, events, headers) all kept entries may hold together."""
DEFAULT_BODY_LIMIT = 64 * 1024
"""Bytes of each body (and of a stream's events together) kept; the rest is cut and the entry says so."""
ENTRY_OVERHEAD = 512
"""Bytes an entry costs besides its texts (objects, dict slots), so the byte bound is near what is held."""
HIDDEN = (
    "hidden: values clients sent are shown to the holder of --admin-key (Bearer header, or open "
    "/_apitwin/?token=<admin key> in the browser)"
)
HIDDEN_VALUE = "[hidden]"
SUBSCRIBER_BACKLOG = 1000
"""Entries a slow live viewer may fall behind before it misses some (it can catch up with ``since``)."""


class Body:
    """A body as text (UTF-8, undecodable bytes replaced), cut at the journal's body limit.

    A recorded body (:meth:`of`) keeps its bytes and is decoded when first read: most entries are never looked at,
    and decoding every answer cost more than the rest of keeping it.
    """

    __slots__ = ("_kept", "_text", "size", "truncated")

    def __init__(self, text: str, size: int, truncated: bool = False) -> None:
        self._text: str | None = text
        self._kept: bytes | bytearray = b""
        self.size = size
        """Bytes the whole body had."""
        self.truncated = truncated

    @classmethod
    def of(cls, raw: bytes, limit: int) -> Body:
        body = cls.__new__(cls)  # every answer is recorded: one call, not two
        body._text, body._kept = None, raw[:limit]  # the same bytes object when it is not cut: nothing copied
        body.size, body.truncated = len(raw), len(raw) > limit
        return body

    @classmethod
    def held_bytes(cls, kept: bytes | bytearray, size: int, truncated: bool) -> Body:
        """A body of ``size`` bytes of which ``kept`` are kept (no longer changed by whoever wrote them)."""
        body = cls.__new__(cls)
        body._text, body._kept, body.size, body.truncated = None, kept, size, truncated
        return body

    @property
    def text(self) -> str:
        text = self._text
        if text is None:  # another thread decoding at the same time makes the same text
            text = self._text = self._kept.decode("utf-8", "replace")
        return text

    def held(self) -> int:
        """Characters (or, not yet decoded, bytes) the body holds, for the journal's byte bound."""
        return len(self._kept) if self._text is None else len(self._text)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "size": self.size, "truncated": self.truncated}

    def __repr__(self) -> str:
        return f"Body(text={self.text!r}, size={self.size}, truncated={self.truncated})"


class WireHeaders(Sequence[tuple[str, str]]):
    """Headers as ASGI carries them (byte pairs), read as text with their credentials masked (see
    ``recordings.credentials``) when first read, for the same reason as :class:`Body`."""

    __slots__ = ("_extra", "_raw", "_shown")

    def __init__(self, raw: Iterable[tuple[bytes, bytes]], extra: Sequence[str] = ()) -> None:
        # A copy (the answer's list may still change after it was recorded), as a tuple: a tuple of byte pairs leaves
        # the collector's view once it has seen it, and a full journal holds tens of thousands of them.
        self._raw = tuple(raw)
        self._extra = extra
        """More names that carry credentials (a spec's own ``apiKey`` header names)."""
        self._shown: list[tuple[str, str]] | None = None

    def _pairs(self) -> list[tuple[str, str]]:
        shown = self._shown
        if shown is None:
            text = ((name.decode("latin-1"), value.decode("latin-1")) for name, value in self._raw)
            shown = self._shown = masked_headers(text, self._extra)
        return shown

    @overload
    def __getitem__(self, index: int) -> tuple[str, str]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[str, str]]: ...
    def __getitem__(self, index: int | slice) -> tuple[str, str] | list[tuple[str, str]]:
        return self._pairs()[index]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._pairs())

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"WireHeaders({list(self)!r})"

    def held(self) -> int:
        return _pairs_held(self._raw)


def _headers_held(headers: Sequence[tuple[str, str]]) -> int:
    """Characters of the header names and values (bytes of those not read yet), for the journal's byte bound."""
    if type(headers) is WireHeaders:  # not isinstance: WireHeaders is a Sequence, whose ABC check is slower
        return headers.held()
    return _pairs_held(headers)


def _pairs_held(pairs: Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]) -> int:
    total = 0
    for name, value in pairs:  # a plain loop: faster than sum() over a comprehension or a join for a few headers
        total += len(name) + len(value)
    return total


@dataclass(slots=True)
class Event:
    """One event of a stream as it was sent: its frame text and when, in ms after the request arrived."""

    at_ms: float
    data: str

    def as_dict(self) -> dict[str, Any]:
        return {"at_ms": round(self.at_ms, 3), "data": self.data}


@dataclass(slots=True)
class StreamTrace:
    """A streamed answer as it was sent: its bytes (up to ``limit``) and when each piece went.

    Splitting into events waits until someone looks (the page, ``/requests``), so a stream nobody opens costs
    its bytes and one mark per write, not a parse. Past the limit only the events are counted.
    """

    limit: int
    events: bool
    """An event stream (else a plain body sent late, as ``--slow-first-byte`` does)."""
    kept: bytearray = field(default_factory=bytearray)
    marks: list[tuple[float, int]] = field(default_factory=list)
    """(ms after the request arrived, where the piece ended in ``kept``)."""
    total: int = 0
    overflow_events: int = 0
    ended_ms: float | None = None
    _split: tuple[list[Event], int] | None = None

    def add(self, data: bytes, at_ms: float) -> None:
        self.total += len(data)
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += data[:room]
            self.marks.append((at_ms, len(self.kept)))
        if len(data) > room and self.events:
            rest = data[max(room, 0) :]
            self.overflow_events += max(rest.count(b"\n\n"), rest.count(b"\r\n\r\n"))

    def add_all(self, pieces: Sequence[tuple[float, bytes]]) -> None:
        """:meth:`add` for each ``(at_ms, data)``: at once when all of them fit under the limit (a stream noted
        when it is over, as the proxy notes one)."""
        size = sum(len(data) for _, data in pieces)
        if len(self.kept) + size > self.limit:
            for at_ms, data in pieces:
                self.add(data, at_ms)
            return
        end = len(self.kept)
        for at_ms, data in pieces:
            end += len(data)
            self.marks.append((at_ms, end))
        self.kept += b"".join(data for _, data in pieces)
        self.total += size

    def body(self) -> Body:
        """The bytes kept, read as text when someone looks (as a recorded body is); not copied: the stream is over,
        and the trace keeps them for its events anyway."""
        return Body.held_bytes(self.kept, self.total, self.total > len(self.kept))

    def split(self) -> tuple[list[Event], int]:
        """The events kept (each at the time its last piece went) and how many more were sent."""
        if self._split is not None:
            return self._split
        splitter = EventSplitter(self.limit)
        start = 0
        for at_ms, end in list(self.marks):
            splitter.feed(bytes(self.kept[start:end]), at_ms)
            start = end
        if self.ended_ms is None:
            return splitter.events, splitter.dropped + self.overflow_events  # still streaming: a snapshot
        if self.total == len(self.kept):
            splitter.finish(self.ended_ms)
        self._split = (splitter.events, splitter.dropped + self.overflow_events)
        return self._split


@dataclass(slots=True)
class Entry:
    """One exchange. The first six fields are the request log's record (``RequestRecord``) as it always was."""

    sequence: int
    method: str
    path: str
    operation: str
    """The matched operation's ``operationId``; empty when the request matched none."""
    status: int
    violations: list[Violation] = field(default_factory=list)
    api: str = ""
    source: str = "mock"
    """``mock`` or ``proxy``: who wrote the entry."""
    started: float = 0.0
    """When the request arrived, seconds since the epoch (the server's clock)."""
    query: str = ""
    """The query string, credential parameters masked."""
    request_headers: Sequence[tuple[str, str]] = field(default_factory=list)
    """Credentials masked (see ``recordings.credentials``)."""
    request_body: Body | None = None
    response_headers: Sequence[tuple[str, str]] = field(default_factory=list)
    response_body: Body | None = None
    events: list[Event] | None = None
    """The events of a streamed answer (None: not a stream)."""
    events_dropped: int = 0
    """Events sent but not kept, once the stream's text passed the body limit."""
    trace: StreamTrace | None = None
    """A stream the mock is sending or sent: its events are split from it when asked for (see ``stream_events``)."""
    latency_ms: float | None = None
    """From the request's arrival to the answer's last byte; None while a stream is still running."""

    @property
    def valid(self) -> bool:
        return not self.violations

    @property
    def complete(self) -> bool:
        return self.latency_ms is not None

    @property
    def verdict(self) -> str:
        """``valid``, or ``violations`` (the request or its answer broke the spec, or was refused)."""
        return "valid" if self.valid else "violations"

    def stream_events(self) -> tuple[list[Event], int] | None:
        """The events of a streamed answer and how many were not kept; None when the answer was no stream."""
        if self.trace is not None:
            return self.trace.split() if self.trace.events else None
        return None if self.events is None else (self.events, self.events_dropped)

    def size(self) -> int:
        """Bytes of text the entry holds, for the journal's byte bound."""
        size = ENTRY_OVERHEAD + len(self.path) + len(self.query)
        size += _headers_held(self.request_headers) + _headers_held(self.response_headers)
        if self.request_body is not None:
            size += self.request_body.held()
        if self.response_body is not None:
            size += self.response_body.held()
        if self.events:
            size += sum([len(event.data) for event in self.events])
        if self.violations:
            size += sum([len(violation.message) + len(violation.received) for violation in self.violations])
        if self.trace is not None and self.response_body is None:
            size += len(self.trace.kept)  # a stream still running: its bytes so far
        return size

    def as_dict(self, reveal: bool = True) -> dict[str, Any]:
        """The entry as JSON; without ``reveal`` no value a client sent or received is shown (types only)."""
        violations = self.violations if reveal else [violation.masked() for violation in self.violations]
        shown: dict[str, Any] = {
            "sequence": self.sequence,
            "method": self.method,
            "path": self.path,
            "operation": self.operation,
            "status": self.status,
            "valid": self.valid,
            "violations": [violation.as_dict() for violation in violations],
            "api": self.api,
            "source": self.source,
            "started": self.started,
            "verdict": self.verdict,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "complete": self.complete,
            "request": {"headers": [list(pair) for pair in self.request_headers]},
            "response": {"headers": [list(pair) for pair in self.response_headers]},
        }
        if not reveal:  # header names say how a client called; their values are what it sent
            shown["request"]["headers"] = [[name, HIDDEN_VALUE] for name, _ in self.request_headers]
            shown["hidden"] = HIDDEN
            return shown
        shown["query"] = self.query
        shown["request"]["body"] = self.request_body.as_dict() if self.request_body else None
        shown["response"]["body"] = self.response_body.as_dict() if self.response_body else None
        stream = self.stream_events()
        shown["response"]["events"] = None if stream is None else [event.as_dict() for event in stream[0]]
        shown["response"]["events_dropped"] = 0 if stream is None else stream[1]
        return shown


class Subscription:
    """A live viewer's queue of entries (new ones, and running streams again when they finish)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Entry] = asyncio.Queue(SUBSCRIBER_BACKLOG)

    def offer(self, entry: Entry) -> None:
        """From any thread: hand the entry to the viewer's loop (dropped when the viewer is far behind)."""
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is self.loop:  # the usual case, the server's own loop: no wake-up of the loop needed
            self._put(entry)
            return
        try:
            self.loop.call_soon_threadsafe(self._put, entry)
        except RuntimeError:  # the viewer's loop has closed: nobody is listening any more
            return

    def _put(self, entry: Entry) -> None:
        if not self.queue.full():
            self.queue.put_nowait(entry)


def _kept(raw: bytes, limit: int) -> bytes | Body:
    """What an answered exchange keeps of a body: its bytes, or, past the body limit, only the bytes under it (the
    journal's byte bound counts no more; keeping the whole answer would hold a 500 KB body under a 64 KB count)."""
    return raw if len(raw) <= limit else Body.of(raw, limit)


def _body(kept: bytes | Body, limit: int) -> Body | None:
    """The :class:`Body` of what :func:`_kept` kept (None for no body)."""
    if isinstance(kept, Body):
        return kept
    return Body.of(kept, limit) if kept else None


Answered = tuple[
    int,  # sequence
    int,  # size: bytes held, for the journal's byte bound
    str,  # method
    str,  # path
    str,  # operation
    int,  # status
    tuple[Violation, ...],
    str,  # api
    float,  # started
    bytes,  # the query string as received
    tuple[tuple[bytes, bytes], ...],  # request headers, as ASGI carries them
    bytes | Body,  # request body: its bytes, or a Body cut at the body limit
    tuple[tuple[bytes, bytes], ...],  # response headers
    bytes | Body,  # response body, likewise
    float,  # latency_ms
]
"""An exchange answered whole (no stream), kept as its parts until someone reads the journal (see
:meth:`Journal.append_answered`): one tuple of bytes, strings and numbers, which the garbage collector stops
scanning once it has seen it."""


class Journal:
    """A bounded, thread-safe list of entries (the server may run in another thread than its readers)."""

    def __init__(
        self, limit: int = DEFAULT_LIMIT, max_bytes: int = DEFAULT_MAX_BYTES, body_limit: int = DEFAULT_BODY_LIMIT
    ) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.body_limit = body_limit
        self._entries: deque[Entry | Answered] = deque()
        self._sizes: dict[int, int] = {}
        """Bytes held by each kept :class:`Entry`, by sequence (an :data:`Answered` carries its own)."""
        self._unread = 0
        """How many of the kept are still :data:`Answered`."""
        self.bytes = 0
        self._lock = threading.Lock()
        self._sequence = 0
        self._subscribers: list[Subscription] = []

    def append(self, entry: Entry) -> Entry:
        """Keep ``entry`` under the next sequence number, dropping the oldest past the bounds."""
        with self._lock:
            self._sequence += 1
            entry.sequence = self._sequence
            self._entries.append(entry)
            self._account(entry)
            subscribers = list(self._subscribers) if self._subscribers else None
        if subscribers:  # a live viewer (the dashboard) is open
            for subscriber in subscribers:
                subscriber.offer(entry)
        return entry

    def append_answered(
        self,
        method: str,
        path: str,
        operation: str,
        status: int,
        violations: tuple[Violation, ...],
        *,
        api: str,
        started: float,
        query: bytes,
        request_headers: tuple[tuple[bytes, bytes], ...],
        request_body: bytes,
        response_headers: tuple[tuple[bytes, bytes], ...],
        response_body: bytes,
        latency_ms: float,
    ) -> None:
        """Keep an exchange answered whole as its parts, under the next sequence number; it becomes an
        :class:`Entry` when someone reads the journal (most entries never are: making each at once, with its
        headers and bodies, cost a quarter of the CPU of an answer sent from memory)."""
        limit = self.body_limit
        size = (
            ENTRY_OVERHEAD
            + len(path)
            + len(query)
            + _pairs_held(request_headers)
            + _pairs_held(response_headers)
            + min(len(request_body), limit)
            + min(len(response_body), limit)
        )
        for violation in violations:
            size += len(violation.message) + len(violation.received)
        with self._lock:
            self._sequence += 1
            answered = (
                self._sequence,
                size,
                method,
                path,
                operation,
                status,
                violations,
                api,
                started,
                query,
                request_headers,
                _kept(request_body, limit),
                response_headers,
                _kept(response_body, limit),
                latency_ms,
            )
            subscribers = list(self._subscribers) if self._subscribers else None
            if subscribers:  # a live viewer (the dashboard) is open: it is shown the entry now
                entry = self._entry_of(answered)
                self._entries.append(entry)
                self._sizes[entry.sequence] = size
            else:
                self._entries.append(answered)
                self._unread += 1
            self.bytes += size
            self._trim()
        if subscribers:
            for subscriber in subscribers:
                subscriber.offer(entry)

    def _entry_of(self, answered: Answered) -> Entry:
        (sequence, _, method, path, operation, status, violations, api, started, query) = answered[:10]
        request_headers, request_body, response_headers, response_body, latency_ms = answered[10:]
        return Entry(
            sequence,
            method,
            path,
            operation,
            status,
            list(violations),
            api=api,
            started=started,
            query=masked_query(query.decode("latin-1")) if query else "",
            request_headers=WireHeaders(request_headers),
            request_body=_body(request_body, self.body_limit),
            response_headers=WireHeaders(response_headers),
            response_body=_body(response_body, self.body_limit),
            latency_ms=latency_ms,
        )

    def _read(self) -> None:
        """Every kept exchange as an :class:`Entry` (called with the lock held)."""
        entries: deque[Entry | Answered] = deque()
        for kept in self._entries:
            if isinstance(kept, Entry):
                entries.append(kept)
            else:
                entry = self._entry_of(kept)
                self._sizes[entry.sequence] = kept[1]
                entries.append(entry)
        self._entries = entries
        self._unread = 0

    def changed(self, entry: Entry) -> None:
        """``entry`` grew (a stream's events, its end): count its bytes again and show it to live viewers."""
        with self._lock:
            if entry.sequence in self._sizes:
                self._account(entry)
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.offer(entry)

    def _account(self, entry: Entry) -> None:
        size = entry.size()
        self.bytes += size - self._sizes.get(entry.sequence, 0)
        self._sizes[entry.sequence] = size
        self._trim()

    def _trim(self) -> None:
        """Drop the oldest past the bounds (called with the lock held)."""
        while self._entries and (len(self._entries) > self.limit or self.bytes > self.max_bytes):
            if len(self._entries) == 1 and len(self._entries) <= self.limit:
                return  # the newest entry stays even when it alone is over the byte bound
            dropped = self._entries.popleft()
            if isinstance(dropped, Entry):
                self.bytes -= self._sizes.pop(dropped.sequence, 0)
            else:
                self.bytes -= dropped[1]
                self._unread -= 1

    def records(self) -> list[Entry]:
        with self._lock:
            if self._unread:
                self._read()
            return list(self._entries)  # type: ignore[arg-type]  # _read left only entries

    def violations(self) -> list[Violation]:
        return [violation for entry in self.records() for violation in entry.violations]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self._unread = 0
            self.bytes = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def subscribe(self) -> Subscription:
        subscription = Subscription(asyncio.get_running_loop())
        with self._lock:
            self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)


class EventSplitter:
    """Whole events out of an event stream read in pieces cut anywhere (an event, or a UTF-8 character, may
    straddle two pieces): each event is kept, its line breaks written as ``\n``, at the time its last piece
    arrived; past ``limit`` characters of event text they are only counted."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.events: list[Event] = []
        self.dropped = 0
        self._kept = 0
        self._splitter = Splitter()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes, at_ms: float) -> None:
        self._keep(self._splitter.feed(self._decoder.decode(data)), at_ms)

    def finish(self, at_ms: float) -> None:
        """The stream ended: what is left (an event without its blank line) counts too."""
        blocks = self._splitter.feed(self._decoder.decode(b"", final=True))
        self._keep(blocks + self._splitter.finish(), at_ms)

    def _keep(self, blocks: list[Block], at_ms: float) -> None:
        for block in blocks:
            if not block.text.strip():
                continue
            event = LINE_BREAK.sub(LINE_END, block.text) + EVENT_END
            if self._kept + len(event) > self.limit:
                self.dropped += 1
                continue
            self._kept += len(event)
            self.events.append(Event(at_ms, event))
