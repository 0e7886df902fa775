"""``--record DIR``: every exchange as a HAR 1.2 file of its own, credentials masked.

One file per exchange, written whole and renamed into place, so a proxy that is killed leaves only
complete recordings behind. A streamed answer keeps its timing in ``response.content._chunks``
(HAR allows fields starting with ``_``): each read from the upstream as ``{"offset_ms", "size"}``,
the offset counted from when the request was sent, so a replay can re-pace the events as recorded.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from apitwin.contracts.proxy.headers import masked_headers, masked_query

CREATOR = {"name": "apitwin proxy", "version": "1"}
SLUG = re.compile(r"[^A-Za-z0-9]+")


@dataclass(slots=True)
class Chunk:
    offset_ms: float
    size: int


@dataclass(slots=True)
class WireExchange:
    """One exchange as it went over the wire (before masking)."""

    started: float
    """Wall-clock seconds since the epoch when the request arrived."""
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    response_body: bytes
    """Decoded (without its content encoding), as a HAR keeps content."""
    chunks: list[Chunk]
    wait_ms: float
    """From sending the request to the response head."""
    total_ms: float
    http_version: str = "HTTP/1.1"


class Recorder:
    """Writes ``DIR/<run>-<n>-<method>-<path>.har``; ``secret_names`` adds the spec's own credential names."""

    def __init__(self, directory: Path, run: str, secret_names: tuple[str, ...] = ()) -> None:
        self.directory = directory
        self.run = run
        self.secret_names = secret_names
        self._numbers = itertools.count(1)
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, exchange: WireExchange) -> Path:
        number = next(self._numbers)
        path_slug = SLUG.sub("-", urlsplit(exchange.url).path).strip("-")[:60] or "root"
        target = self.directory / f"{self.run}-{number:05d}-{exchange.method.lower()}-{path_slug}.har"
        document = har_document([entry(exchange, self.secret_names)])
        temporary = target.with_suffix(".har.part")
        temporary.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, target)
        return target


def har_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": CREATOR, "entries": entries}}


def entry(exchange: WireExchange, secret_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """A HAR 1.2 entry with credentials (headers, cookies, query parameters) masked."""
    parts = urlsplit(exchange.url)
    query = masked_query(parts.query, secret_names)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    request_headers = masked_headers(exchange.request_headers, secret_names)
    response_headers = masked_headers(exchange.response_headers, secret_names)
    request: dict[str, Any] = {
        "method": exchange.method,
        "url": url,
        "httpVersion": exchange.http_version,
        "cookies": [],
        "headers": _pairs(request_headers),
        "queryString": _pairs(parse_qsl(query, keep_blank_values=True)),
        "headersSize": -1,
        "bodySize": len(exchange.request_body),
    }
    if exchange.request_body:
        request["postData"] = {"mimeType": _header(request_headers, "content-type"), **_text(exchange.request_body)}
    content = {
        "size": len(exchange.response_body),
        "mimeType": _header(response_headers, "content-type"),
        **_text(exchange.response_body),
        "_chunks": [{"offset_ms": round(chunk.offset_ms, 3), "size": chunk.size} for chunk in exchange.chunks],
    }
    receive = max(exchange.total_ms - exchange.wait_ms, 0.0)
    return {
        "startedDateTime": datetime.datetime.fromtimestamp(exchange.started, datetime.UTC).isoformat(),
        "time": round(exchange.total_ms, 3),
        "request": request,
        "response": {
            "status": exchange.status,
            "statusText": exchange.reason,
            "httpVersion": exchange.http_version,
            "cookies": [],
            "headers": _pairs(response_headers),
            "content": content,
            "redirectURL": _header(response_headers, "location"),
            "headersSize": -1,
            "bodySize": sum(chunk.size for chunk in exchange.chunks),
        },
        "cache": {},
        "timings": {"send": 0, "wait": round(exchange.wait_ms, 3), "receive": round(receive, 3)},
    }


def _pairs(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


def _text(body: bytes) -> dict[str, str]:
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}
