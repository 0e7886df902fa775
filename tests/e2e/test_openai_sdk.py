"""The official ``openai`` SDK against ``apitwin serve`` on loopback, with strict response validation.

``_strict_response_validation=True`` makes the SDK validate every answer against its own
pydantic models and raise ``APIResponseValidationError`` on any mismatch, so these tests
prove the mock's answers parse as the SDK's users rely on, not only against our spec.
"""

from __future__ import annotations

import httpx
import pytest
from openai import OpenAI

from tests.e2e.conftest import API_KEY, serving

pytestmark = pytest.mark.e2e

PROMPTS = ["Hello", "Write a haiku about the sea", "Summarise the plot of Hamlet in two sentences."]


@pytest.fixture(scope="module")
def aiml() -> OpenAI:
    with serving("aimlapi") as base:
        yield OpenAI(base_url=f"{base}/v1", api_key=API_KEY, _strict_response_validation=True, max_retries=0)


@pytest.fixture(scope="module")
def openresponses() -> OpenAI:
    with serving("openresponses") as base:
        yield OpenAI(base_url=base, api_key=API_KEY, _strict_response_validation=True, max_retries=0)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_chat_completions_create(aiml, prompt):
    completion = aiml.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}])
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o"
    assert completion.choices and completion.choices[0].message.role == "assistant"


def test_chat_completions_with_n_and_a_budget(aiml):
    completion = aiml.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], n=2, max_tokens=5
    )
    assert [choice.index for choice in completion.choices] == [0, 1]
    if completion.usage is not None:
        assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


@pytest.mark.parametrize("prompt", PROMPTS)
def test_responses_create_on_aimlapi(aiml, prompt):
    response = aiml.responses.create(model="openai/gpt-4.1-mini-2025-04-14", input=prompt)
    assert response.object == "response"
    assert isinstance(response.output_text, str)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_responses_create_on_openresponses(openresponses, prompt):
    response = openresponses.responses.create(model="gpt-4.1", input=prompt)
    assert response.object == "response"
    assert isinstance(response.output_text, str)


def test_embeddings_create(aiml):
    result = aiml.embeddings.create(model="alibaba/qwen-text-embedding-v3", input=["one", "two", "three"])
    assert len(result.data) == 3
    assert all(isinstance(value, float) for value in result.data[0].embedding)


def test_images_generate(aiml):
    result = aiml.images.generate(model="dall-e-3", prompt="A lighthouse at dusk")
    assert result.data


def test_models_list_on_lmdeploy():
    with serving("lmdeploy") as base:
        client = OpenAI(base_url=f"{base}/v1", api_key=API_KEY, _strict_response_validation=True, max_retries=0)
        models = client.models.list()
    assert models.data and all(model.id for model in models.data)


def test_aimlapi_models_bare_at_the_root_and_a_page_under_v1(aiml):
    """AIML documents GET /models as a JSON array (complete-model-list.md); the /v1/models its SDK base URL
    reaches answers the same records as OpenAI's list page, which the SDK's strict parser accepts."""
    page = aiml.models.list()
    assert page.data and all(model.object == "model" and model.id for model in page.data)
    root = str(aiml.base_url).removesuffix("/v1/")
    raw = httpx.get(f"{root}/models", headers={"Authorization": f"Bearer {API_KEY}"}).json()
    assert isinstance(raw, list) and raw and all("id" in model for model in raw)
