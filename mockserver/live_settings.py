"""Faults and pacing per API, changed while the mock runs (the dashboard, ``PUT /_apitwin/settings/<api>``).

Every API starts with the server's options (``--faults``, ``--latency``, ``--slow-first-byte``,
``--cut-stream-after``, ``--ttft``, ``--tokens-per-second``). A change names only the fields it changes, in the
options' own terms, and is checked by the same parsers the options go through::

    {"faults": "429:1", "latency_ms": 200, "first_byte_ms": 0, "cut_stream_after": null,
     "ttft_ms": 300, "tokens_per_second": 40}

A request's ``X-Apitwin-Faults`` / ``X-Apitwin-Pacing`` header still overrides its API's settings. Settings live
in the process that received the change: with ``--workers N`` each worker has its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from apitwin.mockserver.faults import MAX_DELAY_MS, FaultError, Faults
from apitwin.mockserver.faults import parse as parse_faults
from apitwin.mockserver.pacing import Pacing, PacingError, checked

FIELDS = ("faults", "latency_ms", "first_byte_ms", "cut_stream_after", "ttft_ms", "tokens_per_second")


class SettingsError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class ApiSettings:
    faults: Faults
    pacing: Pacing

    def as_dict(self) -> dict[str, Any]:
        return {
            "faults": ",".join(f"{status}:{rate:g}" for status, rate in self.faults.rates),
            "latency_ms": self.faults.latency_ms,
            "first_byte_ms": self.faults.first_byte_ms,
            "cut_stream_after": self.faults.cut_after,
            "ttft_ms": self.pacing.ttft_ms,
            "tokens_per_second": self.pacing.tokens_per_second,
        }


class LiveSettings:
    def __init__(self, names: list[str], faults: Faults, pacing: Pacing) -> None:
        self._by_api = {name: ApiSettings(faults, pacing) for name in names}

    def __getitem__(self, api: str) -> ApiSettings:
        return self._by_api[api]

    def __contains__(self, api: str) -> bool:
        return api in self._by_api

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {name: settings.as_dict() for name, settings in self._by_api.items()}

    def change(self, api: str, given: Any) -> ApiSettings:
        """Apply the fields ``given`` names to ``api``'s settings; a :class:`SettingsError` names a bad field."""
        if not isinstance(given, dict):
            raise SettingsError("", f"expected a JSON object with some of {', '.join(FIELDS)}")
        for name in given:
            if name not in FIELDS:
                raise SettingsError(name, f"unknown setting {name!r}; known: {', '.join(FIELDS)}")
        current = self._by_api[api]
        merged = {**current.as_dict(), **given}
        for name in ("latency_ms", "first_byte_ms", "ttft_ms", "tokens_per_second"):
            _number(name, merged[name])
        for name in ("latency_ms", "first_byte_ms"):
            if not 0 <= merged[name] <= MAX_DELAY_MS:
                raise SettingsError(name, f"{name} must be between 0 and {MAX_DELAY_MS:.0f}, got {merged[name]}")
        cut = merged["cut_stream_after"]
        if cut is not None and (isinstance(cut, bool) or not isinstance(cut, int) or cut < 0):
            raise SettingsError(
                "cut_stream_after", f"cut_stream_after must be a whole number of events or null, got {cut!r}"
            )
        if not isinstance(merged["faults"], str):
            raise SettingsError("faults", "faults must be a string such as 429:0.05,500:0.01 (empty: none)")
        try:
            faults = parse_faults(
                merged["faults"],
                latency_ms=merged["latency_ms"],
                first_byte_ms=merged["first_byte_ms"],
                cut_after=merged["cut_stream_after"],
                source="faults",
            )
        except FaultError as error:
            raise SettingsError("faults", str(error)) from None
        try:
            pacing = checked(merged["ttft_ms"], merged["tokens_per_second"])
        except PacingError as error:
            raise SettingsError("ttft_ms" if "ttft" in str(error) else "tokens_per_second", str(error)) from None
        self._by_api[api] = replace(current, faults=faults, pacing=pacing)
        return self._by_api[api]


def _number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise SettingsError(name, f"{name} must be a number, got {value!r}")
