"""Remembering answers: the mock is deterministic, so an identical request gets the identical answer.

The same request with the same seed always produces the same bytes (that is a promise of the mock),
so producing it again is wasted work. Only operations whose answer depends on nothing but the request
are cached: no state (jobs, stored responses, sessions), no injected faults, no stream (a stream is
paced and may be cut, so it is made fresh). A bounded LRU keeps memory flat.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response, StreamingResponse

MAX_ENTRIES = 2048
MAX_BODY = 256 * 1024
"""Bigger answers are not kept: the cache is for the many small, repeated ones."""
VARYING_HEADERS = ("accept", "content-type", "host", "prefer")
"""Request headers that change the answer (besides the method, path, query and body)."""


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def response(self) -> Response:
        answer = Response(self.body, status_code=self.status)
        answer.raw_headers = list(self.headers)
        return answer


class AnswerCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], CachedAnswer] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(api: str, method: str, path: str, query: str, body: bytes, headers: dict[str, str]) -> tuple[Any, ...]:
        return (api, method, path, query, body, *(headers.get(name) for name in VARYING_HEADERS))

    def get(self, key: tuple[Any, ...]) -> Response | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return found.response()

    def put(self, key: tuple[Any, ...], answer: Response) -> None:
        """Keep a plain (non-streamed) 2xx answer; anything else is left alone."""
        if isinstance(answer, StreamingResponse) or not 200 <= answer.status_code < 300 or len(answer.body) > MAX_BODY:
            return
        self._entries[key] = CachedAnswer(answer.status_code, tuple(answer.raw_headers), bytes(answer.body))
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
