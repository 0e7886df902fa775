"""``apitwin serve --replay DIR``: a request that was recorded gets the recorded answer.

Recordings are HAR files (``apitwin proxy --record`` writes one per exchange). A request matches a
recording on method, path (as the spec sees it: whatever base path the recording carried is stripped),
query and canonical body: JSON with sorted keys, without the top-level fields of the ignore-list
(``user``, ``metadata``: they differ between runs and do not change the answer). A streamed answer is
re-paced as recorded (each read at its recorded offset, waited out by the server's injected sleep) or sent
at once with ``pace="none"``. The index is built once, at start.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.responses import Response, StreamingResponse

from apitwin.mockserver.operations import CompiledApi

DEFAULT_IGNORE = ("user", "metadata")
PACES = ("recorded", "none")
NOT_REPLAYED = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "upgrade",
        "te",
        "trailer",
        "content-length",
        "content-encoding",
        "date",
        "server",
    }
)
"""Set again by the server that replays (a recording keeps the body decoded)."""
MASKED = "[masked]"


class ReplayError(Exception):
    """Recordings that cannot be replayed (no such directory, an unreadable file): the CLI names the option."""


@dataclass(frozen=True, slots=True)
class Recording:
    api: str
    method: str
    path: str
    query: str
    body_key: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    chunks: tuple[tuple[float, int], ...] | None
    source: str

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")


class Replay:
    def __init__(
        self,
        recordings: Iterable[Recording],
        *,
        pace: str = "recorded",
        strict: bool = False,
        ignore: Iterable[str] = DEFAULT_IGNORE,
    ) -> None:
        if pace not in PACES:
            raise ReplayError(f"pace {pace!r} is not one of {', '.join(PACES)}")
        self.pace = pace
        self.strict = strict
        self.ignore = frozenset(ignore)
        self.recordings = list(recordings)
        self.index: dict[tuple[str, str, str, str, str], Recording] = {}
        for recording in self.recordings:  # the first recording of a request wins, as it was first answered
            self.index.setdefault(_key(recording), recording)

    def find(self, api: str, method: str, path: str, query: str, raw: bytes) -> Recording | None:
        return self.index.get((api, method, path, canonical_query(query), canonical_body(raw, self.ignore)))

    def answer(self, recording: Recording, sleep: Callable[[float], Awaitable[None]]) -> Response:
        headers = {name: value for name, value in recording.headers}
        chunks = recording.chunks
        if not chunks or len(chunks) < 2 or sum(size for _, size in chunks) != len(recording.body):
            return Response(recording.body, status_code=recording.status, headers=headers)
        return StreamingResponse(
            _paced(recording.body, chunks, sleep if self.pace == "recorded" else None),
            status_code=recording.status,
            headers=headers,
        )

    def miss(self, api: str, method: str, path: str, query: str, raw: bytes, limit: int = 3) -> str:
        """Why nothing matched, naming the nearest recorded requests and how they differ."""
        wanted = _json(raw)
        ranked = sorted(
            (recording for recording in self.recordings if recording.api == api),
            key=lambda recording: (
                (recording.method, recording.path) != (method, path),
                len(_differences(wanted, _json(recording.body_key.encode()), self.ignore)),
                recording.source,
            ),
        )
        label = f"{method} {path}" + (f"?{query}" if query else "")
        if not ranked:
            return f"no recorded answer for {label}: the recordings hold nothing for this API (--replay-strict)"
        nearest = []
        for recording in ranked[:limit]:
            differences = _differences(wanted, _json(recording.body_key.encode()), self.ignore)
            how = f"body differs in {', '.join(differences)}" if differences else "query differs"
            if (recording.method, recording.path) != (method, path):
                how = "another operation"
            nearest.append(f"{recording.label} [{recording.source}] ({how})")
        return f"no recorded answer for {label} (--replay-strict); nearest recorded requests: " + "; ".join(nearest)


def load(directory: str | Path, apis: Iterable[CompiledApi], **options: Any) -> Replay:
    """The recordings of ``directory`` (a HAR file or a directory of them), each routed to the API it belongs to."""
    from apitwin.mockserver.recorded_urls import detect_base_path, strip_base, url_path
    from apitwin.recordings.records import TrafficError, read_recordings

    try:
        exchanges = read_recordings(Path(directory))
    except TrafficError as error:
        raise ReplayError(str(error)) from None
    ignore = frozenset(options.get("ignore", DEFAULT_IGNORE))
    recordings = []
    paths = [url_path(exchange.request.url) for exchange in exchanges]
    for api in apis:
        base = detect_base_path(api, paths)
        for exchange, full_path in zip(exchanges, paths, strict=True):
            path = strip_base(full_path, base)
            response = exchange.response
            if path is None or response is None or response.body is None:
                continue
            if not api.router.match(path, exchange.request.method).found_path:
                continue
            recordings.append(
                Recording(
                    api=api.name,
                    method=exchange.request.method,
                    path=path,
                    query=canonical_query(urlsplit(exchange.request.url).query),
                    body_key=canonical_body(exchange.request.body or b"", ignore),
                    status=response.status,
                    headers=tuple(
                        (name, value)
                        for name, value in response.headers.items()
                        if name not in NOT_REPLAYED and MASKED not in value
                    ),
                    body=response.body,
                    chunks=tuple(response.chunks) if response.chunks else None,
                    source=exchange.source,
                )
            )
    return Replay(recordings, **options)


def canonical_query(query: str) -> str:
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


def canonical_body(raw: bytes, ignore: frozenset[str]) -> str:
    """JSON with sorted keys and the ignored top-level fields left out; any other body as its text."""
    value = _json(raw)
    if value is _NOT_JSON:
        return raw.decode("utf-8", "replace")
    if isinstance(value, dict):
        value = {key: item for key, item in value.items() if key not in ignore}
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_NOT_JSON = object()


def _json(raw: bytes) -> Any:
    if not raw.strip():
        return _NOT_JSON
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _differences(wanted: Any, recorded: Any, ignore: frozenset[str]) -> list[str]:
    """The top-level fields in which two JSON bodies differ (``body`` when either is not an object)."""
    if not isinstance(wanted, dict) or not isinstance(recorded, dict):
        return [] if wanted == recorded else ["body"]
    names = sorted((set(wanted) | set(recorded)) - ignore)
    return [name for name in names if wanted.get(name, _NOT_JSON) != recorded.get(name, _NOT_JSON)]


def _key(recording: Recording) -> tuple[str, str, str, str, str]:
    return (recording.api, recording.method, recording.path, recording.query, recording.body_key)


async def _paced(
    body: bytes, chunks: tuple[tuple[float, int], ...], sleep: Callable[[float], Awaitable[None]] | None
) -> AsyncIterator[bytes]:
    position, previous = 0, 0.0
    for offset, size in chunks:
        if sleep is not None and offset > previous:
            await sleep((offset - previous) / 1000)
        previous = max(previous, offset)
        yield body[position : position + size]
        position += size
