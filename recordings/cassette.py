"""Reading schemathesis cassettes: the VCR-style YAML of ``st run --report vcr``."""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeGuard

from apitwin.recordings.records import (
    RecordedExchange,
    RecordedRequest,
    RecordedResponse,
    TrafficError,
    join_headers,
)


def is_cassette(document: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(document, dict) and "http_interactions" in document


def exchanges(file: str, document: dict[str, Any]) -> list[RecordedExchange]:
    interactions = document["http_interactions"]
    if interactions is None:  # a run that recorded nothing
        return []
    if not isinstance(interactions, list):
        raise TrafficError(file, "http_interactions is not a list")
    return [_exchange(file, number, item) for number, item in enumerate(interactions, start=1)]


def _exchange(file: str, number: int, item: Any) -> RecordedExchange:
    where = f"http_interactions[{number - 1}]"
    if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
        raise TrafficError(file, f"{where}: an interaction needs a request mapping")
    raw_request = item["request"]
    if not isinstance(raw_request.get("method"), str) or not isinstance(raw_request.get("uri"), str):
        raise TrafficError(file, f"{where}.request: method and uri must be strings")
    request = RecordedRequest(
        method=raw_request["method"].upper(),
        url=raw_request["uri"],
        headers=join_headers(_pairs(file, f"{where}.request.headers", raw_request.get("headers"))),
        body=_body(file, f"{where}.request.body", raw_request.get("body")),
    )
    label = f"interaction {item['id']!r}" if item.get("id") is not None else where
    exchange = RecordedExchange(number, label, request, None, intentionally_invalid=_negative(item))
    raw_response = item.get("response")
    if not isinstance(raw_response, dict):
        exchange.notes.append("no response was recorded (the request failed)")
        return exchange
    exchange.response = RecordedResponse(
        status=_status(file, where, raw_response.get("status")),
        headers=join_headers(_pairs(file, f"{where}.response.headers", raw_response.get("headers"))),
        body=_body(file, f"{where}.response.body", raw_response.get("body")),
        truncated="truncated_from" in raw_response,
    )
    return exchange


def _negative(item: dict[str, Any]) -> bool:
    generation = item.get("generation")
    return isinstance(generation, dict) and generation.get("mode") == "negative"


def _status(file: str, where: str, status: Any) -> int:
    code = status.get("code") if isinstance(status, dict) else None
    try:
        return int(code)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TrafficError(file, f"{where}.response.status.code: expected a status code, found {code!r}") from None


def _pairs(file: str, where: str, headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise TrafficError(file, f"{where}: expected a mapping of header name to values")
    pairs = []
    for name, values in headers.items():
        for value in values if isinstance(values, list) else [values]:
            pairs.append((str(name), str(value)))
    return pairs


def _body(file: str, where: str, body: Any) -> bytes | None:
    if not isinstance(body, dict):
        return None
    encoding = body.get("encoding") or "utf-8"
    if isinstance(body.get("base64_string"), str):  # st run --report-preserve-bytes
        try:
            return base64.b64decode(body["base64_string"], validate=True)
        except (binascii.Error, ValueError):
            raise TrafficError(file, f"{where}.base64_string: not valid base64") from None
    if isinstance(body.get("string"), str):
        try:
            return body["string"].encode(encoding)
        except (LookupError, UnicodeEncodeError):
            return body["string"].encode("utf-8")
    return None
