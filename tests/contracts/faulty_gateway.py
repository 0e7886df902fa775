"""A test-only gateway in front of the mock that breaks ONE rule of the spec, to prove the fuzzer notices.

Each defect is a small, named transformation of what the healthy mock answered (or of how it is
delivered). The proxy is a plain ASGI app over ``httpx``, served by uvicorn on a loopback port.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import uvicorn

DEFECTS = (
    "none",
    "drop-required",
    "wrong-type",
    "model-null",
    "strip-sequence-number",
    "reorder-events",
    "buffer-stream",
    "server-error",
    "accept-invalid",
    "ignore-auth",
    "wrong-content-type",
    "drop-choice-index",
    "drop-stream-usage",
    "lose-created",
    "job-never-completes",
)
ID_FIELDS = ("id", "generation_id", "batch_id")
STATUS_FIELDS = ("status", "processing_status")
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding"}


class FaultyGateway:
    """ASGI app: forward to ``upstream``, apply ``defect`` to the answer."""

    def __init__(self, upstream: str, defect: str, api_key: str) -> None:
        if defect not in DEFECTS:
            raise ValueError(f"unknown defect {defect!r}; known: {', '.join(DEFECTS)}")
        self.upstream = upstream.rstrip("/")
        self.defect = defect
        self.api_key = api_key
        self.requests = 0
        self.calls: Counter[str] = Counter()
        """Requests seen per ``METHOD /path`` (the path as it arrived, query string excluded)."""
        self.created: dict[str, Any] = {}
        """Ids the upstream's 2xx answers to POSTs made, with the status each was created in."""

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        self.requests += 1
        self.calls[f"{scope['method']} {scope['path']}"] += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key.decode("latin-1").lower() not in ("host", "content-length")
        }
        if self.defect == "ignore-auth":
            headers = {key: value for key, value in headers.items() if key.lower() != "authorization"}
            headers["Authorization"] = f"Bearer {self.api_key}"
        url = self.upstream + scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        if self.defect == "lose-created" and self._names_created(url, body):
            content = b'{"error": {"message": "not found", "type": "invalid_request_error"}}'
            await _answer(send, 404, [(b"content-type", b"application/json")], [content])
            return
        async with (
            httpx.AsyncClient(timeout=30) as client,
            client.stream(scope["method"], url, headers=headers, content=body) as upstream,
        ):
            content_type = upstream.headers.get("content-type", "")
            if content_type.startswith("text/event-stream"):
                await self._stream(upstream, send)
                return
            await self._whole(upstream, await upstream.aread(), content_type, send)

    async def _whole(
        self, upstream: httpx.Response, content: bytes, content_type: str, send: Callable[..., Any]
    ) -> None:
        status = upstream.status_code
        if self.defect == "server-error" and status < 400:
            status, content, content_type = 500, b'{"error": {"message": "upstream exploded"}}', "application/json"
        elif self.defect == "accept-invalid" and status in (400, 422):
            status = 200
        elif status < 300 and content_type.startswith("application/json"):
            content, content_type = self._json(content, content_type)
        if status < 300 and content_type.startswith("application/json"):
            content = self._lifecycle(upstream.request.method, content)
        await _answer(send, status, _headers(upstream, content_type), [content])

    def _names_created(self, url: str, body: bytes) -> bool:
        text = url + body.decode("utf-8", errors="replace")
        return any(created in text for created in self.created)

    def _lifecycle(self, method: str, content: bytes) -> bytes:
        """Remember what POSTs created; with ``job-never-completes``, polls answer the status it was created in."""
        try:
            value = json.loads(content)
        except ValueError:
            return content
        if not isinstance(value, dict):
            return content
        made = [value[key] for key in ID_FIELDS if isinstance(value.get(key), str) and len(value[key]) >= 8]
        status_field = next((key for key in STATUS_FIELDS if key in value), None)
        if method == "POST":
            for created in made:
                self.created[created] = value.get(status_field) if status_field else None
            return content
        if self.defect == "job-never-completes" and status_field is not None:
            first = next((self.created[created] for created in made if self.created.get(created) is not None), None)
            if first is not None:
                value[status_field] = first
                return json.dumps(value).encode()
        return content

    def _json(self, content: bytes, content_type: str) -> tuple[bytes, str]:
        if self.defect == "wrong-content-type":
            return content, "text/plain"
        try:
            value = json.loads(content)
        except ValueError:
            return content, content_type
        if isinstance(value, dict):
            value = self._break_object(value)
        return json.dumps(value).encode(), content_type

    def _break_object(self, value: dict[str, Any]) -> dict[str, Any]:
        if self.defect == "drop-required":
            value.pop("id", None) if "id" in value else value.pop(next(iter(value)), None)
        elif self.defect == "wrong-type":
            key = "id" if "id" in value else next(iter(value), None)
            if key is not None:
                value[key] = 12345 if isinstance(value[key], str) else "not-the-declared-type"
        elif self.defect == "model-null" and "model" in value:
            value["model"] = None
        return value

    async def _stream(self, upstream: httpx.Response, send: Callable[..., Any]) -> None:
        headers = _headers(upstream, upstream.headers["content-type"])
        if self.defect == "reorder-events":
            events = _split_events(await upstream.aread())
            await _answer(send, upstream.status_code, headers, list(reversed(events)))
            return
        if self.defect == "buffer-stream":
            await _answer(send, upstream.status_code, headers, [await upstream.aread()])
            return
        await send({"type": "http.response.start", "status": upstream.status_code, "headers": headers})
        pending = b""
        async for chunk in upstream.aiter_raw():
            pending += chunk
            *events, pending = pending.split(b"\n\n")
            for event in events:
                await send({"type": "http.response.body", "body": self._event(event) + b"\n\n", "more_body": True})
        await send({"type": "http.response.body", "body": pending, "more_body": False})

    def _event(self, event: bytes) -> bytes:
        lines = event.split(b"\n")
        for index, line in enumerate(lines):
            if not line.startswith(b"data:") or line.strip() == b"data: [DONE]":
                continue
            try:
                payload = json.loads(line[5:])
            except ValueError:
                continue
            if isinstance(payload, dict):
                lines[index] = b"data: " + json.dumps(self._break_payload(payload)).encode()
        return b"\n".join(lines)

    def _break_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self.defect == "model-null" and "model" in payload:
            payload["model"] = None
        if self.defect == "model-null" and isinstance(payload.get("response"), dict):
            payload["response"]["model"] = None
        if self.defect == "strip-sequence-number":
            payload.pop("sequence_number", None)
        if self.defect == "drop-choice-index":
            for choice in payload.get("choices") or ():
                if isinstance(choice, dict):
                    choice.pop("index", None)
        if self.defect == "drop-stream-usage":
            payload.pop("usage", None)
        return payload


def _split_events(content: bytes) -> list[bytes]:
    return [event + b"\n\n" for event in content.split(b"\n\n") if event.strip()]


def _headers(upstream: httpx.Response, content_type: str) -> list[tuple[bytes, bytes]]:
    kept = [
        (key.encode(), value.encode())
        for key, value in upstream.headers.items()
        if key.lower() not in HOP_BY_HOP and key.lower() != "content-type"
    ]
    return [*kept, (b"content-type", content_type.encode())]


async def _answer(
    send: Callable[..., Any], status: int, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    for index, chunk in enumerate(chunks):
        await send({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})
    if not chunks:
        await send({"type": "http.response.body", "body": b"", "more_body": False})


@contextlib.contextmanager
def faulty_gateway(upstream: str, defect: str, api_key: str) -> Iterator[tuple[str, FaultyGateway]]:
    """Serve a :class:`FaultyGateway` on a free loopback port; yields its base URL and the app."""
    app = FaultyGateway(upstream, defect, api_key)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
