"""The proxy's upstream client against a scripted HTTP/1.1 server on loopback: framing, keep-alive, failures, and
the environment's forward proxy."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from apitwin.contracts.proxy import upstream as upstream_module
from apitwin.contracts.proxy.upstream import Upstream, UpstreamError, forward_proxy

FIXTURES = Path(__file__).parent / "fixtures"
CERT, KEY = FIXTURES / "loopback-tls-cert.pem", FIXTURES / "loopback-tls-key.pem"
"""A self-signed certificate for 127.0.0.1 (100 years), made for this test with openssl; its key protects nothing."""
Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, list[bytes]], Awaitable[None]]


async def request_head(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    return head + await reader.readexactly(length)


def run(script: Script, exercise: Callable[[Upstream], Awaitable[object]], prefix: str = "") -> tuple[object, list]:
    """Serve ``script`` on a free port, run ``exercise`` against it; what it returned and the requests seen."""
    seen: list[bytes] = []
    connections: list[int] = []

    async def main() -> object:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(1)
            try:
                await script(reader, writer, seen)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        upstream = Upstream(f"http://127.0.0.1:{port}{prefix}", timeout=5)
        try:
            return await exercise(upstream)
        finally:
            await upstream.aclose()
            server.close()

    result = asyncio.run(main())
    return result, [len(connections), *seen]


async def body_of(upstream: Upstream, method: str = "POST", body: bytes = b"{}") -> tuple[int, list[bytes]]:
    answer = await upstream.send(method, "/v1/x?a=1", [(b"content-type", b"application/json")], body)
    return answer.status_code, [piece async for piece in answer.pieces()]


def test_each_chunk_comes_out_as_the_upstream_framed_it_even_when_tcp_joins_them():
    async def script(reader, writer, seen):
        seen.append(await request_head(reader))
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            b"7\r\ndata: 1\r\n7\r\ndata: 2\r\n7\r\ndata: 3\r\n0\r\n\r\n"
        )  # one write: the three chunks arrive in one read
        await writer.drain()

    (status, pieces), (_, request) = run(script, body_of, prefix="/base")
    assert status == 200 and pieces == [b"data: 1", b"data: 2", b"data: 3"]
    assert request.startswith(b"POST /base/v1/x?a=1 HTTP/1.1\r\nhost: 127.0.0.1:")
    assert b"content-type: application/json\r\ncontent-length: 2\r\n\r\n{}" in request


def test_connections_are_kept_alive_and_one_the_upstream_closed_meanwhile_is_replaced():
    async def script(reader, writer, seen):
        for _ in range(2):  # two answers on this connection, then it is closed without a word
            seen.append(await request_head(reader))
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()

    async def three(upstream: Upstream) -> list[tuple[int, list[bytes]]]:
        answers = [await body_of(upstream) for _ in range(2)]
        await asyncio.sleep(0)  # the close reaches the idle connection (or not: the resend covers both)
        answers.append(await body_of(upstream))
        return answers

    answers, (connections, *requests) = run(script, three)
    assert answers == [(200, [b"ok"])] * 3
    assert (connections, len(requests)) == (2, 3)


def test_an_answer_that_ends_with_the_connection_is_read_to_its_end():
    async def script(reader, writer, seen):
        seen.append(await request_head(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        await writer.drain()

    (status, pieces), _ = run(script, body_of)
    assert (status, b"".join(pieces)) == (200, b"all of it")


def test_a_body_cut_short_is_an_error_after_the_bytes_that_came():
    async def script(reader, writer, seen):
        seen.append(await request_head(reader))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")
        await writer.drain()

    async def exercise(upstream: Upstream) -> tuple[list[bytes], str]:
        answer = await upstream.send("GET", "/", [], b"")
        pieces: list[bytes] = []
        with pytest.raises(UpstreamError) as broken:
            async for piece in answer.pieces():
                pieces.append(piece)
        return pieces, broken.value.kind

    result, _ = run(script, exercise)
    assert result == ([b"half"], "RemoteProtocolError")


def test_a_head_answer_has_no_body_whatever_its_length_says():
    async def script(reader, writer, seen):
        seen.append(await request_head(reader))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 120\r\n\r\n")
        await writer.drain()

    (status, pieces), (_, request) = run(script, lambda upstream: body_of(upstream, "HEAD", b""))
    assert (status, pieces) == (200, [])
    assert b"content-length" not in request


def test_an_upstream_that_is_not_there_is_a_connect_error():
    async def exercise() -> str:
        server = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(UpstreamError) as refused:
            await Upstream(f"http://127.0.0.1:{port}", timeout=5).send("GET", "/", [], b"")
        return refused.value.kind

    assert asyncio.run(exercise()) == "ConnectError"


def test_an_answer_that_is_not_http_is_a_protocol_error():
    async def script(reader, writer, seen):
        seen.append(await request_head(reader))
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()

    async def exercise(upstream: Upstream) -> str:
        with pytest.raises(UpstreamError) as refused:
            await upstream.send("GET", "/", [], b"")
        return refused.value.kind

    kind, _ = run(script, exercise)
    assert kind == "RemoteProtocolError"


def test_an_interim_answer_is_skipped_for_the_final_one():
    async def script(reader, writer, seen):
        seen.append(await request_head(reader))
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nx-final: yes\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()

    async def exercise(upstream: Upstream) -> tuple[int, list[tuple[str, str]], bytes]:
        answer = await upstream.send("POST", "/", [], b"{}")
        return answer.status_code, answer.headers, b"".join([piece async for piece in answer.pieces()])

    result, _ = run(script, exercise)
    assert result == (200, [("x-final", "yes"), ("content-length", "2")], b"ok")


def test_an_https_upstream_is_verified_and_kept_alive(monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(CERT))  # what the proxy's default context trusts, besides the system's
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(CERT, KEY)
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        for _ in range(2):
            await request_head(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecure")
            await writer.drain()

    async def main() -> list[tuple[int, list[bytes]]]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=served)
        upstream = Upstream(f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}", timeout=5)
        try:
            return [await body_of(upstream) for _ in range(2)]
        finally:
            await upstream.aclose()
            server.close()

    assert asyncio.run(main()) == [(200, [b"secure"])] * 2
    assert len(connections) == 1


def test_an_https_upstream_with_an_untrusted_certificate_is_refused():
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(CERT, KEY)

    async def main() -> str:
        server = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0, ssl=served)
        try:
            with pytest.raises(UpstreamError) as refused:
                await Upstream(f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}", timeout=5).send(
                    "GET", "/", [], b""
                )
            return f"{refused.value.kind}: {refused.value}"
        finally:
            server.close()

    assert "certificate verify failed" in asyncio.run(main())


class ForwardProxy:
    """A forward proxy on loopback: answers plain requests itself (noting their request line) and tunnels
    ``CONNECT`` to the address it names; it notes every request line and ``Proxy-Authorization`` it gets."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.authorizations: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await request_head(reader)
                line = head.split(b"\r\n", 1)[0]
                self.lines.append(line)
                self.authorizations += [
                    header.split(b":", 1)[1].strip()
                    for header in head.split(b"\r\n")
                    if header.lower().startswith(b"proxy-authorization:")
                ]
                if line.startswith(b"CONNECT "):
                    await self._tunnel(line.split(b" ")[1].decode(), reader, writer)
                    return
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nproxied")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _tunnel(self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = target.rsplit(":", 1)
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True)


