"""httpx chat clients of an OpenAI-style ``POST /v1/chat/completions``, each wrong in one way.

Like much real client code, none of them checks the status: the mistake only shows when
something holds the request to the spec.
"""

from __future__ import annotations

from typing import Any

import httpx

MODEL = "gpt-4o"
MESSAGES = [{"role": "user", "content": "Say hello"}]


def _post(base_url: str, api_key: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{base_url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {api_key}"}, timeout=10
    )


def max_tokens_as_string(base_url: str, api_key: str) -> httpx.Response:
    """Reads the limit from a config file and forgets to convert it: ``"max_tokens": "10"``."""
    return _post(base_url, api_key, {"model": MODEL, "messages": MESSAGES, "max_tokens": "10"})


def unknown_model(base_url: str, api_key: str) -> httpx.Response:
    """Asks for a model the gateway does not offer (a typo in the id)."""
    return _post(base_url, api_key, {"model": "gpt-4o-turbo-typo", "messages": MESSAGES})


def missing_messages(base_url: str, api_key: str) -> httpx.Response:
    """Sends the prompt under the wrong name, so the required ``messages`` is missing."""
    return _post(base_url, api_key, {"model": MODEL, "prompt": "Say hello"})


def correct(base_url: str, api_key: str) -> httpx.Response:
    return _post(base_url, api_key, {"model": MODEL, "messages": MESSAGES, "max_tokens": 10})
