"""``aimlapi-sdk-python`` (the AI/ML API's own SDK) against ``apitwin serve aimlapi`` on loopback.

The SDK's wheel carries its own copy of the ``openai`` package, so it runs in a venv of its own
(``tests/e2e/client_envs.py``); each test runs a short script with that interpreter and reads the
JSON it prints. The client is ``aimlapi.AIMLAPI`` pointed at the mock's ``/v1`` base URL, as the
SDK's users point it at ``https://api.aimlapi.com/v1``.

Video generation is a job (``x-apitwin-job`` on ``POST /v2/video/generations``): the mock runs
with ``--job-polls 1``, so every poll moves the job one status on: queued → generating → completed,
the path the vendor's own polling loops expect (``specs/overlays/aimlapi.yaml`` cites them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.client_envs import client_python, run_script
from tests.e2e.conftest import API_KEY, serving

pytestmark = pytest.mark.e2e

SDK_VERSION = "2.24.0rc1"
VIDEO_MODEL = "google/veo3"
"""A text-to-video model id the spec's request union accepts on ``POST /v2/video/generations``."""
DOCUMENTED_PENDING = ["queued", "generating"]
"""The statuses the vendor's Python samples and SDK poll on (``while status in ["queued", "generating"]``),
the same list as ``pending`` in ``specs/overlays/aimlapi.yaml``."""
LIFECYCLE = [*DOCUMENTED_PENDING, "completed"]

CLIENT = """
import json, sys
import aimlapi
client = aimlapi.AIMLAPI(base_url=sys.argv[1] + "/v1", api_key=sys.argv[2], max_retries=0,
                         _strict_response_validation=True)
"""

HELPER_SCRIPT = (
    CLIENT
    + """
seen = []
result = client.videos.generate_with_polling(
    model=sys.argv[3], prompt="A lighthouse at dusk, waves rolling in", duration=4,
    poll_interval=0.01, poll_timeout=30, status_callback=lambda payload: seen.append(dict(payload)),
)
print(json.dumps({"seen": seen, "result": result}))
"""
)

RAW_POLLING_SCRIPT = (
    CLIENT
    + """
import time
root = str(client.base_url.copy_with(raw_path=b"/")).rstrip("/")
pending = json.loads(sys.argv[4])
created = client.post(root + "/v2/video/generations", cast_to=object,
                      body={"model": sys.argv[3], "prompt": "A lighthouse at dusk, waves rolling in"})
statuses = [created["status"]]
answer = created
deadline = time.monotonic() + 30
while answer["status"] in pending and time.monotonic() < deadline:
    answer = client.get(root + "/v2/video/generations", cast_to=object,
                        options={"params": {"generation_id": created["id"]}})
    statuses.append(answer["status"])
print(json.dumps({"created": created, "statuses": statuses, "final": answer}))
"""
)

CHAT_SCRIPT = (
    CLIENT
    + """
completion = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Say hi"}])
print(json.dumps({"type": f"{type(completion).__module__}.{type(completion).__name__}",
                  "openai_file": __import__("openai").__file__, "completion": completion.model_dump(mode="json")}))
"""
)

CALLS_SCRIPT = (
    CLIENT
    + """
RESPONSES_MODEL = "openai/gpt-4.1-mini-2025-04-14"
messages = [{"role": "user", "content": "Name a river."}]


def helper():
    with client.responses.stream(model=RESPONSES_MODEL, input="Name a river.") as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        return stream.get_final_response().output_text == text


calls = {
    "chat": lambda: client.chat.completions.create(model="gpt-4o", messages=messages).model == "gpt-4o",
    "chat_stream": lambda: bool(list(client.chat.completions.create(model="gpt-4o", messages=messages, stream=True))),
    "responses": lambda: client.responses.create(model=RESPONSES_MODEL, input="Name a river.").object == "response",
    "responses_stream": lambda: list(client.responses.create(model=RESPONSES_MODEL, input="x", stream=True))[-1].type
    == "response.completed",
    "responses_helper": helper,
    "embeddings": lambda: len(client.embeddings.create(
        model="alibaba/qwen-text-embedding-v3", input=["a", "b"], encoding_format="float").data) == 2,
    "images": lambda: bool(client.images.generate(model="dall-e-3", prompt="A lighthouse").data),
    "models": lambda: all(model.id for model in client.models.list().data),
}
outcome = {}
for name, call in calls.items():
    try:
        outcome[name] = call()
    except Exception as error:
        outcome[name] = f"{type(error).__name__}: {error.__cause__ or error}"[:500]
print(json.dumps(outcome))
"""
)


