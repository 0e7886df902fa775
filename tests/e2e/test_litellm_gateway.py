"""A real gateway end to end: the openai SDK → ``apitwin proxy`` → LiteLLM (from PyPI) → ``apitwin serve``.

The spec is OpenAI's published one (``../shared/foreign-specs``): it is the contract LiteLLM's proxy offers its
clients, and the mock behind LiteLLM answers by the same document, so whatever the proxy reports LiteLLM did on
the way. It does find something: LiteLLM drops ``"finish_reason": null`` from every stream chunk but the last,
which OpenAI's ``ChatCompletionStreamResponse`` requires (nullable, never absent). The tests pin that finding,
so a LiteLLM release that fixes it, or breaks something else, shows up here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from click.testing import CliRunner

from apitwin.contracts.cli import main
from tests.e2e.conftest import API_KEY, serving
from tests.e2e.litellm_gateway import MASTER_KEY, litellm_gateway
from tests.e2e.proxying import proxy_in_thread

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "foreign-specs" / "openai-2026-08-21.yaml"
MESSAGES = [{"role": "user", "content": "Say hello in a few words"}]
FINISH_REASON_DROPPED = ("sse_event_schema", "'finish_reason' is a required property (at /choices/0)")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not SPEC.exists(), reason=f"the published OpenAI spec is not at {SPEC}"),
]


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    """LiteLLM's base URL, its models served by a mock of OpenAI's spec."""
    with serving(str(SPEC), start_seconds=300) as mock, litellm_gateway(f"{mock}/v1", API_KEY) as url:
        yield url


def conversation(client: openai.OpenAI) -> dict[str, Any]:
    """The four calls a client of the gateway makes: chat, a chat stream, embeddings, the model list."""
    chat = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_completion_tokens=40)
    chunks = client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    embedding = client.embeddings.create(model="text-embedding-3-small", input="hello")
    models = client.models.list()
    return {
        "chat": chat.model_dump(),
        "stream": [chunk.model_dump() for chunk in chunks],
        "embedding": embedding.model_dump(),
        "models": [model.model_dump() for model in models],
    }


def test_the_sdk_through_the_proxy_to_litellm_is_judged_recorded_and_replayed(gateway, tmp_path):
    recordings = tmp_path / "recordings"
    with proxy_in_thread(str(SPEC), gateway, record=recordings) as proxy:
        client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=MASTER_KEY, max_retries=0)
        recorded = conversation(client)
        with pytest.raises(openai.BadRequestError):  # LiteLLM refuses it too, after the proxy flagged it
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature="hot")  # type: ignore[arg-type]
        journal = proxy.settled(5)

    assert recorded["chat"]["choices"][0]["message"]["content"]
    assert "".join(chunk["choices"][0]["delta"]["content"] or "" for chunk in recorded["stream"] if chunk["choices"])
    assert any(chunk["usage"] for chunk in recorded["stream"])
    assert recorded["embedding"]["data"][0]["embedding"]
    assert {model["id"] for model in recorded["models"]} >= {"gpt-4o", "text-embedding-3-small"}

    by_exchange: dict[int, set[tuple[str, str]]] = {number: set() for number in range(1, 6)}
    for finding in journal.findings:
        by_exchange[finding.exchange].add((finding.check, finding.message))
    assert by_exchange[1] == set(), "chat"
    assert by_exchange[2] == {FINISH_REASON_DROPPED}, "stream: LiteLLM's one known departure from OpenAI's spec"
    assert by_exchange[3] == set(), "embeddings"
    assert by_exchange[4] == set(), "models"
    assert ("request_schema_conformance", 'body/temperature: "hot" is not of type "number" or "null"') in by_exchange[5]
    assert journal.per_operation == {"POST /chat/completions": 3, "POST /embeddings": 1, "GET /models": 1}
    assert [(number, seen.operation) for number, seen in sorted(journal.exchanges.items())] == [
        (2, "POST /chat/completions"),
        (5, "POST /chat/completions"),
    ], "the exchanges the reports show: the first of each cause"
    assert MASTER_KEY not in proxy.out.getvalue()
    assert len(list(recordings.glob("*.har"))) == 5
    assert not any(MASTER_KEY in har.read_text() for har in recordings.glob("*.har"))

    # LiteLLM and the mock may be gone: the replay answers from the recordings alone
    with serving(str(SPEC), "--replay", str(recordings), "--replay-pace", "none", "--replay-strict") as replayer:
        replayed = conversation(openai.OpenAI(base_url=f"{replayer}/v1", api_key=API_KEY, max_retries=0))
    assert replayed == recorded


def test_fuzzing_litellm_reports_its_departures_within_the_budget(gateway, tmp_path):
    report = tmp_path / "fuzz.json"
    arguments = ["--base-url", f"{gateway}/v1", "--api-key", MASTER_KEY, "--models", "gpt-4o", "--json", str(report)]
    operations = ["--operations", "createChatCompletion,createEmbedding,listModels", "--max-requests", "30"]
    result = CliRunner().invoke(
        main, ["fuzz", str(SPEC), *arguments, *operations], catch_exceptions=False, env={"COLUMNS": "240"}
    )
    assert result.exit_code == 1, result.output  # LiteLLM departs from the spec: failures, not an error
    run = json.loads(report.read_text())
    assert run["requests_sent"] == 30 and run["budget_exhausted"]
    sent = {operation["label"]: operation["sent"] for operation in run["operations"]}
    assert set(sent) == {"POST /chat/completions", "POST /embeddings", "GET /models"} and all(sent.values()), sent
    failures = [failure for operation in run["operations"] for failure in operation["failures"]]
    streamed = [failure for failure in failures if failure["check"].startswith("sse_event_schema")]
    assert streamed and FINISH_REASON_DROPPED[1] in streamed[0]["message"], "the proxy's finding, found by fuzzing"
    for failure in failures:
        assert gateway in failure["curl"] and MASTER_KEY not in json.dumps(failure)
