"""What is wrong with a request, as a value: the CLI, the HTTP error body and pytest all render it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a request breaks the spec.

    ``location`` is where in the request (``body``, ``query``, ``path``, ``header``,
    ``content-type``, ``auth``); ``pointer`` is a JSON pointer inside it (for parameters,
    the parameter's name).
    """

    operation: str
    location: str
    pointer: str
    expected: str
    received: str
    message: str
    keyword: str = ""
    """The JSON Schema keyword that failed (``type``, ``required``, …), when a schema judged it."""

    def kind(self) -> str:
        if self.keyword:
            return self.keyword
        return "missing" if self.received == "nothing" else "value_error"

    def field(self) -> str:
        """``body/messages/0/role``, ``query limit``: how a message names the field."""
        if self.location == "body":
            return "body" + (self.pointer or "")
        return f"{self.location} {self.pointer}".strip()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def masked(self) -> Violation:
        """The violation without the caller's value: what the shared request log shows to non-admins.

        The message is rebuilt from the field and what the spec expected, since a validator's
        wording quotes the value (a card number in a string field, a key in a prompt).
        """
        shown = mask(self.received)
        if shown == self.received:
            return self
        message = f"{self.field()}: expected {self.expected}, received {shown}"
        return replace(self, received=shown, message=message)


def describe(value: Any, limit: int = 80) -> str:
    """A short, readable rendering of a received value."""
    import json

    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate as its escape
    return text if len(text) <= limit else text[: limit - 1] + "…"


KEPT = ("nothing", "null", "true", "false")
"""Received values that say nothing about the caller's data, shown as they are."""


def mask(received: str) -> str:
    """A described value (see :func:`describe`) reduced to its JSON type."""
    if received in KEPT or not received:
        return received
    kind = {'"': "string", "{": "object", "[": "array"}.get(received[0])
    if kind is None:
        kind = "number" if received[0] in "-0123456789" else "value"
    return f"<{kind}>"
