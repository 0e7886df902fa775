from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx
import pytest

API_KEY = "e2e-test-key"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(*args: str, start_seconds: float = 60) -> Iterator[str]:
    """``apitwin serve`` as a real process on a loopback port; yields its base URL.

    State is in memory (a private SQLite file with ``--workers``) unless ``args`` say ``--state``:
    tests must not share a data file. With
    ``--workers N`` each process compiles the specs, so give a busy machine a longer ``start_seconds``.
    """
    port = free_port()
    scratch = tempfile.TemporaryDirectory(prefix="apitwin-e2e-")
    state = (
        []
        if "--state" in args
        else ["--state", "memory"]
        if "--workers" not in args
        else ["--state", f"sqlite:///{scratch.name}/state.db"]
    )
    command = [
        sys.executable,
        "-m",
        "apitwin",
        "serve",
        *args,
        *state,
        "--port",
        str(port),
        "--self-check",
        "--api-key",
        API_KEY,
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds
        while not answers(base):
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                output = process.stdout.read() if process.stdout else ""  # the process has ended: no blocking read
                pytest.fail(f"apitwin serve {' '.join(args)} did not start: {output}")
            time.sleep(0.1)
        yield base
    finally:
        stop(process)
        scratch.cleanup()


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/_apitwin/apis", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def stop(process: subprocess.Popen[str]) -> None:
    """Terminate a server and the workers it started (its process group), killing what does not go."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port for the whole session (see ``tests/e2e/redis.py``)."""
    from tests.e2e.redis import redis_server

    with redis_server() as url:
        yield url
