"""OpenAI's own published spec (3 MB, as downloaded) served by ``apitwin serve FILE``, used by the openai SDK.

One server for the whole module: normalising and compiling the document is the slow part.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.e2e.conftest import API_KEY, serving

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "foreign-specs" / "openai-2026-08-21.yaml"
MESSAGES = [{"role": "user", "content": "Say hello in a few words"}]

pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"the published OpenAI spec is not at {SPEC}")


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(str(SPEC), start_seconds=300) as url:
        yield url


@pytest.fixture
def client(base: str) -> openai.OpenAI:
    """The SDK as a user points it at the mock: the spec's server is ``https://api.openai.com/v1``."""
    return openai.OpenAI(base_url=f"{base}/v1", api_key=API_KEY, max_retries=0)


def test_chat_completions_stream_yields_chunks(client):
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    assert len(chunks) >= 3
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text.strip()


def test_chat_stream_ends_with_the_done_the_spec_documents(base):
    body = {"model": "gpt-4o", "messages": MESSAGES, "stream": True}
    response = httpx.post(f"{base}/chat/completions", json=body, headers={"Authorization": f"Bearer {API_KEY}"})
    blocks = response.text.strip().split("\n\n")
    assert blocks[-1] == "data: [DONE]"
    assert json.loads(blocks[0].removeprefix("data: "))["object"] == "chat.completion.chunk"


def test_responses_stream_yields_typed_events(client):
    events = list(client.responses.create(model="gpt-4o", input="Hello", stream=True))
    assert events
    assert all(event.type.startswith(("response.", "error")) for event in events)