def test_the_environments_forward_proxy_is_used_as_httpx_would(monkeypatch):
    """An http upstream through HTTP_PROXY (absolute form, the proxy's credentials sent to it); an https one
    through a CONNECT tunnel of HTTPS_PROXY, its certificate verified inside the tunnel."""
    monkeypatch.setenv("SSL_CERT_FILE", str(CERT))
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(CERT, KEY)
    proxy = ForwardProxy()

    async def tls_origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await request_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecure")
        await writer.drain()
        writer.close()

    async def main() -> list[tuple[int, list[bytes]]]:
        forward = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
        origin = await asyncio.start_server(tls_origin, "127.0.0.1", 0, ssl=served)
        proxy_url = f"http://user:p%40ss@127.0.0.1:{forward.sockets[0].getsockname()[1]}"
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.setenv("HTTPS_PROXY", proxy_url)
        plain = Upstream("http://gateway.example:8080/base", timeout=5)
        secure = Upstream(f"https://127.0.0.1:{origin.sockets[0].getsockname()[1]}", timeout=5)
        secure.via = plain.via  # a loopback upstream goes direct; the certificate here is 127.0.0.1's
        try:
            return [await body_of(plain), await body_of(secure)]
        finally:
            await plain.aclose()
            await secure.aclose()
            forward.close()
            origin.close()

    assert asyncio.run(main()) == [(200, [b"proxied"]), (200, [b"secure"])]
    assert proxy.lines[0] == b"POST http://gateway.example:8080/base/v1/x?a=1 HTTP/1.1"
    assert proxy.lines[1].startswith(b"CONNECT 127.0.0.1:") and len(proxy.lines) == 2
    assert proxy.authorizations == [b"Basic dXNlcjpwQHNz"] * 2  # user:p@ss


