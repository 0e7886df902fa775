"""The proxy's HTTP/1.1 client to its one upstream: kept-alive connections, the answer passed on as it was framed.

A proxy in front of one origin needs little of a general client, and what httpx adds cost ~4 ms of CPU per
exchange here (its pool probes every idle socket on each request, anyio wraps every read). This client keeps a
stack of idle connections, writes the request in one piece and reads the answer with httptools (uvicorn's
parser) straight from the transport: each connection is an :class:`asyncio.Protocol` whose bytes go into the
parser as they arrive, with no stream buffer in between and one idle timer per exchange, not one per read. Body
pieces come out one per HTTP chunk as the upstream wrote it (a chunk split across reads comes out in parts,
never two chunks in one), so the stream checks see how the upstream framed its events, not how TCP happened to
coalesce them; the bytes and the headers are the upstream's (content encoding untouched, chunk framing removed).

Like httpx (whose ``trust_env`` this client replaced), the environment's forward proxy is honoured: an ``https``
upstream is reached through a ``CONNECT`` tunnel of ``HTTPS_PROXY``, an ``http`` one through ``HTTP_PROXY`` (the
request in absolute form), ``ALL_PROXY`` when the other is unset, none for a host ``NO_PROXY`` names nor for a
loopback one; credentials in the proxy's URL go as ``Proxy-Authorization: Basic``. A gateway behind a company's
egress proxy is reached as the application reaches it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment  # type: ignore[attr-defined]

import certifi
import httptools

IDLE_SECONDS = 4.0
"""An idle connection is dropped before the upstream may drop it (uvicorn's default keep-alive is 5 s)."""
MAX_IDLE = 64
PAUSE_BYTES = 256 * 1024
"""Body bytes held for a client that has not taken them yet before the upstream is asked to wait (TCP does)."""


class UpstreamError(Exception):
    """The upstream could not be reached, did not answer in time, or broke the connection (``kind`` says which)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


class _StaleConnection(Exception):
    """A reused connection the upstream had closed: the request may go again on a new one."""


class _Connection(asyncio.Protocol):
    """One kept-alive connection and the answer it is reading (httptools calls the ``on_*`` methods)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.used = False
        """It carried an answer before (a request on it may meet a close the upstream sent meanwhile)."""
        self.idle_since = 0.0
        self.last_read = 0.0
        self.received = False
        """A byte of the current answer came."""
        self.failure: UpstreamError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timeout = 0.0
        self._paused = False
        self.handshake: bytearray | None = None
        """The forward proxy's answer to ``CONNECT`` while it is read."""
        self._start(None)

    def _start(self, parser: httptools.HttpResponseParser | None) -> None:
        self.parser = parser
        self.reason = b""
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.pieces: deque[bytes] = deque()
        self.held = 0
        self.headers_done = self.complete = self.keep_alive = self.interim = False

    def begin(self) -> None:
        """A new answer follows (a new parser: one that saw a HEAD answer's length expects a body)."""
        self._start(httptools.HttpResponseParser(self))
        self.received = False
        self.failure = None
        self.last_read = self.loop.time()

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def data_received(self, data: bytes) -> None:
        if self.handshake is not None:
            self.handshake += data
            self.last_read = self.loop.time()
            self._wake()
            return
        if self.parser is None:  # bytes while idle: nothing can follow them on this connection
            self.close()
            return
        self.received = True
        self.last_read = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self.failure = UpstreamError("RemoteProtocolError", f"the upstream's answer is not HTTP/1.1: {error}")
        if self.held > PAUSE_BYTES and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if exc is not None and self.failure is None and self.parser is not None:
            self.failure = UpstreamError("ReadError", str(exc))
        self._wake()

    # -- httptools

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # 100 Continue, 103 Early Hints: the real answer follows
            self.interim = True
            self.reason, self.raw_headers = b"", []
            return
        self.headers_done = True
        # llhttp answers this only until the message is complete, which may be within the same feed
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.pieces.append(body)
        self.held += len(body)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        self.complete = True

    # -- the reader's side

    def take(self) -> bytes:
        piece = self.pieces.popleft()
        self.held -= len(piece)
        if self._paused and self.held <= PAUSE_BYTES // 4 and self.transport is not None:
            self._paused = False
            self.last_read = self.loop.time()  # the wait was the client's, not the upstream's
            self.transport.resume_reading()
        return piece

    async def wait(self, timeout: float) -> None:
        """Until the upstream sends something or goes away; :class:`UpstreamError` after ``timeout`` seconds
        without a byte. One timer per connection, moved on only when it comes due, not one per read."""
        self._waiter = self.loop.create_future()
        self._timeout = timeout
        if self._timer is None:
            self._timer = self.loop.call_at(self.last_read + timeout, self._check_idle)
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _check_idle(self) -> None:
        self._timer = None
        if self._waiter is None:
            return  # nobody is waiting: the next wait sets the timer again
        due = self.last_read + self._timeout
        if self.loop.time() < due:
            self._timer = self.loop.call_at(due, self._check_idle)
            return
        if self.failure is None:
            self.failure = UpstreamError("ReadTimeout", f"no byte from the upstream in {self._timeout:g} s")
        self._wake()

    def stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def idle(self) -> None:
        self.stop_timer()
        self.parser = None
        self.used = True
        self.idle_since = time.monotonic()

    def close(self) -> None:
        self.closed = True
        self.stop_timer()
        if self.transport is not None:
            with contextlib.suppress(Exception):  # closing a transport the peer already dropped may raise anything
                self.transport.close()


class Answer:
    """An answer whose status and headers have arrived; :meth:`pieces` reads the body (once)."""

    def __init__(self, upstream: Upstream, connection: _Connection, status: int) -> None:
        self.status_code = status
        self.raw_headers = connection.raw_headers
        """As the upstream sent them (names in its case), for passing on unchanged."""
        self._reason = connection.reason
        self._headers: list[tuple[str, str]] | None = None
        self._upstream = upstream
        self._connection = connection
        self._released = False

    @property
    def reason_phrase(self) -> str:
        return self._reason.decode("latin-1")

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The headers as text."""
        if self._headers is None:
            self._headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self.raw_headers]
        return self._headers

    async def pieces(self) -> AsyncIterator[bytes]:
        """The body as the upstream framed it; raises :class:`UpstreamError` when it breaks off."""
        connection = self._connection
        try:
            while True:
                while connection.pieces:
                    yield connection.take()
                if connection.complete:
                    break
                if connection.failure is not None:
                    raise connection.failure
                if connection.closed:
                    if _ends_at_close(self.raw_headers):
                        break
                    raise UpstreamError("RemoteProtocolError", "the upstream closed the connection mid-answer")
                await connection.wait(self._upstream.timeout)
            self._release(reusable=connection.keep_alive)
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
        self.via = forward_proxy(parts.scheme, self.host, self.port, getproxies_environment())
        """The forward proxy the environment names for this upstream, None to connect directly."""
        origin = f"{parts.scheme}://{self.authority}" if self.via is not None and not self.secure else ""
        self._target_prefix = origin + self.prefix

    async def send(self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        """Send a request (``target``: path and query, below the prefix; ``headers`` as they go on the wire) and
        wait for the answer's headers.

        A kept-alive connection the upstream closed meanwhile gets the request again on a new one, only when
        not one byte of an answer came back on it."""
        head = self._head(method, target, headers, body)
        while True:  # ends: a new connection is never stale
            connection = self._idle_connection() or await self._connect()
            try:
                return await self._exchange(connection, head, body, method)
            except _StaleConnection:
                connection.close()
            except BaseException:
                connection.close()
                raise

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def _head(self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
        lines = [f"{method} {self._target_prefix}{target} HTTP/1.1\r\nhost: {self.authority}\r\n".encode("latin-1")]
        if self.via is not None and not self.secure and self.via.authorization:
            lines.append(b"proxy-authorization: " + self.via.authorization + b"\r\n")
        for name, value in headers:
            lines += (name, b": ", value, b"\r\n")
        if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            lines.append(b"content-length: %d\r\n" % len(body))
        lines.append(b"\r\n")
        return b"".join(lines)

    async def _exchange(self, connection: _Connection, head: bytes, body: bytes, method: str) -> Answer:
        assert connection.transport is not None
        connection.begin()
        connection.transport.write(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            connection.transport.write(body)
        while not connection.headers_done:
            if connection.failure is not None:
                if connection.used and not connection.received:
                    raise _StaleConnection
                raise connection.failure
            if connection.closed:
                if connection.used and not connection.received:
                    raise _StaleConnection
                raise UpstreamError("RemoteProtocolError", "the upstream closed the connection before answering")
            await connection.wait(self.timeout)
        assert connection.parser is not None
        status = connection.parser.get_status_code()
        if method == "HEAD" or status in (204, 304):
            connection.complete = True  # no body follows, whatever the headers announce
            connection.pieces.clear()
        return Answer(self, connection, status)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        via = self.via
        host, port = (via.host, via.port) if via is not None else (self.host, self.port)
        secure = self._ssl if via is None else None  # through a proxy, TLS starts inside the tunnel
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop), host, port, ssl=secure, server_hostname=self.host if secure else None
                )
                if via is not None and self._ssl is not None:
                    await self._tunnel(loop, connection, via, self._ssl)
        except TimeoutError:
            detail = f"{self.authority} did not accept within {self.connect_timeout:g} s"
            raise UpstreamError(
                "ConnectTimeout", detail + (f" (through {via.host}:{via.port})" if via else "")
            ) from None
        except OSError as error:
            raise UpstreamError("ConnectError", str(error)) from None
        return connection

    async def _tunnel(
        self, loop: asyncio.AbstractEventLoop, connection: _Connection, via: ForwardProxy, context: ssl.SSLContext
    ) -> None:
        """``CONNECT`` through the forward proxy, then TLS with the upstream inside the tunnel."""
        assert connection.transport is not None
        authority = f"{self.host}:{self.port}"
        request = f"CONNECT {authority} HTTP/1.1\r\nhost: {authority}\r\n".encode("latin-1")
        if via.authorization:
            request += b"proxy-authorization: " + via.authorization + b"\r\n"
        connection.handshake = bytearray()
        connection.last_read = loop.time()
        connection.transport.write(request + b"\r\n")
        while b"\r\n\r\n" not in connection.handshake:
            if connection.failure is not None:
                connection.close()
                raise connection.failure
            if connection.closed:
                connection.close()
                raise UpstreamError("ProxyError", f"the proxy {via.host}:{via.port} closed the tunnel it was asked for")
            await connection.wait(self.connect_timeout)
        status_line = bytes(connection.handshake).split(b"\r\n", 1)[0].decode("latin-1")
        connection.handshake = None
        connection.stop_timer()  # it ran for the connect timeout; reads set their own
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit() or not 200 <= int(parts[1]) < 300:
            connection.close()
            raise UpstreamError("ProxyError", f"the proxy {via.host}:{via.port} refused the tunnel: {status_line}")
        transport = await loop.start_tls(connection.transport, connection, context, server_hostname=self.host)
        if transport is None:
            connection.close()
            raise UpstreamError("ProxyError", "TLS could not start inside the tunnel")
        connection.transport = transport

    def _idle_connection(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since < IDLE_SECONDS and not connection.closed:
                return connection
            connection.close()
        return None

    def _release(self, connection: _Connection, reusable: bool) -> None:
        spoilt = connection.closed or not connection.complete or connection.failure is not None
        if not reusable or spoilt or len(self._idle) >= MAX_IDLE:
            connection.close()
            return
        connection.idle()
        self._idle.append(connection)


@dataclass(frozen=True, slots=True)
class ForwardProxy:
    host: str
    port: int
    authorization: bytes
    """``Basic …`` from the URL's user and password; empty without them."""


def forward_proxy(scheme: str, host: str, port: int, environment: Mapping[str, str]) -> ForwardProxy | None:
    """The forward proxy ``environment`` (``getproxies_environment()``: ``HTTPS_PROXY`` as ``https`` and so on)
    names for an upstream at ``scheme://host:port``; None when it names none or ``NO_PROXY`` exempts the host."""
    url = environment.get(scheme) or environment.get("all")
    if not url or _is_loopback(host) or proxy_bypass_environment(f"{host}:{port}", dict(environment)):
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"the forward proxy {url!r} is not an http:// URL (the only kind apitwin proxy goes through)")
    authorization = b""
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = b"Basic " + base64.b64encode(pair)
    return ForwardProxy(parts.hostname, parts.port or 80, authorization)


def _is_loopback(host: str) -> bool:
    """A gateway on this machine is never reached through a forward proxy (Go's rule for ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _trusted() -> ssl.SSLContext:
    """The system's trusted certificates (and ``SSL_CERT_FILE``'s) plus Mozilla's bundle from certifi, as httpx
    trusts: a python.org build on macOS has no system store of its own."""
    context = ssl.create_default_context()
    context.load_verify_locations(certifi.where())
    return context


def _ends_at_close(headers: list[tuple[bytes, bytes]]) -> bool:
    """An answer without a length or chunking ends when the connection does (RFC 9112 §6.3)."""
    names = {name.lower() for name, _ in headers}
    return b"content-length" not in names and b"transfer-encoding" not in names
