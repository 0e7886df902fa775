"""Remembering answers: the mock is deterministic, so an identical request gets the identical answer.

The same request with the same seed always produces the same bytes (that is a promise of the mock),
so producing it again is wasted work. Only operations whose answer depends on nothing but the request
are cached: no state (jobs, stored responses, sessions), no injected faults, no stream (a stream is
paced and may be cut, so it is made fresh). An LRU bounded in entries and in bytes keeps memory flat.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response, StreamingResponse

MAX_ENTRIES = 2048
DEFAULT_CACHE_BYTES = 32 * 1024 * 1024
"""Bytes of answer bodies kept per process (``--cache-max-bytes``); 2048 answers of 256 KB would be 0.5 GB."""
MAX_BODY = 256 * 1024
"""Bigger answers are not kept: the cache is for the many small, repeated ones."""
VARYING_HEADERS = ("accept", "content-type", "host", "prefer")
"""Request headers that change the answer (besides the method, path, query and body)."""


@dataclass(slots=True)
class CachedAnswer:
    """A remembered answer (not frozen: a frozen dataclass is slower to make, and one is made per answer)."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    size: int
    """Bytes the entry holds: its body and the request body in its key (the rest is small)."""

    def response(self) -> Response:
        return RememberedResponse(self.status, list(self.headers), self.body)


class RememberedResponse(Response):
    """A remembered answer sent again as it was: status, headers (a fresh list: the one sending it may add some)
    and body. starlette's constructor would work out the headers anew only for them to be replaced."""

    def __init__(self, status: int, raw_headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status_code = status
        self.raw_headers = raw_headers
        self.body = body
        self.background = None


class AnswerCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[tuple[Any, ...], CachedAnswer] = OrderedDict()
        self._repeats: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
        """Whole requests (see :meth:`repeated`) → the key of the answer they got."""
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(
        api: str, operation: str, method: str, path: str, query: str, body: bytes, headers: dict[str, str]
    ) -> tuple[Any, ...]:
        """``operation`` too: AWS's operations share ``POST /`` and the same body, told apart by a header."""
        return (api, operation, method, path, query, body, *map(headers.get, VARYING_HEADERS))

    def get(self, key: tuple[Any, ...], repeat: tuple[Any, ...] | None = None) -> Response | None:
        """The answer remembered for ``key``; an identical ``repeat`` of the request will find it too."""
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        if repeat is not None:
            self._remember_repeat(repeat, key)
        return found.response()

    def repeated(self, repeat: tuple[Any, ...]) -> Response | None:
        """The answer remembered for a byte-identical earlier request (``repeat``: its path, query, every header and
        body), found before the request is parsed and checked again: the checks read nothing else, so they would
        pass again. None when there is none (the request then goes the whole way)."""
        key = self._repeats.get(repeat)
        if key is None or key not in self._entries:
            return None
        return self.get(key)

    def put(self, key: tuple[Any, ...], answer: Response, repeat: tuple[Any, ...] | None = None) -> None:
        """Keep a plain (non-streamed) 2xx answer; anything else is left alone."""
        if isinstance(answer, StreamingResponse) or not 200 <= answer.status_code < 300:
            return
        if len(answer.body) > min(MAX_BODY, self.max_bytes):
            return
        if repeat is not None:
            self._remember_repeat(repeat, key)
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.bytes -= previous.size
        body = bytes(answer.body)
        entry = CachedAnswer(answer.status_code, tuple(answer.raw_headers), body, len(body) + _request_size(key))
        self._entries[key] = entry
        self.bytes += entry.size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            self.bytes -= self._entries.popitem(last=False)[1].size

    def _remember_repeat(self, repeat: tuple[Any, ...], key: tuple[Any, ...]) -> None:
        self._repeats[repeat] = key
        self._repeats.move_to_end(repeat)
        while len(self._repeats) > self.max_entries:
            self._repeats.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def _request_size(key: tuple[Any, ...]) -> int:
    """Bytes of the request body in ``key`` (its sixth member, see ``AnswerCache.key``)."""
    return len(key[5]) if len(key) > 5 and isinstance(key[5], bytes) else 0
