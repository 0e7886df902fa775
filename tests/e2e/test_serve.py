"""`apitwin serve` as a user starts it: real HTTP on loopback, the banner, auth and errors."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx
import pytest

from tests.e2e.conftest import API_KEY, serving


@pytest.mark.e2e
def test_all_shipped_apis_are_served_under_their_names():
    with serving() as base:
        apis = httpx.get(f"{base}/_apitwin/apis").json()
        assert set(apis) == {"aimlapi", "openai-responses", "openresponses", "lmdeploy", "lmdeploy-proxy", "sequrity"}
        models = httpx.get(f"{base}/lmdeploy/v1/models", headers={"Authorization": f"Bearer {API_KEY}"})
        assert models.status_code == 200 and models.headers["content-type"].startswith("application/json")
        chat = httpx.post(
            f"{base}/aimlapi/v1/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        assert chat.status_code == 200, chat.text
        unauthorised = httpx.post(f"{base}/aimlapi/v1/chat/completions", json={"model": "gpt-4o", "messages": []})
        assert unauthorised.status_code == 401
        assert set(unauthorised.json()) >= {"message", "statusCode", "path"}


@pytest.mark.e2e
def test_one_api_is_served_at_the_root_and_streams():
    with serving("lmdeploy") as base:
        with httpx.stream(
            "POST",
            f"{base}/v1/chat/completions",
            json={"model": "m", "messages": "hi", "stream": True},
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as response:
            assert response.status_code == 200
            lines = [line for line in response.iter_lines() if line]
        assert lines[-1] == "data: [DONE]"


@pytest.mark.e2e
def test_several_workers_answer_identically():
    with serving("lmdeploy", "--workers", "2") as base:
        answers = [
            httpx.post(
                f"{base}/v1/chat/completions",
                json={"model": "m", "messages": "hi"},
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            for _ in range(6)
        ]
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1  # deterministic across worker processes


def test_a_taken_port_is_refused_before_anything_is_compiled_or_printed():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "apitwin", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert result.stdout == ""  # no banner listing URLs that would not answer
    assert f"127.0.0.1:{port} is not free" in result.stderr and "--port" in result.stderr
