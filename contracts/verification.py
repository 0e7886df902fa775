"""WireMock-style verification for client tests: what the mock was asked, and whether it was asked as expected.

``apitwin_mock.requests`` is the mock's journal (a list of entries, as it always was); called, it gives the
requests parsed (``apitwin_mock.requests(operation="createChatCompletion")``: bodies as JSON).
``apitwin_mock.assert_called(operation, times=1, body_matches={"model": "gpt-4o"})`` fails with the calls it
saw and, for each, the first field that did not match.

``body_matches`` is a pattern: an object matches an object holding at least its keys, each matching; any other
value must be equal (lists element by element, same length).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from apitwin.mockserver.journal import Entry
from apitwin.mockserver.violations import Violation
from apitwin.specs.pointer import escape

_UNREADABLE = object()


@dataclass(frozen=True, slots=True)
class SeenRequest:
    """A request the mock received, parsed: ``body`` is the JSON value (the text when it is not JSON)."""

    sequence: int
    method: str
    path: str
    query: str
    operation: str
    status: int
    headers: dict[str, str]
    """Lower-case names; credentials masked."""
    body: Any
    body_truncated: bool = False
    """The body was longer than the journal keeps; ``body`` is then None."""
    violations: list[Violation] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.violations


def parsed(entry: Entry) -> SeenRequest:
    body: Any = None
    truncated = entry.request_body is not None and entry.request_body.truncated
    if entry.request_body is not None and not truncated:
        try:
            body = json.loads(entry.request_body.text)
        except ValueError:
            body = entry.request_body.text
    return SeenRequest(
        entry.sequence,
        entry.method,
        entry.path,
        entry.query,
        entry.operation,
        entry.status,
        {name.lower(): value for name, value in entry.request_headers},
        body,
        truncated,
        list(entry.violations),
    )


class Requests(list[Entry]):
    """The journal's entries; ``requests(operation=...)`` gives them parsed, optionally for one operation."""

    def __call__(self, operation: str | None = None) -> list[SeenRequest]:
        return [parsed(entry) for entry in self if operation is None or entry.operation == operation]


def mismatch(actual: Any, pattern: Any, pointer: str = "") -> str | None:
    """Where ``actual`` first differs from ``pattern`` (``/messages/0/role: expected "user", got "system"``)."""
    if isinstance(pattern, dict):
        if not isinstance(actual, dict):
            return f"{pointer or '/'}: expected an object, got {_shown(actual)}"
        for key, wanted in pattern.items():
            inner = f"{pointer}/{escape(str(key))}"
            if key not in actual:
                return f"{inner}: missing (expected {_shown(wanted)})"
            found = mismatch(actual[key], wanted, inner)
            if found is not None:
                return found
        return None
    if isinstance(pattern, list):
        if not isinstance(actual, list) or len(actual) != len(pattern):
            return f"{pointer or '/'}: expected {_shown(pattern)}, got {_shown(actual)}"
        for index, (item, wanted) in enumerate(zip(actual, pattern, strict=True)):
            found = mismatch(item, wanted, f"{pointer}/{index}")
            if found is not None:
                return found
        return None
    if actual != pattern or type(actual) is not type(pattern):
        return f"{pointer or '/'}: expected {_shown(pattern)}, got {_shown(actual)}"
    return None


def assert_called(
    entries: Iterable[Entry], operation: str, *, times: int | None = None, body_matches: Any = None, api: str = ""
) -> list[SeenRequest]:
    """The calls of ``operation`` whose body matches; AssertionError when there are none (or not ``times``)."""
    __tracebackhide__ = True  # pytest shows the test's line and the message, not this function
    calls = [parsed(entry) for entry in entries if entry.operation == operation]
    reasons = {call.sequence: _reason(call, body_matches) for call in calls}
    matching = [call for call in calls if reasons[call.sequence] is None]
    if (times is None and matching) or (times is not None and len(matching) == times):
        return matching
    wanted = "at least once" if times is None else f"{times} time(s)"
    pattern = "" if body_matches is None else f" with a body matching {_shown(body_matches, 200)}"
    lines = [
        f"apitwin: expected {operation} to be called {wanted}{pattern}; "
        f"it was called {len(calls)} time(s), {len(matching)} matching"
    ]
    for call in calls:
        reason = reasons[call.sequence]
        lines.append(f"  #{call.sequence} {call.method} {call.path} -> {call.status}: {reason or 'matches'}")
    if not calls:
        called = sorted({entry.operation or "(no operation)" for entry in entries})
        lines.append(f"  operations called{f' on {api}' if api else ''}: {', '.join(called) or 'none'}")
    raise AssertionError("\n".join(lines))


def _reason(call: SeenRequest, pattern: Any) -> str | None:
    if pattern is None:
        return None
    if call.body_truncated:
        return "body too long for the journal to keep whole (raise journal_body_bytes)"
    return mismatch(call.body, pattern)


def _shown(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 1] + "…"
