"""``apitwin serve --host 0.0.0.0 --admin-token auto`` as a real process: it prints the token it made, and its admin
routes want it while the API and media answer as before."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time

import httpx
import pytest

from tests.e2e.conftest import free_port, stop

pytestmark = pytest.mark.e2e


def test_a_generated_token_is_printed_and_guards_the_admin_routes() -> None:
    port = free_port()
    command = [sys.executable, "-m", "apitwin", "serve", "aimlapi", "--host", "0.0.0.0", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--admin-token", "auto", "--state", "memory"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        banner = read_until(process, b"admin token:", seconds=60)
        token = banner.split("admin token:", 1)[1].split()[0] if "admin token:" in banner else ""
        assert len(token) >= 32, f"no admin token printed: {banner}"
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                refused = httpx.get(f"{base}/_apitwin/apis", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "apitwin serve did not start"
                time.sleep(0.1)
        assert refused.status_code == 401 and refused.json()["error"]["type"] == "admin_token_required"
        admitted = httpx.get(f"{base}/_apitwin/apis", headers={"Authorization": f"Bearer {token}"})
        assert admitted.status_code == 200 and "aimlapi" in admitted.json()
        chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
        answer = httpx.post(f"{base}/v1/chat/completions", json=chat, headers={"Authorization": "Bearer client"})
        assert answer.status_code == 200  # the API itself is not the admin token's business
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()


def read_until(process: subprocess.Popen[bytes], marker: bytes, seconds: float) -> str:
    """What the process printed until a line with ``marker`` ended (or it stopped, or time ran out)."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    seen = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not selector.select(timeout=0.5):
            continue
        piece = os.read(process.stdout.fileno(), 65536)
        if not piece:
            break
        seen += piece
        if marker in seen and seen.endswith(b"\n"):
            break
    return seen.decode("utf-8", "replace")
