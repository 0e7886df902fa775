"""What a behaviour may use of the server that runs it, and nothing more.

A behaviour gets its request as an :class:`~apitwin.mockserver.behaviours.Exchange`; what lives longer than the
request comes from :class:`Services`: the state store, the clock, whether answers are self-checked, the kept
skeletons, how jobs move on, and the two ways of answering the server owns (an event stream, paced and cut as
the server's faults say; an error in the API's shape). Built once per server; the server itself is not reachable
from it, so a behaviour cannot come to depend on the server's other parts (its options, its journal, its routes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from starlette.responses import Response, StreamingResponse

    from apitwin.mockserver.behaviours.skeleton import Skeletons
    from apitwin.mockserver.operations import CompiledApi, Operation
    from apitwin.mockserver.pacing import Pacing
    from apitwin.mockserver.state.scoped import ScopedStore


class StreamAnswer(Protocol):
    """An event-stream answer of already-framed events (``pacing``: the request's, ``None`` for the server's)."""

    def __call__(
        self,
        frames: AsyncIterator[bytes],
        *,
        pacing: Pacing | None,
        status_code: int,
        media_type: str | None,
        headers: dict[str, str],
    ) -> StreamingResponse: ...


class ErrorAnswer(Protocol):
    """An error in the API's own shape for ``status``, naming what was wrong and where."""

    def __call__(
        self,
        api: CompiledApi,
        operation: Operation | None,
        status: int,
        message: str,
        path: str,
        *,
        location: str = "request",
        pointer: str = "",
        kind: str = ...,
    ) -> Response: ...


@dataclass(frozen=True, slots=True)
class JobTiming:
    """How a stored job moves on: one status every ``polls`` polls, or every ``seconds`` seconds when set
    (whichever comes first); ``paths``: per job family (its create path), the statuses to walk instead of the
    overlay's."""

    polls: int
    seconds: float | None
    paths: Mapping[str, Sequence[str]] | None


@dataclass(frozen=True, slots=True)
class Services:
    store: ScopedStore
    """Jobs, stored responses, sessions and media, scoped by API and credential."""
    clock: Callable[[], float]
    """Seconds since the epoch (tests inject one)."""
    self_check: bool
    """Whether every answer a behaviour makes is validated against its schema before it goes out."""
    skeletons: Skeletons
    """Where an answer's fixed parts come from (drawn anew, or kept: the fast path)."""
    jobs: JobTiming
    stream: StreamAnswer
    error: ErrorAnswer
