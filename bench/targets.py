"""Starting and stopping the servers under test, each on a free loopback port.

Every server runs in its own session so that stopping it stops its children too; the
context manager stops it on any exit (an error, Ctrl-C, SIGTERM turned into SystemExit).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import tools

HOST = "127.0.0.1"
READY_TIMEOUT = 60.0


class TargetFailed(RuntimeError):
    """A server did not start, or stopped while it was being used."""


@dataclass(slots=True)
class Server:
    name: str
    command: list[str]
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    started_in: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def apitwin_command(api: str, port: int, workers: int = 1, *options: str) -> list[str]:
    """``apitwin serve API``: one worker (unless told), request validation on, dynamic answers (the defaults)."""
    command = [sys.executable, "-m", "apitwin", "serve", api, "--host", HOST, "--port", str(port)]
    return [*command, "--workers", str(workers), *options]


def prism_command(spec: Path, port: int) -> list[str]:
    """``prism mock -d``: dynamic answers; only errors logged, as apitwin logs no access lines."""
    return [str(tools.prism()), "mock", "-d", "--host", HOST, "--port", str(port), "--verboseLevel", "error", str(spec)]


def bare_command(port: int, size: int) -> list[str]:
    return [sys.executable, "-m", "bench.bare", "--host", HOST, "--port", str(port), "--size", str(size)]


def handwritten_command(port: int, spec: Path) -> list[str]:
    return [sys.executable, "-m", "bench.handwritten", "--host", HOST, "--port", str(port), "--spec", str(spec)]


@contextlib.contextmanager
def running(name: str, command_for_port: Callable[[int], list[str]], ready_path: str = "/") -> Iterator[Server]:
    """Start ``command_for_port(port)`` and yield it once it answers HTTP on ``ready_path``."""
    port = free_port()
    command = command_for_port(port)
    log = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    server = Server(name, command, port, process, log)
    try:
        server.started_in = _wait_ready(server, ready_path)
        yield server
    finally:
        stop(process)
        log.unlink(missing_ok=True)


def _wait_ready(server: Server, ready_path: str) -> float:
    started = time.monotonic()
    deadline = started + READY_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise TargetFailed(
                f"{server.name} exited with code {server.process.returncode} while starting:\n{server.log_tail()}"
            )
        try:
            httpx.get(server.base_url + ready_path, timeout=2)
            return time.monotonic() - started
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TargetFailed(f"{server.name} did not answer within {READY_TIMEOUT:.0f} s:\n{server.log_tail()}")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's whole process group, SIGKILL after 5 s."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def check_alive(server: Server) -> None:
    if server.process.poll() is not None:
        raise TargetFailed(f"{server.name} stopped (exit code {server.process.returncode}):\n{server.log_tail()}")
