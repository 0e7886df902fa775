"""What makes a stream's ``*.delta`` events and its ``*.done`` event agree: one rule for the mock that writes
streams and for the checks that judge them (``contracts.sse``).

A delta belongs to the family its type names (``transcript.text.delta`` → ``transcript.text``) and to the
part its identifying fields point at (``item_id``, ``output_index``, …); the family's ``.done`` event for
the same part carries, in its one text field, all the deltas joined.
"""

from __future__ import annotations

from typing import Any

from apitwin.mockserver.edits import Judge, keep_valid

IDENTIFYING_FIELDS = ("item_id", "output_index", "content_index", "summary_index")
NON_TEXT_FIELDS = frozenset({"type", "item_id", "id", "obfuscation", "event_id"})


def delta_key(family: str, payload: dict[str, Any]) -> tuple[Any, ...]:
    """Which joined text a ``family.delta`` or ``family.done`` event belongs to."""
    return (family, *(payload.get(name) for name in IDENTIFYING_FIELDS))


def done_text_field(payload: dict[str, Any]) -> str | None:
    """The one text field of a ``.done`` event (None when it has none, or several: nothing to compare)."""
    texts = [name for name, value in payload.items() if isinstance(value, str) and name not in NON_TEXT_FIELDS]
    return texts[0] if len(texts) == 1 else None


class DeltaJoiner:
    """Follows a stream's deltas and makes each ``.done`` event carry what they joined to."""

    def __init__(self) -> None:
        self.joined: dict[tuple[Any, ...], str] = {}

    def settle(self, payload: Any, validator: Judge) -> Any:
        """``payload`` with a ``.done`` text set to its deltas joined (kept only while ``validator`` accepts it)."""
        kind = payload.get("type") if isinstance(payload, dict) else None
        if not isinstance(kind, str):
            return payload
        if kind.endswith(".delta") and isinstance(payload.get("delta"), str):
            key = delta_key(kind.removesuffix(".delta"), payload)
            self.joined[key] = self.joined.get(key, "") + payload["delta"]
        elif kind.endswith(".done"):
            key = delta_key(kind.removesuffix(".done"), payload)
            name = done_text_field(payload)
            if key in self.joined and name is not None and payload[name] != self.joined[key]:
                return keep_valid(validator, payload, (name,), self.joined[key])
        return payload
