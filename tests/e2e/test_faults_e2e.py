"""Faults as a real client meets them: on loopback, through httpx and the openai SDK."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.e2e.conftest import API_KEY, serving

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {API_KEY}"}
STREAM = {"model": "internlm2", "messages": [{"role": "user", "content": "Tell me a long story"}], "stream": True}


@pytest.fixture(scope="module")
def lmdeploy() -> str:
    with serving("lmdeploy", "--state", "memory") as base:
        yield base


def test_a_cut_stream_is_a_truncated_transfer_after_n_events(lmdeploy):
    events = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST",
            f"{lmdeploy}/v1/chat/completions",
            json=STREAM,
            headers={**AUTH, "X-Apitwin-Faults": "cut=3"},
            timeout=10,
        ) as answer,
    ):
        assert answer.status_code == 200
        for line in answer.iter_lines():
            if line.startswith("data: "):
                events.append(line)
    assert len(events) == 3
    assert "data: [DONE]" not in events


def test_the_openai_sdk_sees_the_broken_stream(lmdeploy):
    client = openai.OpenAI(
        base_url=f"{lmdeploy}/v1", api_key=API_KEY, max_retries=0, default_headers={"X-Apitwin-Faults": "cut=2"}
    )
    chunks = []
    with pytest.raises((httpx.RemoteProtocolError, openai.APIError)):
        for chunk in client.chat.completions.create(
            model="internlm2", messages=[{"role": "user", "content": "Hi"}], stream=True
        ):
            chunks.append(chunk)
    assert len(chunks) == 2


def test_an_injected_429_reaches_the_sdk_as_a_rate_limit_with_retry_after(lmdeploy):
    client = openai.OpenAI(
        base_url=f"{lmdeploy}/v1", api_key=API_KEY, max_retries=0, default_headers={"X-Apitwin-Faults": "429:1"}
    )
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="internlm2", messages=[{"role": "user", "content": "Hi"}])
    assert raised.value.response.headers["retry-after"] == "1"


def test_server_wide_faults_from_the_command_line():
    with serving("lmdeploy", "--state", "memory", "--faults", "503:1") as base:
        answer = httpx.get(f"{base}/v1/models", headers=AUTH)
    assert answer.status_code == 503
    assert "injected fault" in answer.text
