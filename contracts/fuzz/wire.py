"""Judging a request by what went over the wire, not by what the generator meant to send.

schemathesis marks a case negative when the value it drew breaks the schema, but serialisation can
erase the breakage: a one-item array in a query string reads back as a string, and multipart turns
every value into text. Such a request is valid as sent, so a gateway that accepts it is right, and
``negative_data_rejection`` must not blame it. The judge is the same request validation the mock
server and ``apitwin check-traffic`` use.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from apitwin.contracts.traffic.check import TrafficChecker
from apitwin.mockserver.operations import compile_api
from apitwin.mockserver.recorded_urls import strip_base
from apitwin.recordings.records import RecordedExchange, RecordedRequest


class WireJudge:
    def __init__(self, document: dict[str, Any], base_url: str) -> None:
        self.checker = TrafficChecker(compile_api("fuzzed", document), urlsplit(base_url).path.rstrip("/"))

    def is_valid(self, prepared: Any) -> bool:
        """True when the prepared request (``requests.PreparedRequest``) breaks nothing the spec says."""
        if prepared is None:
            return False
        body = prepared.body.encode("utf-8") if isinstance(prepared.body, str) else prepared.body
        headers = {name.lower(): value for name, value in (prepared.headers or {}).items()}
        request = RecordedRequest(prepared.method or "GET", prepared.url or "", headers, body)
        path = strip_base(urlsplit(request.url).path, self.checker.base_path)
        if path is None:
            return False
        verdict = self.checker.check(RecordedExchange(0, "fuzz", request, None))
        return verdict.ok
