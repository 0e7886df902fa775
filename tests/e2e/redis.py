"""A real ``redis-server`` for tests: started on a free loopback port, nothing persisted, stopped after."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import free_port, stop

START_TIMEOUT_SECONDS = 10.0


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Yields ``redis://127.0.0.1:PORT/0`` of a fresh redis-server process."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("redis-server is not installed (Debian: apt-get install -y redis-server; .ci/run installs it)")
    port = free_port()
    command = [
        executable,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        _wait_for_pong(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(process)


def _wait_for_pong(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read() if process.stdout and process.poll() is not None else ""
            pytest.fail(f"redis-server did not start on port {port}: {output}")
        time.sleep(0.05)