def test_no_proxy_and_loopback_upstreams_go_direct(monkeypatch):
    environment = {"https": "http://proxy.corp:3128", "http": "http://proxy.corp:3128", "no": "internal.corp,.lan"}
    assert forward_proxy("https", "api.example.com", 443, environment) == upstream_module.ForwardProxy(
        "proxy.corp", 3128, b""
    )
    assert forward_proxy("https", "gw.internal.corp", 443, environment) is None
    assert forward_proxy("http", "box.lan", 80, environment) is None
    assert forward_proxy("http", "127.0.0.1", 4010, environment) is None
    assert forward_proxy("http", "localhost", 4010, environment) is None
    assert forward_proxy("http", "api.example.com", 80, {"all": "proxy.corp:8080"}) is not None
    assert forward_proxy("http", "api.example.com", 80, {}) is None
    with pytest.raises(ValueError, match="not an http:// URL"):
        forward_proxy("https", "api.example.com", 443, {"https": "socks5://proxy.corp:1080"})


def test_the_command_refuses_a_forward_proxy_it_cannot_go_through():
    from apitwin.contracts.proxy.cli import proxy_command

    result = CliRunner().invoke(
        proxy_command,
        ["lmdeploy", "--upstream", "https://gateway.example"],
        env={"HTTPS_PROXY": "socks5://proxy.corp:1080", "NO_PROXY": ""},
    )
    assert result.exit_code == 2 and "socks5://proxy.corp:1080" in result.output and "not an http://" in result.output


class ManualClock:
    """The loop's clock and timers as the connection sees them, moved by the test."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.now = loop, 0.0
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        self.timers.append((when, callback))
        return asyncio.TimerHandle(when, callback, (), self.loop)

    def create_future(self) -> asyncio.Future[None]:
        return self.loop.create_future()

    def advance(self, to: float) -> None:
        self.now = to
        due = [timer for timer in self.timers if timer[0] <= to]
        self.timers = [timer for timer in self.timers if timer[0] > to]
        for _, callback in due:
            callback()


def test_a_read_times_out_counted_from_the_last_byte_not_from_the_start_of_the_wait():
    async def main() -> list[str | None]:
        clock = ManualClock(asyncio.get_running_loop())
        connection = upstream_module._Connection(clock)  # type: ignore[arg-type]
        connection.begin()
        waiting = asyncio.ensure_future(connection.wait(10.0))
        await asyncio.sleep(0)
        clock.advance(6.0)
        connection.data_received(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")  # a byte at 6 s
        await waiting
        seen = [None if connection.failure is None else connection.failure.kind]
        waiting = asyncio.ensure_future(connection.wait(10.0))
        await asyncio.sleep(0)
        clock.advance(10.0)  # the timer set at the start comes due: 4 s since the last byte, so it moves on
        seen.append(None if connection.failure is None else connection.failure.kind)
        clock.advance(16.0)  # 10 s without a byte
        await waiting
        seen.append(None if connection.failure is None else connection.failure.kind)
        return seen

    assert asyncio.run(main()) == [None, None, "ReadTimeout"]
