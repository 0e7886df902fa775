"""``apitwin proxy`` on loopback for tests: in-process (to look at its journal) or as the real command."""

from __future__ import annotations

import contextlib
import io
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from apitwin import specs
from apitwin.contracts.proxy.app import ProxyApp, ProxyOptions
from apitwin.contracts.proxy.journal import Journal
from apitwin.contracts.proxy.judge import Judge
from apitwin.contracts.proxy.record import Recorder
from apitwin.mockserver.operations import compile_api
from tests.e2e.conftest import free_port, stop


@dataclass
class RunningProxy:
    url: str
    app: ProxyApp
    journal: Journal
    out: io.StringIO

    def settled(self, exchanges: int, seconds: float = 10) -> Journal:
        """The journal once ``exchanges`` answers are judged (judging follows the answer's last byte)."""
        deadline = time.monotonic() + seconds
        while self.journal.judged < exchanges and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.journal.judged == exchanges, f"{self.journal.judged} of {exchanges} exchanges judged"
        return self.journal


@contextlib.contextmanager
def proxy_in_thread(
    api: str, upstream: str, *, reject_invalid: bool = False, record: Path | None = None
) -> Iterator[RunningProxy]:
    """A :class:`ProxyApp` served by uvicorn on a free loopback port, in a thread of this process."""
    out = io.StringIO()
    journal = Journal(api, upstream, out=out)
    recorder = Recorder(record, "test") if record is not None else None
    app = ProxyApp(
        Judge(compile_api(api, specs.load(api))),
        journal,
        ProxyOptions(upstream, reject_invalid=reject_invalid),
        recorder=recorder,
    )
    with served_in_thread(app) as url:
        yield RunningProxy(url, app, journal, out)


@contextlib.contextmanager
def served_in_thread(app: Any) -> Iterator[str]:
    """An ASGI app served by uvicorn on a free loopback port, in a thread of this process; yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", server_header=False, date_header=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class ProxyProcess:
    url: str
    process: subprocess.Popen[str]
    stderr: str = ""
    stdout: str = ""
    returncode: int | None = None


@contextlib.contextmanager
def proxy_process(api: str, upstream: str, *args: str) -> Iterator[ProxyProcess]:
    """``apitwin proxy`` as a real process; stopped with SIGTERM (as Ctrl-C would), its output kept."""
    port = free_port()
    command = [sys.executable, "-m", "apitwin", "proxy", api, "--upstream", upstream, "--port", str(port), *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    running = ProxyProcess(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                raise AssertionError(f"apitwin proxy did not start: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.1)
        yield running
    finally:
        stop(process)
        running.stdout = process.stdout.read() if process.stdout else ""
        running.stderr = process.stderr.read() if process.stderr else ""
        running.returncode = process.returncode


def _listening(port: int) -> bool:
    with contextlib.closing(socket.socket()) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