@pytest.fixture(scope="module")
def sdk_python() -> Path:
    return client_python(f"aimlapi-sdk-{SDK_VERSION}", f"aimlapi-sdk-python=={SDK_VERSION}")


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving("aimlapi", "--job-polls", "1") as url:
        yield url


def run(python: Path, script: str, base: str, *args: str) -> Any:
    return run_script(python, script, base, API_KEY, *args, timeout=60)


def assert_served_mp4(url: str, base: str) -> None:
    assert url.startswith(f"{base}/_apitwin/media/"), url
    media = httpx.get(url, timeout=10)
    assert media.status_code == 200, media.text
    assert media.headers["content-type"] == "video/mp4"
    assert media.content[4:8] == b"ftyp"  # an ISO BMFF file opens with its ftyp box


def test_a_video_generation_created_and_polled_to_completion_through_the_sdk_client(
    sdk_python: Path, base: str
) -> None:
    """Create and poll with the SDK's own HTTP client, auth and JSON decoding (``client.post`` /
    ``client.get``), continuing on every status the vendor documents as in progress."""
    outcome = run(sdk_python, RAW_POLLING_SCRIPT, base, VIDEO_MODEL, json.dumps(DOCUMENTED_PENDING))
    assert outcome["statuses"] == LIFECYCLE
    assert outcome["created"].get("video") is None  # no result before the job is done
    final = outcome["final"]
    assert final["id"] == outcome["created"]["id"]
    assert final["status"] == "completed"
    assert_served_mp4(final["video"]["url"], base)


def test_the_sdk_video_helper_polls_to_completion(sdk_python: Path, base: str) -> None:
    """``client.videos.generate_with_polling`` (aimlapi/resources/videos.py) keeps polling only while the
    status is ``queued`` or ``generating``. The mock's jobs walk exactly that path (a job that reported
    ``waiting``, as an earlier overlay had it, was handed back unfinished), so the helper gets the video."""
    outcome = run(sdk_python, HELPER_SCRIPT, base, VIDEO_MODEL)
    assert [payload["status"] for payload in outcome["seen"]] == LIFECYCLE
    result = outcome["result"]
    assert result["status"] == "completed"
    assert result["id"] == outcome["seen"][0]["id"]
    assert_served_mp4(result["video"]["url"], base)


def test_a_chat_completion_parses_in_the_sdks_bundled_openai_copy(sdk_python: Path, base: str) -> None:
    outcome = run(sdk_python, CHAT_SCRIPT, base)
    assert outcome["type"] == "openai.types.chat.chat_completion.ChatCompletion"
    assert f"aimlapi-sdk-{SDK_VERSION}" in outcome["openai_file"]  # the SDK venv's copy, not ours
    completion = outcome["completion"]
    assert completion["object"] == "chat.completion"
    assert completion["model"] == "gpt-4o"
    assert completion["choices"] and completion["choices"][0]["message"]["role"] == "assistant"


def test_every_openai_style_call_parses_strictly_in_the_sdk(sdk_python: Path, base: str) -> None:
    """The vendor's SDK (strict validation, its bundled openai copy) on every call the spec offers it."""
    outcome = run(sdk_python, CALLS_SCRIPT, base)
    assert outcome == dict.fromkeys(outcome, True) and len(outcome) == 8, outcome
