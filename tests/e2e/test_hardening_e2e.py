"""Issue 16 against a real `apitwin serve` on loopback: valid requests never get a 500, hostile ones a 4xx."""

from __future__ import annotations

import httpx
import pytest

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
