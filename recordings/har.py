"""Reading HAR 1.2 files (browser dev tools, proxies, ``st run --report har``)."""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeGuard
from urllib.parse import urlencode

from apitwin.recordings.records import (
    RecordedExchange,
    RecordedRequest,
    RecordedResponse,
    TrafficError,
    join_headers,
)


def is_har(document: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(document, dict) and isinstance(document.get("log"), dict) and "entries" in document["log"]


def exchanges(file: str, document: dict[str, Any]) -> list[RecordedExchange]:
    entries = document["log"]["entries"]
    if not isinstance(entries, list):
        raise TrafficError(file, "log.entries is not a list")
    return [_exchange(file, number, entry) for number, entry in enumerate(entries, start=1)]


def _exchange(file: str, number: int, entry: Any) -> RecordedExchange:
    where = f"log.entries[{number - 1}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
        raise TrafficError(file, f"{where}: an entry needs a request object")
    raw_request = entry["request"]
    if not isinstance(raw_request.get("method"), str) or not isinstance(raw_request.get("url"), str):
        raise TrafficError(file, f"{where}.request: method and url must be strings")
    request = RecordedRequest(
        method=raw_request["method"].upper(),
        url=raw_request["url"],
        headers=join_headers(_pairs(file, f"{where}.request.headers", raw_request.get("headers"))),
        body=_request_body(raw_request.get("postData")),
    )
    exchange = RecordedExchange(number, f"entry {number - 1}", request, None)
    raw_response = entry.get("response")
    if (
        not isinstance(raw_response, dict)
        or not isinstance(raw_response.get("status"), int)
        or raw_response["status"] <= 0
    ):
        exchange.notes.append("no response was recorded")
        return exchange
    exchange.response = RecordedResponse(
        status=raw_response["status"],
        headers=join_headers(_pairs(file, f"{where}.response.headers", raw_response.get("headers"))),
        body=_response_body(file, where, raw_response.get("content")),
        chunks=_chunks(raw_response.get("content")),
    )
    return exchange


def _pairs(file: str, where: str, headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, list):
        raise TrafficError(file, f"{where}: expected a list of {{name, value}} objects")
    pairs = []
    for header in headers:
        if not isinstance(header, dict) or not isinstance(header.get("name"), str):
            raise TrafficError(file, f"{where}: expected a list of {{name, value}} objects")
        pairs.append((header["name"], str(header.get("value", ""))))
    return pairs


def _request_body(post_data: Any) -> bytes | None:
    if not isinstance(post_data, dict):
        return None
    text = post_data.get("text")
    if isinstance(text, str):
        return text.encode("utf-8")
    params = post_data.get("params")
    if isinstance(params, list):
        # HAR may keep a form only as its fields.
        return urlencode([(p.get("name", ""), p.get("value", "")) for p in params if isinstance(p, dict)]).encode(
            "utf-8"
        )
    return None


def _response_body(file: str, where: str, content: Any) -> bytes | None:
    """The body bytes, or None when the recorder did not keep them."""
    if not isinstance(content, dict):
        return None
    text = content.get("text")
    if not isinstance(text, str):
        return b"" if content.get("size") == 0 else None
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise TrafficError(file, f"{where}.response.content.text: declared base64 but is not") from None
    return text.encode("utf-8")


def _chunks(content: Any) -> list[tuple[float, int]] | None:
    """``content._chunks`` as ``apitwin proxy --record`` writes it; None when absent or not understood."""
    raw = content.get("_chunks") if isinstance(content, dict) else None
    if not isinstance(raw, list):
        return None
    chunks = []
    for item in raw:
        offset = item.get("offset_ms") if isinstance(item, dict) else None
        size = item.get("size") if isinstance(item, dict) else None
        if not isinstance(offset, int | float) or not isinstance(size, int) or size < 0 or offset < 0:
            return None
        chunks.append((float(offset), size))
    return chunks
