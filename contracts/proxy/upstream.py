"""The proxy's HTTP/1.1 client to its one upstream: kept-alive connections, the answer passed on as it was framed.

A proxy in front of one origin needs little of a general client, and what httpx adds cost ~4 ms of CPU per
exchange here (its pool probes every idle socket on each request, anyio wraps every read). This client keeps a
stack of idle connections, writes the request in one piece and reads the answer with httptools (uvicorn's
parser). Body pieces come out one per HTTP chunk as the upstream wrote it (a chunk split across reads comes out
in parts, never two chunks in one), so the stream checks see how the upstream framed its events, not how TCP
happened to coalesce them; the bytes are the upstream's (content encoding untouched, chunk framing removed).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import certifi
import httptools

READ_SIZE = 65536
IDLE_SECONDS = 4.0
"""An idle connection is dropped before the upstream may drop it (uvicorn's default keep-alive is 5 s)."""
MAX_IDLE = 64


class UpstreamError(Exception):
    """The upstream could not be reached, did not answer in time, or broke the connection (``kind`` says which)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0
    used: bool = False


@dataclass(slots=True)
class _Parsed:
    """What httptools has handed over so far, for one answer."""

    reason: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    pieces: list[bytes] = field(default_factory=list)
    headers_done: bool = False
    complete: bool = False
    keep_alive: bool = False
    interim: bool = False
    parser: httptools.HttpResponseParser | None = None

    def on_message_begin(self) -> None:
        self.reason, self.headers = b"", []

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # 100 Continue, 103 Early Hints: the real answer follows
            self.interim = True
            return
        self.headers_done = True
        # llhttp answers this only until the message is complete, which may be within the same feed
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.pieces.append(bytes(body))

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        self.complete = True


class Answer:
    """An answer whose status and headers have arrived; :meth:`pieces` reads the body (once)."""

    def __init__(
        self, upstream: Upstream, connection: _Connection, parser: httptools.HttpResponseParser, parsed: _Parsed
    ) -> None:
        self.status_code = parser.get_status_code()
        self.reason_phrase = parsed.reason.decode("latin-1")
        self.headers = parsed.headers
        self._upstream = upstream
        self._connection = connection
        self._parser = parser
        self._parsed = parsed
        self._released = False

    async def pieces(self) -> AsyncIterator[bytes]:
        """The body as the upstream framed it; raises :class:`UpstreamError` when it breaks off."""
        parsed = self._parsed
        try:
            while True:
                while parsed.pieces:
                    yield parsed.pieces.pop(0)
                if parsed.complete:
                    break
                data = await self._upstream._read(self._connection)
                if not data:
                    if _ends_at_close(self.headers):
                        break
                    raise UpstreamError("RemoteProtocolError", "the upstream closed the connection mid-answer")
                _feed(self._parser, data)
            self._release(reusable=parsed.complete and parsed.keep_alive)
        finally:
            self._release(reusable=False)  # no-op once released; closes a connection left mid-answer

    async def aclose(self) -> None:
        """Give the connection up when the body is not read to its end."""
        self._release(reusable=False)

    def _release(self, reusable: bool) -> None:
        if self._released:
            return
        self._released = True
        self._upstream._release(self._connection, reusable)


class Upstream:
    """Kept-alive HTTP/1.1 connections to ``base_url`` (``http(s)://host:port[/prefix]``)."""

    def __init__(self, base_url: str, timeout: float, connect_timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        self.secure = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.secure else 80)
        self.authority = parts.netloc
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._idle: list[_Connection] = []
        self._ssl = _trusted() if self.secure else None

    async def send(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """Send a request (``target``: path and query, below the prefix) and wait for the answer's headers.

        A kept-alive connection the upstream closed meanwhile gets the request again on a new one, only when
        not one byte of an answer came back on it."""
        head = self._head(method, target, headers, body)
        while True:  # ends: a new connection is never stale
            connection = self._idle_connection() or await self._connect()
            try:
                return await self._exchange(connection, head, body, method)
            except _StaleConnection:
                self._close(connection)
            except BaseException:
                self._close(connection)
                raise

    async def aclose(self) -> None:
        while self._idle:
            self._close(self._idle.pop())

    def _head(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
        lines = [f"{method} {self.prefix}{target} HTTP/1.1", f"host: {self.authority}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            lines.append(f"content-length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _exchange(self, connection: _Connection, head: bytes, body: bytes, method: str) -> Answer:
        connection.writer.write(head + body if len(body) < READ_SIZE else head)
        if len(body) >= READ_SIZE:
            connection.writer.write(body)
        parsed = _Parsed()
        parser = parsed.parser = httptools.HttpResponseParser(parsed)
        received = False
        while not parsed.headers_done:
            try:
                data = await self._read(connection)
            except UpstreamError:
                if connection.used and not received:
                    raise _StaleConnection from None
                raise
            if not data:
                if connection.used and not received:
                    raise _StaleConnection
                raise UpstreamError("RemoteProtocolError", "the upstream closed the connection before answering")
            received = True
            _feed(parser, data)
        if method == "HEAD" or parser.get_status_code() in (204, 304):
            parsed.complete = True  # no body follows, whatever the headers announce
        return Answer(self, connection, parser, parsed)

    async def _read(self, connection: _Connection) -> bytes:
        try:
            async with asyncio.timeout(self.timeout):
                return await connection.reader.read(READ_SIZE)
        except TimeoutError:
            raise UpstreamError("ReadTimeout", f"no byte from the upstream in {self.timeout:g} s") from None
        except OSError as error:
            raise UpstreamError("ReadError", str(error)) from None

    async def _connect(self) -> _Connection:
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=self._ssl, server_hostname=self.host if self._ssl else None
                )
        except TimeoutError:
            detail = f"{self.authority} did not accept within {self.connect_timeout:g} s"
            raise UpstreamError("ConnectTimeout", detail) from None
        except OSError as error:
            raise UpstreamError("ConnectError", str(error)) from None
        return _Connection(reader, writer)

    def _idle_connection(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since < IDLE_SECONDS and not connection.reader.at_eof():
                return connection
            self._close(connection)
        return None

    def _release(self, connection: _Connection, reusable: bool) -> None:
        if not reusable or len(self._idle) >= MAX_IDLE or connection.reader.at_eof():
            self._close(connection)
            return
        connection.used = True
        connection.idle_since = time.monotonic()
        self._idle.append(connection)

    @staticmethod
    def _close(connection: _Connection) -> None:
        with contextlib.suppress(Exception):  # closing a transport the peer already dropped may raise anything
            connection.writer.close()


def _trusted() -> ssl.SSLContext:
    """The system's trusted certificates (and ``SSL_CERT_FILE``'s) plus Mozilla's bundle from certifi, as httpx
    trusts: a python.org build on macOS has no system store of its own."""
    context = ssl.create_default_context()
    context.load_verify_locations(certifi.where())
    return context


class _StaleConnection(Exception):
    """A reused connection the upstream had closed: the request may go again on a new one."""


def _feed(parser: httptools.HttpResponseParser, data: bytes) -> None:
    try:
        parser.feed_data(data)
    except httptools.HttpParserError as error:
        raise UpstreamError("RemoteProtocolError", f"the upstream's answer is not HTTP/1.1: {error}") from None


def _ends_at_close(headers: list[tuple[str, str]]) -> bool:
    """An answer without a length or chunking ends when the connection does (RFC 9112 §6.3)."""
    names = {name.lower() for name, _ in headers}
    return "content-length" not in names and "transfer-encoding" not in names
