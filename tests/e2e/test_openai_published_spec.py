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

from tests.contracts.conftest import fuzz
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
    assert len({chunk.id for chunk in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
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


# --- point 6: one call each, parsed with the SDK's strict response validation ---------------------


@pytest.fixture
def strict(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=API_KEY, max_retries=0, _strict_response_validation=True)


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_chat_completion_plain(strict):
    completion = strict.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert completion.object == "chat.completion" and completion.choices
    # Issue 12, point 3: ids in the prefix of the document's x-oaiMeta examples, never a documented one.
    assert completion.id.startswith("chatcmpl-") and completion.id != "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"
    other = strict.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Another one"}])
    assert other.id.startswith("chatcmpl-") and other.id != completion.id


def test_chat_completion_with_tools(strict):
    completion = strict.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, tools=[WEATHER], tool_choice="required"
    )
    calls = completion.choices[0].message.tool_calls or []
    assert calls and calls[0].function.name == "get_weather"
    assert "city" in json.loads(calls[0].function.arguments)


def test_responses_plain(strict):
    response = strict.responses.create(model="gpt-4o", input="Tell me about rivers.")
    assert response.object == "response" and response.status == "completed"
    assert response.output_text
    assert response.id.startswith("resp_")
    assert [item.id[:4] for item in response.output if item.type == "message"] == ["msg_"]
    # As OpenAI answers a request that sets none of these (the spec's request default for the tier is "auto";
    # the answer says the tier that served it).
    assert (response.max_output_tokens, response.truncation, response.service_tier) == (None, "disabled", "default")
    assert (response.reasoning.effort, response.reasoning.summary) == (None, None)
    assert strict.responses.create(model="gpt-4o", input="Hi", service_tier="flex").service_tier == "flex"


def test_responses_stream_helper_names_every_event(strict, base):
    with strict.responses.stream(model="gpt-4o", input="Tell me about rivers.") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert final.output_text
    body = {"model": "gpt-4o", "input": "Hi", "stream": True}
    raw = httpx.post(f"{base}/v1/responses", json=body, headers={"Authorization": f"Bearer {API_KEY}"}).text
    for block in raw.strip().split("\n\n"):  # the published spec names 58 events: each block carries its name
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        assert fields["event"] == json.loads(fields["data"])["type"]


def test_embeddings(strict):
    result = strict.embeddings.create(model="text-embedding-3-small", input=["one", "two"])
    assert [item.index for item in result.data] == [0, 1]
    assert all(item.embedding for item in result.data)


def test_models_list(strict):
    models = list(strict.models.list())
    assert models and all(model.object == "model" for model in models)


def test_images_generate(strict):
    result = strict.images.generate(model="gpt-image-1", prompt="A lighthouse at dusk")
    assert result.data


def test_files_create_multipart(strict):
    uploaded = strict.files.create(file=("batch.jsonl", b'{"custom_id": "a"}\n'), purpose="batch")
    assert uploaded.object == "file"
    again = strict.files.create(file=("other.jsonl", b'{"custom_id": "b"}\n'), purpose="batch")
    assert uploaded.id.startswith("file-") and again.id.startswith("file-") and again.id != uploaded.id
    assert "file-abc123" not in (uploaded.id, again.id)


def test_batches_create_and_retrieve(strict):
    created = strict.batches.create(
        input_file_id="file-abc123", endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert created.object == "batch"
    assert created.id.startswith("batch_") and created.id != "batch_abc123"
    retrieved = strict.batches.retrieve(created.id)
    assert retrieved.object == "batch"


def test_audio_speech_is_binary(strict):
    speech = strict.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Hello there")
    assert speech.content  # the bytes of an audio file, not JSON
    assert not speech.content.lstrip().startswith(b"{")


# --- point 7: self-fuzz clean within a 1,000-request budget ------------------------------------------


def assert_self_fuzz_clean(spec: Path, base: str, tmp_path: Path) -> None:
    report = tmp_path / "openai.json"
    arguments = ["--base-url", f"{base}/v1", "--max-requests", "1000", "--max-examples", "3", "--json", str(report)]
    result = fuzz(str(spec), *arguments)
    assert result.exit_code == 0, result.output[-4000:]
    data = json.loads(report.read_text())
    operations = data["operations"]
    assert len(operations) > 200 and all(operation["answered"] for operation in operations)
    assert data["requests_sent"] <= 1000


def test_self_fuzz_exercises_every_operation_within_1000_requests(base, tmp_path):
    assert_self_fuzz_clean(SPEC, base, tmp_path)


def test_the_previous_release_self_fuzzes_clean_too(tmp_path):
    """The July spec (its transcription stream once drew deltas that did not add up to its done event)."""
    earlier = SPEC.with_name("openai-2026-07-23.yaml")
    with serving(str(earlier), start_seconds=300) as url:
        assert_self_fuzz_clean(earlier, url, tmp_path)
