"""Chat clients built on the ``openai`` SDK: used correctly, and two ways of reading the reply."""

from __future__ import annotations

import openai

MESSAGES = [{"role": "user", "content": "Say hello"}]


def client_for(base_url: str, api_key: str) -> openai.OpenAI:
    """No retries: a drawn 429 or 5xx answer should reach the code under test at once."""
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=0, timeout=10)


def ask(client: openai.OpenAI, model: str) -> str:
    """The SDK used as documented: an id, messages, an integer ``max_tokens``."""
    completion = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=10)
    return completion.choices[0].message.content or ""


def shout_reply_naive(client: openai.OpenAI, model: str) -> str:
    """Assumes there is a choice and that it has text: crashes on ``content: null``."""
    completion = client.chat.completions.create(model=model, messages=MESSAGES)
    return completion.choices[0].message.content.upper()


def shout_reply_careful(client: openai.OpenAI, model: str) -> str:
    """Copes with every answer the spec allows: errors, no choices, a null or missing content."""
    try:
        completion = client.chat.completions.create(model=model, messages=MESSAGES)
    except openai.APIStatusError as error:
        return f"<error {error.status_code}>"
    if not completion.choices:
        return ""
    content = completion.choices[0].message.content
    return content.upper() if isinstance(content, str) else ""
