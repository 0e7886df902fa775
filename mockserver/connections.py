"""Connection limits for ``apitwin serve``: what uvicorn does not bound by itself.

uvicorn closes a keep-alive connection that stays idle after an answer, but a connection that
never finishes its request line and headers is held for ever, and neither the number nor the
size of headers is limited. :class:`LimitedHttpToolsProtocol` adds, per connection:

- a header deadline: the request line and headers must arrive within ``header_timeout`` seconds
  of the connection opening (or of the first byte of the next request on a kept-alive one);
  a partial request then gets ``408``, a silent connection is closed;
- at most ``max_headers`` header fields and ``max_header_bytes`` bytes of URL and headers, else ``431``;
- an answer's status line and headers leave with the first piece of its body, in one system call (see
  :class:`JoinedWrites`).

The body's own deadline is the app's (``Options.body_timeout``: a ``408`` in the API's shape).
Limits reach worker processes through an environment variable, as the app's options do.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from dataclasses import asdict, dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ENVIRONMENT = "APITWIN_CONNECTION_LIMITS"
WORKER_HEALTHCHECK_SECONDS = 60
"""How long a worker may leave uvicorn's supervisor's ping unanswered before it is replaced."""


@dataclass(frozen=True, slots=True)
class Limits:
    header_timeout: float = 10.0
    """Seconds from a connection (or a new request on it) to the end of its headers."""
    keep_alive: int = 5
    """Seconds an idle connection is kept open after an answer."""
    max_headers: int = 100
    max_header_bytes: int = 64 * 1024
    """Bytes of request target, header names and values together."""
    max_connections: int = 1000
    """Open connections and running requests; more get ``503`` at once instead of exhausting file descriptors."""

    def export(self) -> None:
        """Make these the limits of every protocol instance, in this process and in worker processes."""
        os.environ[ENVIRONMENT] = json.dumps(asdict(self))

    @classmethod
    def current(cls) -> Limits:
        text = os.environ.get(ENVIRONMENT)
        return cls(**json.loads(text)) if text else cls()

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments for ``uvicorn.run``."""
        return {
            "http": LimitedHttpToolsProtocol,
            "timeout_keep_alive": self.keep_alive,
            "limit_concurrency": self.max_connections,
            # A worker compiling its specs on a busy host holds the interpreter for seconds; uvicorn's
            # 5 s health check then kills it and starts another, which compiles again, for ever.
            "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
            # At log level warning no access line is ever shown, but uvicorn still formats one per request
            # (client address, quoted path) unless the access log is off.
            "access_log": False,
        }


class _HeadersTooLarge(Exception):
    """Raised inside a parser callback; httptools hands it back as the cause of its own error."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and header limits (see the module docstring)."""

    limits: Limits | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if LimitedHttpToolsProtocol.limits is None:
            LimitedHttpToolsProtocol.limits = Limits.current()
        self._limits: Limits = LimitedHttpToolsProtocol.limits
        self._deadline: Any = None
        self._header_count = 0
        self._header_bytes = 0
        self._received = False
        self._in_headers = False
        """A request has begun and its headers are not all here yet."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._received = True
        self._flush()  # a held head leaves before anything parsed from ``data`` is written (a 400, a 431)
        super().data_received(data)
        if self._in_headers and self._deadline is None and not self.transport.is_closing():
            # Armed only for headers still incomplete when the data read so far is parsed (in the same turn of the
            # loop as the request's first byte): most requests arrive whole, and need no timer pushed and cancelled.
            self._arm()

    def shutdown(self) -> None:
        self._flush()
        super().shutdown()

    def _flush(self) -> None:
        """Send the head the answer being made holds. Only that one can hold one: uvicorn stops reading while a
        pipelined request waits its turn, so no other answer has started."""
        if self.cycle is not None and isinstance(self.cycle.transport, JoinedWrites):
            self.cycle.transport.flush()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0
        self._header_bytes = 0
        self._in_headers = True

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._header_bytes += len(url)
        if self._header_bytes > self._limits.max_header_bytes:
            self._too_large()

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._header_count += 1
        self._header_bytes += len(name) + len(value)
        if self._header_count > self._limits.max_headers or self._header_bytes > self._limits.max_header_bytes:
            self._too_large()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._disarm()
        super().on_headers_complete()
        if self.cycle is not None and not isinstance(self.cycle.transport, JoinedWrites):
            self.cycle.transport = JoinedWrites(self.transport, self.loop)  # type: ignore[assignment]

    def _too_large(self) -> None:
        """Stop parsing (the counts are checked in the parser's callbacks, each header as it is read)."""
        limits = self._limits
        if self._header_count > limits.max_headers:
            raise _HeadersTooLarge(f"more than {limits.max_headers} header fields")
        raise _HeadersTooLarge(f"request line and headers longer than {limits.max_header_bytes} bytes")

    def send_400_response(self, msg: str) -> None:
        """httptools reports a callback's exception as a parser error: answer a limit with 431, not 400."""
        cause = self._callback_cause()
        if isinstance(cause, _HeadersTooLarge):
            self._refuse(431, str(cause))
            return
        super().send_400_response(msg)

    def _callback_cause(self) -> BaseException | None:
        error = sys.exc_info()[1]  # called while uvicorn handles httptools' error
        return error.__context__ if error is not None else None

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self._limits.header_timeout, self._header_timeout)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _header_timeout(self) -> None:
        self._deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered; its body has the app's own deadline
        if not self._received:
            self.transport.close()  # opened and never used: nothing to answer
            return
        self._refuse(408, f"request headers not received within {self._limits.header_timeout:g} s")

    def _refuse(self, status: int, reason: str) -> None:
        phrase = {408: "Request Timeout", 431: "Request Header Fields Too Large"}[status]
        body = f"{reason}\n".encode()
        head = (
            f"HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        if not self.transport.is_closing():
            self.transport.write(head.encode() + body)
            self.transport.close()
        self.logger.info("refused a connection from %s: %s %s", self.client, status, reason)


class JoinedWrites:
    """The connection as one answer (a uvicorn request cycle) writes to it: its status line and headers wait for the
    first piece of its body and leave with it in one system call.

    uvicorn writes the head when the app starts an answer and the body when the app sends it: two sends on every
    answer where one will do, each costing on loopback about as much CPU as the rest of uvicorn's work on the
    request. A head whose body does not follow in the same turn of the event loop (a first byte held back, a stream
    waiting for its first event) leaves on the next turn, alone, as before; every later write goes straight through.
    A cycle calls ``write``, ``is_closing`` and ``close`` of its transport, nothing else.
    """

    __slots__ = ("_head", "_loop", "_started", "_transport")

    def __init__(self, transport: Any, loop: Any) -> None:
        self._transport = transport
        self._loop = loop
        self._started = False
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if not self._started:  # the first write of an answer is its head
            self._started = True
            self._head = data
            self._loop.call_soon(self.flush)
            return
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.writelines((head, data))
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def is_closing(self) -> bool:
        return bool(self._transport.is_closing())

    def close(self) -> None:
        self.flush()
        self._transport.close()


def raise_file_limit() -> int:
    """Raise the soft limit of open files to the hard one (idle clients then exhaust far later); the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
        return hard
    return soft
