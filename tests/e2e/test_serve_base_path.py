"""`apitwin serve FILE` for a spec whose server has a path: the banner names the SDK base URL per API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import openai

from tests.e2e.conftest import API_KEY, answers, free_port, stop

FIXTURE = Path(__file__).parent / "fixtures" / "foreign_streams.yaml"


def test_the_banner_prints_the_sdk_base_url_and_the_sdk_works_there():
    port = free_port()
    command = [sys.executable, "-m", "apitwin", "serve", str(FIXTURE), "--port", str(port), "--state", "memory"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(2)]
        assert "compiled" in banner[0]
        assert banner[1].split() == [
            "foreign_streams",
            f"http://127.0.0.1:{port}/",
            "SDK",
            "base_url:",
            f"http://127.0.0.1:{port}/v1",
        ]
        base = f"http://127.0.0.1:{port}"
        while not answers(base):
            assert process.poll() is None, process.stdout.read()
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=API_KEY, max_retries=0)
        completion = client.completions.create(model="m", prompt="Hello")
        assert completion.object == "text_completion"
        root = httpx.post(
            f"{base}/completions", json={"model": "m", "prompt": "Hello"}, headers={"Authorization": "Bearer k"}
        )
        assert root.status_code == 200
    finally:
        stop(process)
