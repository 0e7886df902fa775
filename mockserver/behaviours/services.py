"""What a behaviour may use of the server that runs it, and nothing more.

A behaviour gets its request as an :class:`~apitwin.mockserver.behaviours.Exchange`; what lives longer than the
request comes from :class:`Services`: the state store, the clock, whether answers are self-checked, the kept
skeletons, how jobs move on, and how an event stream goes out (paced, and cut as the request's faults say).
Built once per server; the server itself is not reachable from it, so a behaviour cannot come to depend on the
server's other parts (its options, its journal, its routes). An error in the API's shape needs no server
(``mockserver.error_responses``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apitwin.mockserver.behaviours.skeleton import Skeletons
    from apitwin.mockserver.pacing import Streams
    from apitwin.mockserver.state.scoped import ScopedStore


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
    streams: Streams
    """How an event stream goes out: paced, and cut where the request's faults say."""
