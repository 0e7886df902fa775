"""Issue 16, point 4, on a real `apitwin serve`: header and body deadlines, header limits, idle connections,
and a client that leaves mid-body logged as one line. Raw sockets on loopback, so nothing is tidied up for us."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import API_KEY, answers, free_port, stop

pytestmark = pytest.mark.e2e

LIMITS = ["--header-timeout", "0.5", "--body-timeout", "0.5", "--max-headers", "50", "--max-header-bytes", "8192"]


@contextlib.contextmanager
def serving_with_log(directory: Path, *args: str) -> Iterator[tuple[int, Path]]:
    """``apitwin serve`` with its output in a file of ``directory``; yields the port and the file."""
    port = free_port()
    log = directory / "serve.log"
    command = [sys.executable, "-m", "apitwin", "serve", *args, "--state", "memory", "--port", str(port)]
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not answers(f"http://127.0.0.1:{port}"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"apitwin serve did not start: {log.read_text()}")
            time.sleep(0.1)
        yield port, log
    finally:
        stop(process)


def exchange(port: int, data: bytes, *, close_after: bool = False) -> bytes:
    """Send ``data`` on a fresh connection and read until the server closes it (a guard of 20 s, never reached)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(data)
        if close_after:
            return b""
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    with serving_with_log(tmp_path_factory.mktemp("serve"), "lmdeploy", "--api-key", API_KEY, *LIMITS) as running:
        yield running


def test_headers_that_never_finish_get_a_408_and_the_connection_is_closed(server):
    port, _ = server
    answer = exchange(port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n")
    assert answer.startswith(b"HTTP/1.1 408 ")


@pytest.mark.parametrize("pipelined", [False, True], ids=["after-the-answer", "in-the-same-packet"])
def test_the_next_request_on_a_kept_alive_connection_gets_a_408_when_its_headers_stall(server, pipelined):
    """The header deadline of a later request starts with its first byte, whether that came with the request
    before it or after its answer."""
    port, _ = server
    whole = f"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n\r\n".encode()
    stalled = b"GET /v1/models HTTP/1.1\r\nHost: x\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(whole + stalled if pipelined else whole)
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        if not pipelined:
            sock.sendall(stalled)
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert received.count(b"HTTP/1.1 408 ") == 1, received[-300:]


def test_pipelined_requests_get_their_answers_whole_and_in_order(server):
    """Three requests in one packet on a kept-alive connection: each answer leaves whole, head and body together,
    in the order asked (the last closes the connection, so the read ends)."""
    port, _ = server
    ask = f"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
    data = exchange(port, (ask + "\r\n" + ask + "\r\n" + ask + "Connection: close\r\n\r\n").encode())
    answers_read = []
    rest = data
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
        answers_read.append((head.split(b"\r\n")[0], rest[:length]))
        rest = rest[length:]
    assert [status for status, _ in answers_read] == [b"HTTP/1.1 200 OK"] * 3
    assert all(body.startswith(b"{") and body.endswith(b"}") for _, body in answers_read)


def test_a_connection_that_sends_nothing_is_closed(server):
    port, _ = server
    assert exchange(port, b"") == b""


def test_too_many_headers_and_too_large_headers_get_431(server):
    port, _ = server
    many = b"".join(b"X-H%d: v\r\n" % index for index in range(60))
    assert exchange(port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n").startswith(b"HTTP/1.1 431 ")
    large = b"X-Big: " + b"a" * 1_000_000 + b"\r\n"
    assert exchange(port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + large + b"\r\n").startswith(b"HTTP/1.1 431 ")
    fine = httpx.get(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {API_KEY}"})
    assert fine.status_code == 200


def test_a_body_announced_and_never_sent_gets_a_408_in_the_api_shape(server):
    port, _ = server
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + API_KEY.encode() + b'\r\nContent-Length: 100\r\n\r\n{"model"'
    )
    answer = exchange(port, head)
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 408 ")
    assert b'"detail"' in rest and b"request body not received within 0.5 s" in rest  # FastAPI's shape


def test_a_client_leaving_mid_body_is_one_line_in_the_log(tmp_path):
    with serving_with_log(tmp_path, "lmdeploy", *LIMITS) as (port, log):
        head = (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"model": "m"'
        )
        exchange(port, head, close_after=True)
        assert httpx.get(f"http://127.0.0.1:{port}/v1/models").status_code == 200  # the server went on
    lines = [line for line in log.read_text().splitlines() if "went away" in line or "Traceback" in line]
    assert lines == ["client went away mid-request: POST /v1/chat/completions"], log.read_text()
