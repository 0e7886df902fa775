"""What an answer message says, for every behaviour that writes one (chat choices, Responses messages): free text,
or the JSON its caller's format asks for; cut to the caller's token budget, and counted."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from typing import Any

from apitwin.mockserver.behaviours.structured import Call, caller_value
from apitwin.mockserver.behaviours.text import compose, compose_counted, count_tokens, truncate

JSON_FORMATS = ("json_object", "json_schema")


def message_content(form: Any, schema: Any, rng: random.Random) -> tuple[str, int | None]:
    """(free text, its tokens), or (JSON, None) when ``form`` (a ``response_format`` or ``text.format`` object)
    asks for it: valid against ``schema`` for ``json_schema`` (any object without one), else ``{"answer": …}``."""
    kind = form.get("type") if isinstance(form, dict) else None
    if kind == "json_schema":
        found, value = caller_value(schema if schema is not None else {"type": "object"}, rng)
        if found:
            return json.dumps(value, ensure_ascii=False), None
    if kind in JSON_FORMATS:
        return json.dumps({"answer": compose(rng)}, ensure_ascii=False), None
    return compose_counted(rng)


def within(content: str, counted: int | None, budget: int | None) -> tuple[str, bool, int]:
    """``content`` cut to ``budget`` tokens: (the text, whether it was cut, its tokens); ``counted`` saves counting
    what was not cut."""
    text, cut = truncate(content, budget)
    return text, cut, counted if counted is not None and not cut else count_tokens(text)


def call_tokens(calls: Iterable[Call]) -> int:
    """Tokens the names and arguments of tool calls take."""
    return sum(count_tokens(call.name) + count_tokens(call.arguments) for call in calls)
