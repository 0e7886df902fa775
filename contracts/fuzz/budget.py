"""The request budget: every HTTP request leaves through one counting, rate-limited adapter.

Calls to a real gateway cost money, so the budget is enforced where requests are sent, not where
cases are planned: schemathesis' own follow-up requests (auth probes, retries on a dropped
connection) pass through the same adapter and are counted and refused like any other.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class BudgetExhausted(Exception):
    """Raised instead of sending a request once ``max_requests`` have been sent."""


@dataclass(slots=True)
class Budget:
    """At most ``max_requests`` requests (``None``: no limit), at most ``rate`` per second."""

    max_requests: int | None = None
    rate: float | None = None
    sent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_slot: float = 0.0

    def acquire(self) -> None:
        """Reserve one request or raise :class:`BudgetExhausted`; waits for the rate limit."""
        with self._lock:
            if self.max_requests is not None and self.sent >= self.max_requests:
                raise BudgetExhausted(f"the budget of {self.max_requests} requests is spent")
            self.sent += 1
            wait = self._reserve_slot()
        if wait > 0:
            time.sleep(wait)

    @property
    def exhausted(self) -> bool:
        return self.max_requests is not None and self.sent >= self.max_requests

    def _reserve_slot(self) -> float:
        """Seconds to wait so requests start at least ``1/rate`` apart (caller holds the lock)."""
        if not self.rate:
            return 0.0
        now = time.monotonic()
        start = max(now, self._next_slot)
        self._next_slot = start + 1.0 / self.rate
        return start - now


def parse_rate(text: str | None) -> float | None:
    """``"5/s"``, ``"5"``, ``"120/m"`` → requests per second."""
    if not text:
        return None
    number, _, unit = text.strip().partition("/")
    per = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}.get(unit.strip().lower())
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if per is None or value <= 0:
        raise ValueError(f"rate must look like 5/s, 120/m or 2.5 (requests per second), got {text!r}")
    return value / per


@dataclass(slots=True)
class Arrival:
    """When each piece of a response body arrived (seconds since the request was sent)."""

    started: float
    reads: list[tuple[float, int]] = field(default_factory=list)


class CountingAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that takes a budget slot before every send and times body reads."""

    def __init__(self, budget: Budget, arrivals: weakref.WeakKeyDictionary[Any, Arrival]) -> None:
        super().__init__()
        self.budget = budget
        self.arrivals = arrivals
        self.sent = 0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.budget.acquire()
        self.sent += 1
        started = time.monotonic()
        response = super().send(request, *args, **kwargs)
        arrival = Arrival(started)
        self.arrivals[request] = arrival
        _time_reads(response, arrival)
        return response


def _time_reads(response: requests.Response, arrival: Arrival) -> None:
    """Record each ``read1`` of the raw body: one read is at most one HTTP chunk as the server wrote it."""
    raw = response.raw
    original = getattr(raw, "read1", None)
    if original is None:
        return

    def timed_read1(*args: Any, **kwargs: Any) -> bytes:
        data = original(*args, **kwargs)
        if data:
            arrival.reads.append((time.monotonic() - arrival.started, len(data)))
        return data

    raw.read1 = timed_read1  # type: ignore[method-assign]  # timing each read of this one response


class BudgetSession(requests.Session):
    """A session whose every request goes through a :class:`CountingAdapter`."""

    def __init__(self, budget: Budget) -> None:
        super().__init__()
        self.budget = budget
        self.arrivals: weakref.WeakKeyDictionary[Any, Arrival] = weakref.WeakKeyDictionary()
        self.adapter = CountingAdapter(budget, self.arrivals)
        self.mount("http://", self.adapter)
        self.mount("https://", self.adapter)

    @property
    def sent(self) -> int:
        """Requests this session sent (a session serves one worker thread)."""
        return self.adapter.sent

    def arrival_of(self, request: Any) -> Arrival | None:
        try:
            return self.arrivals.get(request)
        except TypeError:
            return None
