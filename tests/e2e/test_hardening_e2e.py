"""Issue 16 against a real `apitwin serve` on loopback: valid requests never get a 500, hostile ones a 4xx."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from apitwin import specs
from apitwin.mockserver.json_body import MAX_VALUES
from apitwin.specs import pointer as json_pointer
from apitwin.specs.validation import SchemaChecker
from tests.e2e.conftest import API_KEY, serving

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.mark.e2e
def test_the_responses_request_that_drew_an_unseparable_oneof_is_answered():
    """This prompt's seed drew only strings for a `{}` branch beside a string branch (a 500 before)."""
    with serving("openai-responses") as base:
        answer = httpx.post(
            f"{base}/v1/responses", json={"model": "gpt-4o", "input": "distinct prompt number 393"}, headers=AUTH
        )
        assert answer.status_code == 200, answer.text  # --self-check: the body is valid against the spec
        assert answer.json()["object"] == "response"


def json_operations(api: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path with its parameters filled, operation) of every operation that takes a JSON body."""
    document = specs.load(api)
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {}) if isinstance(operation, dict) else {}
            if any(media.endswith("json") for media in content):
                found.append((method, re.sub(r"\{[^}]+\}", "chat", path), operation))
    return found


def declared_error_schema(document: dict[str, Any], operation: dict[str, Any], status: int) -> Any:
    response = operation["responses"].get(str(status))
    if response is None:
        return None
    if "$ref" in response:
        response = json_pointer.resolve(document, response["$ref"])
    media = (response.get("content") or {}).get("application/json")
    return media.get("schema") if media else None


@pytest.mark.e2e
def test_a_lone_surrogate_gets_a_4xx_in_the_api_shape_on_every_json_operation_of_every_api():
    raw = rb'{"model":"\ud800","messages":[]}'
    with serving() as base:
        apis = list(httpx.get(f"{base}/_apitwin/apis").json())
        assert len(apis) == 6
        for api in apis:
            document = specs.load(api)
            checker = SchemaChecker(document)
            named = 0
            for method, path, operation in json_operations(api):
                answer = httpx.request(
                    method.upper(),
                    f"{base}/{api}{path}",
                    content=raw,
                    headers={**AUTH, "Content-Type": "application/json"},
                )
                assert 400 <= answer.status_code < 500, (api, path, answer.status_code, answer.text)
                named += "lone surrogate" in answer.text
                schema = declared_error_schema(document, operation, answer.status_code)
                if schema is not None:
                    assert checker.error(schema, answer.json()) is None, (api, path, answer.text)
            assert named, f"{api}: no answer said what was wrong"


@pytest.mark.e2e
def test_api_key_covers_every_api_and_the_log_masks_what_other_clients_sent():
    card = "4111111111111111"
    with serving() as base:
        unsafe = f"{base}/lmdeploy-proxy/nodes/terminate_all"
        assert httpx.get(unsafe).status_code == 401  # the spec declares no security; --api-key still applies
        assert httpx.get(unsafe, headers=AUTH).status_code == 200
        bad = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": card}
        refused = httpx.post(f"{base}/aimlapi/v1/chat/completions", json=bad, headers=AUTH)
        assert refused.status_code == 400 and card in refused.text  # the caller sees its own value
        log = httpx.get(f"{base}/_apitwin/requests", headers=AUTH).text
        assert card not in log and "<string>" in log


@pytest.mark.e2e
def test_a_million_item_body_gets_a_bounded_answer_and_a_concurrent_request_is_answered():
    body = json.dumps({"model": "m", "input": [[1, 2]] * 1_000_000}).encode()
    with serving("lmdeploy") as base, ThreadPoolExecutor(2) as pool:
        big = pool.submit(
            httpx.post,
            f"{base}/v1/embeddings",
            content=body,
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=60,
        )
        probe = pool.submit(httpx.get, f"{base}/_apitwin/apis", timeout=60)
        assert probe.result().status_code == 200
        refused = big.result()
    assert refused.status_code == 413
    assert f"more than {MAX_VALUES} JSON values" in refused.json()["detail"][0]["msg"]


@pytest.mark.e2e
def test_a_response_stored_on_one_api_is_unknown_to_another():
    with serving() as base:
        made = httpx.post(
            f"{base}/openai-responses/v1/responses", json={"model": "gpt-4o", "input": "mine"}, headers=AUTH
        )
        assert made.status_code == 200
        offered = {"model": "gpt-4o", "input": "yours", "previous_response_id": made.json()["id"]}
        elsewhere = httpx.post(f"{base}/sequrity/control/chat/v1/responses", json=offered, headers=AUTH)
        assert elsewhere.status_code == 404 and "previous_response_id" in elsewhere.text
