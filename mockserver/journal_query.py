"""The filters of ``GET /_apitwin/requests`` (and of the live journal stream), read from a query string.

- ``operation=createChatCompletion``: the matched ``operationId`` (``operation=`` alone: requests that matched none);
- ``status=429`` or ``status=4xx``: an exact status or a class;
- ``valid=true|false``: the verdict (false: the request or its answer broke the spec, or was refused);
- ``since=N``: entries after sequence number ``N`` (every entry carries its ``sequence``; poll with the last one
  seen). Sequence numbers, not timestamps: they never repeat or go backwards, whatever the clock does;
- ``api=NAME``: one API of several served;
- ``limit=N``: only the last ``N`` entries that match.

A value that cannot be read is a :class:`QueryError` naming the parameter, answered as a 400.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs

from apitwin.mockserver.journal import Entry

KNOWN = ("operation", "status", "valid", "since", "api", "limit")


class QueryError(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True, slots=True)
class Filters:
    operation: str | None = None
    status: int | None = None
    status_class: int | None = None
    valid: bool | None = None
    since: int = 0
    api: str | None = None
    limit: int | None = None

    def matches(self, entry: Entry) -> bool:
        if entry.sequence <= self.since:
            return False
        if self.operation is not None and entry.operation != self.operation:
            return False
        if self.api is not None and entry.api != self.api:
            return False
        if self.status is not None and entry.status != self.status:
            return False
        if self.status_class is not None and entry.status // 100 != self.status_class:
            return False
        return self.valid is None or entry.valid == self.valid

    def select(self, entries: Iterable[Entry]) -> list[Entry]:
        chosen = [entry for entry in entries if self.matches(entry)]
        return chosen[-self.limit :] if self.limit else chosen


def parse(query: str) -> Filters:
    """The filters a query string asks for; unknown or repeated parameters are refused too."""
    values = parse_qs(query, keep_blank_values=True)
    for name, given in values.items():
        if name not in KNOWN:
            raise QueryError(name, f"unknown parameter {name!r}; known: {', '.join(KNOWN)}")
        if len(given) > 1:
            raise QueryError(name, f"{name} is given {len(given)} times; give it once")
    one = {name: given[0] for name, given in values.items()}
    status, status_class = _status(one.get("status"))
    return Filters(
        operation=one.get("operation"),
        status=status,
        status_class=status_class,
        valid=_boolean(one.get("valid")),
        since=_whole("since", one.get("since")) or 0,
        api=one.get("api") or None,
        limit=_whole("limit", one.get("limit")) or None,
    )


def _status(text: str | None) -> tuple[int | None, int | None]:
    if text is None:
        return None, None
    if len(text) == 3 and text[0] in "12345" and text[1:].lower() == "xx":
        return None, int(text[0])
    if text.isdigit() and 100 <= int(text) <= 599:
        return int(text), None
    raise QueryError("status", f"status must be an HTTP status (100-599) or a class such as 4xx, got {text!r}")


def _boolean(text: str | None) -> bool | None:
    if text is None:
        return None
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise QueryError("valid", f"valid must be true or false, got {text!r}")


def _whole(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise QueryError(name, f"{name} must be a whole number (a sequence number for since), got {text!r}")
    return int(text)
